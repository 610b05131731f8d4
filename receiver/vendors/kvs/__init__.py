"""Kinesis Video Streams producer error reports, signed with Standard Webhooks."""

from __future__ import annotations

from pathlib import Path

from receiver.settings import Setting, standard_webhooks_secret
from receiver.vendors.base import Provider
from receiver.vendors.declaration import Vendor, Wiring
from receiver.vendors.kvs.codes import KvsCodes
from receiver.vendors.kvs.provider import KvsProvider

SECRET = Setting[str | None](
    "RECEIVER_KVS_SECRET",
    "Standard Webhooks secret, `whsec_` + base64 of ≥ 24 random bytes",
    None,
    standard_webhooks_secret,
    secret=True,
    shown_default="unset = KVS reports disabled",
)


def _endpoints(wiring: Wiring) -> dict[str, Provider]:
    secret = SECRET.value(wiring.settings)
    return {"kvs": KvsProvider(secret, wiring.catalog)} if secret else {}


VENDOR = Vendor(
    name="kvs",
    title="Kinesis Video Streams",
    folder=Path(__file__).parent,
    settings=(SECRET,),
    endpoints=_endpoints,
    codes=KvsCodes(),
    docs={
        "errors": "https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/producer-sdk-errors.html",
        "standard-webhooks": "https://www.standardwebhooks.com/",
    },
)
