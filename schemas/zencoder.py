"""Zencoder API v2 notifications: an output notification carries ``output``, ``job`` and
``input``; a job notification carries ``job``, ``input`` and an ``outputs`` list."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validates_schema

from schemas.common import BoundedList, IdField, Int32, Int64, Text, UTCDateTime, VendorSchema

#: Outputs in one job notification: Zencoder allows far fewer per job; more is not Zencoder.
MAX_OUTPUTS = 1000


class MediaFileSchema(VendorSchema):
    """An input or output file; the rich (v2) backup-server fields only appear when used."""

    id = IdField(required=True)
    state = Text(max_length=64, required=True, allow_none=False)
    label = Text(max_length=255)
    url = Text()
    format = Text(max_length=64)
    video_codec = Text(max_length=64)
    audio_codec = Text(max_length=64)
    width = Int32()
    height = Int32()
    duration_in_ms = Int64()
    file_size_in_bytes = Int64()
    error_class = Text(max_length=128)
    error_message = Text()
    error_link = Text()
    backup_server_used = fields.Boolean(allow_none=True)
    primary_upload_error_message = Text()
    primary_upload_error_link = Text()
    primary_thumbnail_upload_error_message = Text()
    primary_thumbnail_upload_error_link = Text()


class JobSchema(VendorSchema):
    id = IdField(required=True)
    state = Text(max_length=64, required=True, allow_none=False)
    pass_through = Text(max_length=2000)
    test = fields.Boolean(allow_none=True)
    created_at = UTCDateTime()
    updated_at = UTCDateTime()
    submitted_at = UTCDateTime()


class NotificationSchema(VendorSchema):
    job = fields.Nested(JobSchema, required=True)
    input = fields.Nested(MediaFileSchema, allow_none=True)
    output = fields.Nested(MediaFileSchema, allow_none=True)
    outputs = BoundedList(fields.Nested(MediaFileSchema), max_length=MAX_OUTPUTS, allow_none=True)

    @validates_schema
    def one_kind_of_output(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("output") and data.get("outputs"):
            raise ValidationError("send either `output` or `outputs`, not both", "outputs")
