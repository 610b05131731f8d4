"""Zencoder (API v2): job and output notifications, JSON or XML, with a shared token."""

from __future__ import annotations

from pathlib import Path

from receiver.vendors.declaration import Vendor, shared_token, token_endpoint
from receiver.vendors.fixture_dates import FixtureDates
from receiver.vendors.zencoder.codes import ZencoderCodes
from receiver.vendors.zencoder.provider import ZencoderProvider

TOKEN = shared_token("RECEIVER_ZENCODER_TOKEN", "Zencoder")

VENDOR = Vendor(
    name="zencoder",
    title="Zencoder",
    folder=Path(__file__).parent,
    settings=(TOKEN,),
    endpoints=token_endpoint("zencoder", ZencoderProvider, TOKEN),
    codes=ZencoderCodes(),
    docs={
        "notifications": "https://zencoder.support.brightcove.com/encoding-settings/general/encoding-settings-notifications.html",
        "errors": "https://zencoder.support.brightcove.com/error-troubleshooting/error-codes/index.html",
    },
    # A backup copy's pre-signed URL expires a while after the job: its Expires moves along.
    fixture_dates=FixtureDates(
        iso=("created_at", "updated_at", "submitted_at"), url_epoch_seconds=("Expires",)
    ),
)
