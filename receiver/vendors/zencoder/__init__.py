"""Zencoder (API v2): job and output notifications, JSON or XML, with a shared token."""

from __future__ import annotations

from pathlib import Path

from receiver.vendors.base import Provider
from receiver.vendors.declaration import Vendor, Wiring
from receiver.vendors.zencoder.codes import ZencoderCodes
from receiver.vendors.zencoder.provider import ZencoderProvider


def _endpoints(wiring: Wiring) -> dict[str, Provider]:
    token = wiring.settings.vendor_tokens.get("zencoder")
    return {"zencoder": ZencoderProvider(token)} if token else {}


VENDOR = Vendor(
    name="zencoder",
    title="Zencoder",
    folder=Path(__file__).parent,
    endpoints=_endpoints,
    codes=ZencoderCodes(),
    docs={
        "notifications": "https://zencoder.support.brightcove.com/encoding-settings/general/encoding-settings-notifications.html",
        "errors": "https://zencoder.support.brightcove.com/error-troubleshooting/error-codes/index.html",
    },
)
