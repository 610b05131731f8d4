"""Vendor adapters: one module per vendor, built once at start-up from the settings."""

from __future__ import annotations

from receiver.providers.base import Provider
from receiver.providers.lightflow import LightFlowProvider
from receiver.providers.zencoder import ZencoderProvider
from receiver.settings import Settings

TOKEN_PROVIDERS: dict[str, type[Provider]] = {
    "zencoder": ZencoderProvider,
    "lightflow": LightFlowProvider,
}


def build_providers(settings: Settings) -> dict[str, Provider]:
    """The enabled providers: a vendor without a configured secret accepts nothing."""
    return {
        vendor: TOKEN_PROVIDERS[vendor](token) for vendor, token in settings.vendor_tokens.items()
    }
