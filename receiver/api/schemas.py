"""Response schemas of the JSON API (they also generate its OpenAPI document)."""

from __future__ import annotations

from marshmallow import Schema, fields

from receiver.failures import FailureQuerySchema


class FailureSchema(Schema):
    id = fields.Integer()
    occurred_at = fields.AwareDateTime()
    vendor = fields.String()
    job_kind = fields.String(metadata={"description": "job | asset | task | stream"})
    job_id = fields.String(attribute="job_external_id", metadata={"description": "vendor's id"})
    file_kind = fields.String(allow_none=True, metadata={"description": "input | output"})
    file_id = fields.String(attribute="file_external_id", allow_none=True)
    output_label = fields.String(allow_none=True)
    code = fields.String()
    code_name = fields.String(allow_none=True)
    category = fields.String()
    severity = fields.String()
    retryable = fields.String(metadata={"description": "yes | no | backoff"})
    message = fields.String(allow_none=True)
    link = fields.String(allow_none=True)
    backup_server_used = fields.Boolean()
    status = fields.String(metadata={"description": "open | acknowledged | resolved"})


class FailurePageSchema(Schema):
    items = fields.List(fields.Nested(FailureSchema))
    next_cursor = fields.String(
        allow_none=True, metadata={"description": "pass as `cursor` for the next (older) page"}
    )


class CatalogEntrySchema(Schema):
    vendor = fields.String()
    code = fields.String()
    name = fields.String(allow_none=True)
    category = fields.String()
    severity = fields.String()
    retryable = fields.String()
    description = fields.String()
    action = fields.String()
    doc_url = fields.String(allow_none=True)
    known = fields.Boolean()
    details = fields.Dict(keys=fields.String(), values=fields.String())
    suggestions = fields.List(
        fields.String(), metadata={"description": "nearest known codes (unknown codes only)"}
    )


class JobFileSchema(Schema):
    kind = fields.String()
    external_id = fields.String()
    label = fields.String(allow_none=True)
    state = fields.String()
    error_class = fields.String(allow_none=True)
    error_message = fields.String(allow_none=True)
    backup_server_used = fields.Boolean()
    primary_upload_error_link = fields.String(allow_none=True)


class JobSchema(Schema):
    kind = fields.String()
    external_id = fields.String()
    state = fields.String()
    files = fields.List(fields.Nested(JobFileSchema))


class FailureDetailSchema(FailureSchema):
    created_at = fields.AwareDateTime()
    details = fields.Dict()
    notification_id = fields.Integer(allow_none=True)
    job = fields.Nested(JobSchema)
    catalog = fields.Nested(CatalogEntrySchema)


class CodesQuerySchema(Schema):
    vendor = fields.String()
    category = fields.String()


class ErrorSchema(Schema):
    message = fields.String(required=True)
    reason = fields.String()
    errors = fields.Dict()


__all__ = [
    "CatalogEntrySchema",
    "CodesQuerySchema",
    "ErrorSchema",
    "FailureDetailSchema",
    "FailurePageSchema",
    "FailureQuerySchema",
    "FailureSchema",
]
