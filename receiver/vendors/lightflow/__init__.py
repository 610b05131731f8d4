"""LightFlow: asset callbacks (POST, the asset as JSON), with a shared token."""

from __future__ import annotations

from pathlib import Path

from receiver.vendors.base import Provider
from receiver.vendors.declaration import Vendor, Wiring
from receiver.vendors.lightflow.codes import LightFlowCodes
from receiver.vendors.lightflow.provider import LightFlowProvider


def _endpoints(wiring: Wiring) -> dict[str, Provider]:
    token = wiring.settings.vendor_tokens.get("lightflow")
    return {"lightflow": LightFlowProvider(token)} if token else {}


VENDOR = Vendor(
    name="lightflow",
    title="LightFlow",
    folder=Path(__file__).parent,
    endpoints=_endpoints,
    codes=LightFlowCodes(),
    docs={
        "callbacks": "https://doc.haivision.com/LightFlow/1.0/callbacks",
        "errors": "https://doc.haivision.com/LightFlow/1.0/api-errors",
    },
)
