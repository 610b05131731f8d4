"""AWS Elemental MediaConvert job state changes, as Amazon EventBridge delivers them: the
EventBridge envelope (``id``, ``source: aws.mediaconvert``, ``detail-type: MediaConvert Job
State Change``, ``region``, ``time``) around the job's ``detail`` (``jobId``, ``status``,
``timestamp`` in epoch milliseconds, ``queue``, ``userMetadata``; ``errorCode`` and
``errorMessage`` on ERROR, ``warningCode`` and ``warningMessage`` on NEW_WARNING, ``warnings`` on
COMPLETE). Fields the receiver does not read (``outputGroupDetails``, ``inputDetails``) are
kept in the stored body only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import ValidationError, fields, validate

from schemas.common import INT32_MAX, BoundedList, IdField, Int32, Text, UTCDateTime, VendorSchema

SOURCE = "aws.mediaconvert"
DETAIL_TYPE = "MediaConvert Job State Change"
#: Epoch milliseconds up to the year 9999: later ones cannot be a datetime.
MAX_EPOCH_MS = 253_402_300_799_999
#: MediaConvert allows 10 userMetadata entries per job; room for more, but bounded.
MAX_USER_METADATA = 100


class EpochMilliseconds(fields.Field[datetime]):
    """A time in milliseconds since the Unix epoch (``detail.timestamp``), loaded as UTC."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError("must be milliseconds since the epoch (a number)")
        if not 0 <= value <= MAX_EPOCH_MS:  # also refuses NaN
            raise ValidationError("must be milliseconds since the epoch, from 1970 to 9999")
        return datetime.fromtimestamp(value / 1000, tz=UTC)


class NumericCode(fields.Field[str]):
    """A MediaConvert error or warning code: an integer (``1040``) or its digits as a string
    (``"270000"``), kept as the digits it was sent with."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool):
            raise ValidationError("must be an integer code")
        if isinstance(value, int) and 0 <= value <= INT32_MAX:
            return str(value)
        if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
            return value
        raise ValidationError("must be an integer code (digits)")


class Status(Text):
    """The event's ``detail.status``: becomes a job state (a 64-character column)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=64, allow_none=False, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not text.strip():
            raise ValidationError("must not be empty")
        return text


class WarningCountSchema(VendorSchema):
    """One entry of a COMPLETE event's ``warnings``: a warning code and how often it occurred."""

    code = NumericCode(required=True)
    count = Int32()


class JobProgressSchema(VendorSchema):
    jobPercentComplete = Int32()
    currentPhase = Text(max_length=64)


class DetailSchema(VendorSchema):
    timestamp = EpochMilliseconds(required=True)
    jobId = IdField(required=True)
    # Any status is taken: one AWS adds later is news about the job, not a malformed event.
    status = Status(required=True)
    accountId = Text(max_length=32)
    queue = Text(max_length=2048)
    previousQueue = Text(max_length=2048)
    errorCode = NumericCode(allow_none=True)
    errorMessage = Text()
    warningCode = NumericCode(allow_none=True)
    warningMessage = Text()
    # MediaConvert documents 18 warning codes: one entry each, with room to spare.
    warnings = BoundedList(fields.Nested(WarningCountSchema), max_length=100, load_default=list)
    userMetadata = fields.Dict(
        keys=Text(max_length=256, allow_none=False),
        values=Text(max_length=2048),
        load_default=dict,
        validate=validate.Length(max=MAX_USER_METADATA),
    )
    framesDecoded = fields.Integer(validate=validate.Range(0, 2**63 - 1), allow_none=True)
    jobProgress = fields.Nested(JobProgressSchema, allow_none=True)


class JobStateChangeSchema(VendorSchema):
    """An EventBridge event of MediaConvert's ``Job State Change`` type."""

    id = IdField(required=True)
    source = fields.String(required=True, validate=validate.Equal(SOURCE))
    detail_type = fields.String(
        required=True, data_key="detail-type", validate=validate.Equal(DETAIL_TYPE)
    )
    account = Text(max_length=32)
    region = Text(max_length=64)
    time = UTCDateTime()
    resources = BoundedList(Text(max_length=2048), max_length=20, load_default=list)
    detail = fields.Nested(DetailSchema, required=True)
