"""Agora Cloud Transcoding: NCS events, and the REST failures our users' code reports, both
signed with the NCS secret."""

from __future__ import annotations

from pathlib import Path

from receiver.settings import Setting, random_secret, shared_secret
from receiver.vendors.agora.codes import AgoraCodes
from receiver.vendors.agora.provider import AgoraApiErrorProvider, AgoraProvider
from receiver.vendors.declaration import Vendor, enabled_by
from receiver.vendors.fixture_dates import FixtureDates

#: The endpoint of client-reported Agora REST failures (POST /hooks/agora/api-errors).
API_ERRORS = "agora/api-errors"

SECRET = Setting[str | None](
    "RECEIVER_AGORA_SECRET",
    "NCS secret from Agora Console (≥ 16 characters); also signs `/hooks/agora/api-errors`",
    None,
    shared_secret,
    secret=True,
    shown_default="unset = Agora disabled; `receiver run` generates one",
    local_value=random_secret,
)


VENDOR = Vendor(
    name="agora",
    title="Agora Cloud Transcoding",
    folder=Path(__file__).parent,
    settings=(SECRET,),
    endpoints=enabled_by(
        SECRET,
        lambda secret, _wiring: {
            "agora": AgoraProvider(secret),
            API_ERRORS: AgoraApiErrorProvider(secret),
        },
    ),
    codes=AgoraCodes(),
    docs={
        "notifications": "https://docs.agora.io/en/cloud-transcoding/reference/webhooks/ncs-events",
        "errors": "https://docs.agora.io/en/cloud-transcoding/reference/status-codes",
    },
    fixture_endpoints=(("api_error_*", API_ERRORS),),
    # NCS times are epoch milliseconds, the transcoder's own epoch seconds; reports are ISO.
    fixture_dates=FixtureDates(
        iso=("occurredAt",),
        epoch=(("notifyMs", 1000), ("sendts", 1000), ("createTs", 1), ("updateTs", 1)),
    ),
)
