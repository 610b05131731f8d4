"""How the tests enable Zencoder (its token; the provider signs as Zencoder would)."""

from tests.helpers import TOKENS

SETTINGS = {"RECEIVER_ZENCODER_TOKEN": TOKENS["zencoder"]}
