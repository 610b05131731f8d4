"""Kinesis Video Streams producer error reports, signed with Standard Webhooks."""

from __future__ import annotations

from pathlib import Path

from receiver.vendors.base import Provider
from receiver.vendors.declaration import Vendor, Wiring
from receiver.vendors.kvs.codes import KvsCodes
from receiver.vendors.kvs.provider import KvsProvider


def _endpoints(wiring: Wiring) -> dict[str, Provider]:
    secret = wiring.settings.kvs_secret
    return {"kvs": KvsProvider(secret, wiring.catalog)} if secret else {}


VENDOR = Vendor(
    name="kvs",
    title="Kinesis Video Streams",
    folder=Path(__file__).parent,
    endpoints=_endpoints,
    codes=KvsCodes(),
    docs={
        "errors": "https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/producer-sdk-errors.html",
        "standard-webhooks": "https://www.standardwebhooks.com/",
    },
)
