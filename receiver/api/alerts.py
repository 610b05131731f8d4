"""``GET /api/alerts`` (groups with what was sent), ``GET /api/alerts/<id>`` (every attempt) and
``GET /api/alerts/silences``: the alert history, readable after the fact."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate

from receiver.alerts import history
from receiver.alerts.groups import GROUP_STATES
from receiver.db import get_session, utcnow

blp = Blueprint(
    "api_alerts", __name__, url_prefix="/api/alerts", description="Alert groups and deliveries"
)


class AlertQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    state = fields.String(validate=validate.OneOf(GROUP_STATES))
    before = fields.Integer(metadata={"description": "only groups with a smaller id (paging)"})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))


class SilenceQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    all = fields.Boolean(load_default=False, metadata={"description": "include expired ones"})


class AttemptSchema(Schema):
    attempted_at = fields.AwareDateTime()
    channel = fields.String()
    worker = fields.String()
    outcome = fields.String(metadata={"description": "ok | error"})
    http_status = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    duration_ms = fields.Integer()


class AlertNotificationSchema(Schema):
    id = fields.Integer()
    channel = fields.String()
    kind = fields.String(metadata={"description": "firing | repeat | regression | resolved"})
    status = fields.String(
        metadata={"description": "pending | sent | failed | cancelled | suppressed"}
    )
    created_at = fields.AwareDateTime()
    due_at = fields.AwareDateTime()
    sent_at = fields.AwareDateTime(allow_none=True)
    attempts = fields.Integer()
    failure_count = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)


class AlertNotificationDetailSchema(AlertNotificationSchema):
    title = fields.String(allow_none=True)
    body = fields.String(allow_none=True)
    attempts_made = fields.List(fields.Nested(AttemptSchema))


class AlertGroupSchema(Schema):
    id = fields.Integer()
    fingerprint = fields.String(metadata={"description": "also PagerDuty's dedup_key"})
    rule = fields.String()
    labels = fields.Dict(keys=fields.String(), values=fields.String())
    state = fields.String(metadata={"description": ", ".join(GROUP_STATES)})
    failure_count = fields.Integer()
    reopened_count = fields.Integer()
    first_seen_at = fields.AwareDateTime()
    last_seen_at = fields.AwareDateTime()
    last_notified_at = fields.AwareDateTime(allow_none=True)
    acknowledged_at = fields.AwareDateTime(allow_none=True)
    acknowledged_by = fields.String(allow_none=True)
    resolved_at = fields.AwareDateTime(allow_none=True)
    resolved_by = fields.String(allow_none=True, metadata={"description": "None: by itself"})
    silenced_until = fields.AwareDateTime(allow_none=True)
    notifications = fields.List(fields.Nested(AlertNotificationSchema))


class AlertGroupDetailSchema(AlertGroupSchema):
    failure_ids = fields.List(fields.Integer(), metadata={"description": "the latest 50"})
    notifications = fields.List(fields.Nested(AlertNotificationDetailSchema))


class SilenceSchema(Schema):
    id = fields.Integer()
    matchers = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    author = fields.String()
    reason = fields.String()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()


@blp.get("")
@blp.arguments(AlertQuerySchema, location="query", as_kwargs=True)
@blp.response(200, AlertGroupSchema(many=True))
def list_alerts(
    state: str | None = None, before: int | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """Alert groups, most recently active first, with the notifications sent for each."""
    return history.group_history(get_session(), state=state, limit=limit, before=before)


@blp.get("/<int:group_id>")
@blp.response(200, AlertGroupDetailSchema)
def get_alert(group_id: int) -> dict[str, Any]:
    """One group: its failures, every notification and every delivery attempt."""
    group = history.group_detail(get_session(), group_id)
    if group is None:
        abort(404, f"no alert group {group_id}")
    return group


@blp.get("/silences")
@blp.arguments(SilenceQuerySchema, location="query", as_kwargs=True)
@blp.response(200, SilenceSchema(many=True))
def list_silences(all: bool = False) -> list[dict[str, Any]]:
    """Silences (active ones unless `all`)."""
    return history.silences(get_session(), active_at=None if all else utcnow())
