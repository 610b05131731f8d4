"""CloudWatch alarm state changes, as SNS carries them in a Notification's Message."""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.common import BoundedList, Text, UTCDateTime, VendorSchema

ALARM_STATES = ("ALARM", "OK", "INSUFFICIENT_DATA")


class DimensionSchema(VendorSchema):
    name = Text(max_length=255, required=True, allow_none=False)
    value = Text(max_length=1024, required=True, allow_none=False)


class TriggerSchema(VendorSchema):
    MetricName = Text(max_length=255)
    Namespace = Text(max_length=255)
    Statistic = Text(max_length=64)
    # CloudWatch allows 30 dimensions per metric.
    Dimensions = BoundedList(fields.Nested(DimensionSchema), max_length=30, load_default=list)


class AlarmSchema(VendorSchema):
    AlarmName = Text(max_length=255, required=True, allow_none=False)
    AlarmArn = Text(max_length=1024)
    AlarmDescription = Text(max_length=2000)
    AWSAccountId = Text(max_length=32)
    Region = Text(max_length=64)
    NewStateValue = fields.String(required=True, validate=validate.OneOf(ALARM_STATES))
    NewStateReason = Text(max_length=2000)
    OldStateValue = Text(max_length=32)
    StateChangeTime = UTCDateTime(required=True, allow_none=False)
    Trigger = fields.Nested(TriggerSchema, load_default=dict)
