"""Agora: Notification Callback Service (NCS) events, and the API-error reports our users' own
code posts when a Cloud Transcoding REST call fails (a format this project defines)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from schemas.common import IdField, Int32, Int64, Text, UTCDateTime, VendorSchema

#: Cloud Transcoding event types: started, stopped, status changed, updated.
TRANSCODER_EVENTS = {110: "started", 111: "stopped", 112: "status", 113: "updated"}


class TranscoderDetailsSchema(VendorSchema):
    event = Text(max_length=64)
    state = Text(max_length=255)  # 112: e.g. "running"
    stopReason = Text(max_length=1000)  # 111: e.g. "Stop request"
    createTs = Int64()
    updateTs = Int64()


class TranscoderPayloadSchema(VendorSchema):
    taskId = IdField(required=True)
    instanceId = Text(max_length=255)
    # Orders the events of one task; stored as the job's state rank (a 32-bit column).
    sequence = Int32(required=True, allow_none=False)
    sendts = Int64()  # Unix milliseconds
    serviceScene = Text(max_length=255)
    details = fields.Nested(TranscoderDetailsSchema, load_default=dict)


class NotificationSchema(VendorSchema):
    noticeId = IdField(required=True)
    productId = IdField(load_default=None, allow_none=True)
    eventType = Int32(required=True, allow_none=False)
    notifyMs = Int64()
    # Other Agora products may share the NCS URL; only transcoder payloads are validated further.
    payload = fields.Dict(required=True)

    @post_load
    def _transcoder_payload(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if data["eventType"] in TRANSCODER_EVENTS:
            try:
                data["payload"] = TranscoderPayloadSchema().load(data["payload"])
            except ValidationError as error:
                raise ValidationError({"payload": error.messages}) from None
        return data


class ApiErrorSchema(VendorSchema):
    """One failed Cloud Transcoding REST call, as reported to POST /hooks/agora/api-errors."""

    status = fields.Integer(required=True, strict=True, validate=validate.Range(100, 599))
    requestId = Text(max_length=255)  # the X-Request-ID response header
    resourceId = Text(max_length=255)  # the X-Resource-ID response header
    taskId = Text(max_length=255)
    instanceId = Text(max_length=255)
    method = Text(max_length=16)
    path = Text(max_length=2000)
    message = Text()
    occurredAt = UTCDateTime()

    @validates_schema
    def _names_a_transcoder(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not (data.get("taskId") or data.get("instanceId")):
            raise ValidationError("give taskId or instanceId", "taskId")
