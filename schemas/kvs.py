"""Kinesis Video Streams producer error reports: this project's format (see the README), one
report per ``streamErrorReportFn`` call, posted alone or as a batch (a JSON array)."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError, fields

from schemas.common import Int64, Text, UTCDateTime, VendorSchema

#: A device buffers reports while offline; this bounds one batch.
MAX_BATCH = 500
_STATUS_TEXT = re.compile(r"(0[xX])?[0-9a-fA-F]{1,16}")


class StatusField(fields.Field[int | str]):
    """A producer SDK STATUS: an integer (as the C callback gets it) or a hex string
    (``"0x5200005c"``, as the SDK logs print it). The catalog decides its canonical spelling."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int | str:
        if isinstance(value, bool):
            raise ValidationError("must be an integer or a hex string like '0x5200005c'")
        if isinstance(value, int):
            # Signed readings of 32/64-bit statuses (-1 is a 64-bit sentinel) are accepted too.
            if not -(2**63) <= value < 2**64:
                raise ValidationError("must fit in 64 bits")
            return value
        if isinstance(value, str) and _STATUS_TEXT.fullmatch(value.strip()):
            return value.strip()
        raise ValidationError("must be an integer or a hex string like '0x5200005c'")


class ReportSchema(VendorSchema):
    streamName = Text(max_length=256, required=True, allow_none=False)
    streamArn = Text(max_length=1024)
    deviceId = Text(max_length=255)
    status = StatusField(required=True)
    # The timecode of the errored fragment, as the callback gets it (100 ns units).
    erroredTimecode = Int64()
    uploadHandle = Int64()
    message = Text()
    sdkVersion = Text(max_length=64)
    occurredAt = UTCDateTime()
