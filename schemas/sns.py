"""Amazon SNS HTTP(S) deliveries (the message they carry is another vendor's to read)."""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.common import IdField, Text, UTCDateTime, VendorSchema

MESSAGE_TYPES = ("SubscriptionConfirmation", "Notification", "UnsubscribeConfirmation")


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
