"""Kinesis Video Streams producer error reports, signed with Standard Webhooks."""

from __future__ import annotations

from pathlib import Path

from receiver.settings import Setting, random_standard_webhooks_secret, standard_webhooks_secret
from receiver.vendors.declaration import Vendor, enabled_by
from receiver.vendors.fixture_dates import FixtureDates
from receiver.vendors.kvs.codes import KvsCodes
from receiver.vendors.kvs.provider import KvsProvider

SECRET = Setting[str | None](
    "RECEIVER_KVS_SECRET",
    "Standard Webhooks secret, `whsec_` + base64 of ≥ 24 random bytes",
    None,
    standard_webhooks_secret,
    secret=True,
    shown_default="unset = KVS reports disabled; `receiver run` generates one",
    local_value=random_standard_webhooks_secret,
)


VENDOR = Vendor(
    name="kvs",
    title="Kinesis Video Streams",
    folder=Path(__file__).parent,
    settings=(SECRET,),
    endpoints=enabled_by(
        SECRET, lambda secret, wiring: {"kvs": KvsProvider(secret, wiring.catalog)}
    ),
    codes=KvsCodes(),
    docs={
        "errors": "https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/producer-sdk-errors.html",
        "standard-webhooks": "https://www.standardwebhooks.com/",
    },
    # Not erroredTimecode: it names the errored fragment (the failure), it is not a clock.
    fixture_dates=FixtureDates(iso=("occurredAt",)),
)
