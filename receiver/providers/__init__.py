"""Vendor adapters: one module per vendor, built once at start-up from the settings."""

from __future__ import annotations

from receiver.providers.agora import AgoraApiErrorProvider, AgoraProvider
from receiver.providers.base import Provider
from receiver.providers.kvs import KvsProvider
from receiver.providers.lightflow import LightFlowProvider
from receiver.providers.sns import SnsProvider
from receiver.providers.zencoder import ZencoderProvider
from receiver.settings import Settings

TOKEN_PROVIDERS: dict[str, type[Provider]] = {
    "zencoder": ZencoderProvider,
    "lightflow": LightFlowProvider,
}


#: The endpoint of client-reported Agora REST failures (POST /hooks/agora/api-errors); the slash
#: keeps the generic /hooks/<vendor> route from reaching it.
AGORA_API_ERRORS = "agora/api-errors"


def build_providers(settings: Settings) -> dict[str, Provider]:
    """The enabled providers by endpoint: a vendor without a configured secret accepts nothing."""
    providers: dict[str, Provider] = {
        vendor: TOKEN_PROVIDERS[vendor](token) for vendor, token in settings.vendor_tokens.items()
    }
    if settings.agora_secret:
        providers["agora"] = AgoraProvider(settings.agora_secret)
        providers[AGORA_API_ERRORS] = AgoraApiErrorProvider(settings.agora_secret)
    if settings.kvs_secret:
        providers["kvs"] = KvsProvider(settings.kvs_secret)
    if settings.sns_topic_arns:
        providers["sns"] = SnsProvider(settings.sns_topic_arns)
    return providers
