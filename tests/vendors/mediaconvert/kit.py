"""How the tests enable MediaConvert (its token; the provider sends it as an EventBridge
connection's API-key header would)."""

TOKEN = "mediaconvert-test-token-0123456789"
SETTINGS = {"RECEIVER_MEDIACONVERT_TOKEN": TOKEN}
