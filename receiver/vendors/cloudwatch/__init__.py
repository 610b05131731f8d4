"""Amazon CloudWatch alarms (on Kinesis Video Streams metrics), as SNS carries them."""

from __future__ import annotations

from pathlib import Path

from receiver.vendors.cloudwatch.alarms import CloudWatchAlarms
from receiver.vendors.cloudwatch.codes import CloudWatchCodes
from receiver.vendors.declaration import Vendor
from receiver.vendors.fixture_dates import FixtureDates

VENDOR = Vendor(
    name="cloudwatch",
    title="Amazon CloudWatch alarms",
    folder=Path(__file__).parent,
    codes=CloudWatchCodes(),
    carried=CloudWatchAlarms(),
    docs={
        "alarms-via-sns": "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html",
        "metrics": "https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/monitoring-cloudwatch.html",
    },
    # Its fixtures are the SNS notifications that carry the alarms.
    fixture_endpoints=(("*", "sns"),),
    # The SNS envelope's Timestamp and the alarm's own times (in the JSON of its Message).
    fixture_dates=FixtureDates(
        iso=("Timestamp", "StateChangeTime", "AlarmConfigurationUpdatedTimestamp")
    ),
)
