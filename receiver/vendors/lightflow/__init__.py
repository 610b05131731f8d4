"""LightFlow: asset callbacks (POST, the asset as JSON), with a shared token."""

from __future__ import annotations

from pathlib import Path

from receiver.vendors.declaration import Vendor, shared_token, token_endpoint
from receiver.vendors.fixture_dates import FixtureDates
from receiver.vendors.lightflow.codes import LightFlowCodes
from receiver.vendors.lightflow.provider import LightFlowProvider

TOKEN = shared_token("RECEIVER_LIGHTFLOW_TOKEN", "LightFlow")

VENDOR = Vendor(
    name="lightflow",
    title="LightFlow",
    folder=Path(__file__).parent,
    settings=(TOKEN,),
    endpoints=token_endpoint("lightflow", LightFlowProvider, TOKEN),
    codes=LightFlowCodes(),
    docs={
        "callbacks": "https://doc.haivision.com/LightFlow/1.0/callbacks",
        "errors": "https://doc.haivision.com/LightFlow/1.0/api-errors",
    },
    fixture_dates=FixtureDates(iso=("startDate", "endDate")),
)
