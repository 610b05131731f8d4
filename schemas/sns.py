"""Amazon SNS HTTP(S) deliveries, and the CloudWatch alarm carried in a Notification's Message."""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.common import BoundedList, IdField, Text, UTCDateTime, VendorSchema

MESSAGE_TYPES = ("SubscriptionConfirmation", "Notification", "UnsubscribeConfirmation")
ALARM_STATES = ("ALARM", "OK", "INSUFFICIENT_DATA")


class MessageSchema(VendorSchema):
    # A closed set of values: plain strings are safe to store.
    Type = fields.String(required=True, validate=validate.OneOf(MESSAGE_TYPES))
    MessageId = IdField(required=True)
    TopicArn = Text(max_length=1024, required=True, allow_none=False)
    Subject = Text(max_length=1000)
    Message = Text(max_length=300_000, required=True, allow_none=False)  # SNS caps it at 256 KiB
    Timestamp = UTCDateTime(required=True)
    SignatureVersion = Text(max_length=8)
    Signature = Text(max_length=4096)
    SigningCertURL = Text(max_length=2048)
    SubscribeURL = Text(max_length=4096)
    UnsubscribeURL = Text(max_length=4096)
    Token = Text(max_length=4096)


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
