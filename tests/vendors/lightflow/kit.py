"""How the tests enable LightFlow (its token; the provider signs as LightFlow would)."""

from tests.helpers import TOKENS

SETTINGS = {"RECEIVER_LIGHTFLOW_TOKEN": TOKENS["lightflow"]}
