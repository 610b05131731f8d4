"""AWS Elemental MediaConvert job state changes, via Amazon EventBridge: an API destination
with a shared token (``/hooks/mediaconvert``), or an SNS topic (``/hooks/sns``)."""

from __future__ import annotations

from pathlib import Path

from receiver.vendors.declaration import Vendor, shared_token, token_endpoint
from receiver.vendors.fixture_dates import FixtureDates
from receiver.vendors.mediaconvert.codes import (
    ERROR_CODES_URL,
    WARNING_CODES_URL,
    MediaConvertCodes,
)
from receiver.vendors.mediaconvert.provider import MediaConvertEvents, MediaConvertProvider

TOKEN = shared_token("RECEIVER_MEDIACONVERT_TOKEN", "MediaConvert")

VENDOR = Vendor(
    name="mediaconvert",
    title="AWS Elemental MediaConvert",
    folder=Path(__file__).parent,
    settings=(TOKEN,),
    endpoints=token_endpoint("mediaconvert", MediaConvertProvider, TOKEN),
    codes=MediaConvertCodes(),
    carried=MediaConvertEvents(),
    docs={
        "events": "https://docs.aws.amazon.com/mediaconvert/latest/ug/mediaconvert_event_list.html",
        "errors": ERROR_CODES_URL,
        "warnings": WARNING_CODES_URL,
        "api-destinations": "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-api-destinations.html",
    },
    # Events an EventBridge rule sends to an SNS topic arrive wrapped in SNS notifications.
    fixture_endpoints=(("sns_*", "sns"),),
    # EventBridge's `time`, the job's `timestamp` (epoch ms), and an SNS envelope's `Timestamp`.
    fixture_dates=FixtureDates(iso=("time", "Timestamp"), epoch=(("timestamp", 1000),)),
)
