"""``/api/groups`` (what is failing, grouped) and the triage actions on groups and failures.

Reads take the same filters as the admin's landing page; actions go through
``receiver.alerts.triage`` like the admin's buttons and ``receiver groups …``. Actions need HTTP
Basic credentials: a browser's session cookie alone does not change state here (the admin's
forms carry a CSRF token, this API does not).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import abort, current_app, g, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from receiver.alerts import alert_rules
from receiver.alerts.overview import (
    GroupFilters,
    GroupQuerySchema,
    group_detail,
    group_page,
    row_as_dict,
)
from receiver.alerts.triage import (
    ACTIONS,
    MAX_NOTE,
    UNCHANGED,
    Actor,
    Outcome,
    change_failures,
    change_groups,
)
from receiver.backups import list_backups
from receiver.db import get_session, utcnow

blp = Blueprint(
    "api_groups", __name__, url_prefix="/api", description="Failure groups and their triage"
)
#: Ids one bulk action may name.
MAX_BULK = 500


class EventSchema(Schema):
    id = fields.Integer()
    at = fields.AwareDateTime()
    actor = fields.String(metadata={"description": "the operator, or `receiver` (automatic)"})
    via = fields.String(metadata={"description": "admin | api | cli | receiver"})
    action = fields.String(metadata={"description": "acknowledge | resolve | reopen"})
    from_state = fields.String()
    to_state = fields.String()
    note = fields.String(allow_none=True)
    group_id = fields.Integer(allow_none=True)
    failure_id = fields.Integer(allow_none=True)
    cause_id = fields.Integer(
        allow_none=True, metadata={"description": "the change this one followed from"}
    )
    failure_count = fields.Integer(
        allow_none=True, metadata={"description": "failures changed with the group"}
    )


class GroupSchema(Schema):
    id = fields.Integer()
    state = fields.String(metadata={"description": "open | acknowledged | resolved"})
    alert_state = fields.String(
        metadata={
            "description": "pending (not alerted) | firing | silenced | acknowledged | resolved"
        }
    )
    rule = fields.String()
    labels = fields.Dict(keys=fields.String(), values=fields.String())
    severity = fields.String(metadata={"description": "the worst among its failures"})
    code_name = fields.String(allow_none=True)
    action = fields.String(allow_none=True, metadata={"description": "the catalog's advice"})
    failure_count = fields.Integer()
    failures_last_24h = fields.Integer()
    trend_24h = fields.List(fields.Integer(), metadata={"description": "per hour, oldest first"})
    trend_start = fields.AwareDateTime(metadata={"description": "start of the trend's first hour"})
    job_count = fields.Integer(metadata={"description": "jobs affected"})
    backup_count = fields.Integer(metadata={"description": "failures with a backup copy"})
    first_occurred_at = fields.AwareDateTime(metadata={"description": "vendor's time"})
    last_occurred_at = fields.AwareDateTime(metadata={"description": "vendor's time"})
    first_received_at = fields.AwareDateTime(metadata={"description": "our time"})
    last_received_at = fields.AwareDateTime(metadata={"description": "our time"})
    reopened_count = fields.Integer(metadata={"description": "regressions"})
    acknowledged_at = fields.AwareDateTime(allow_none=True)
    acknowledged_by = fields.String(allow_none=True)
    resolved_at = fields.AwareDateTime(allow_none=True)
    resolved_by = fields.String(allow_none=True, metadata={"description": "None: by itself"})
    silenced_until = fields.AwareDateTime(allow_none=True)
    last_notified_at = fields.AwareDateTime(allow_none=True)
    fingerprint = fields.String(metadata={"description": "also PagerDuty's dedup_key"})


class BackupSchema(Schema):
    vendor = fields.String()
    job_id = fields.String(metadata={"description": "the vendor's job id"})
    job_kind = fields.String()
    output_id = fields.String(metadata={"description": "the vendor's output id"})
    label = fields.String(allow_none=True)
    url = fields.String(allow_none=True, metadata={"description": "the pre-signed backup URL"})
    expires_at = fields.String(
        allow_none=True, metadata={"description": "ISO 8601 UTC; null when the URL gives none"}
    )
    expired = fields.Boolean()
    failure_id = fields.Integer(allow_none=True)
    code = fields.String(allow_none=True)
    message = fields.String(allow_none=True)


class GroupDetailSchema(GroupSchema):
    events = fields.List(fields.Nested(EventSchema), metadata={"description": "newest first"})
    backups = fields.List(fields.Nested(BackupSchema))
    notifications = fields.List(fields.Dict(), metadata={"description": "as GET /api/alerts/<id>"})


class GroupPageSchema(Schema):
    items = fields.List(fields.Nested(GroupSchema))
    next_page = fields.Integer(allow_none=True)
    counts = fields.Dict(
        keys=fields.String(), values=fields.Integer(), metadata={"description": "per state"}
    )


class ActionSchema(Schema):
    note = fields.String(load_default=None, validate=validate.Length(max=MAX_NOTE))


class BulkActionSchema(ActionSchema):
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    ids = fields.List(
        fields.Integer(strict=True), required=True, validate=validate.Length(1, MAX_BULK)
    )


class OutcomeSchema(Schema):
    action = fields.String()
    changed = fields.List(fields.Integer())
    unchanged = fields.List(
        fields.Integer(), metadata={"description": "not in a state the action moves from"}
    )
    missing = fields.List(fields.Integer())
    failures_changed = fields.Integer(metadata={"description": "failures that followed groups"})
    groups_changed = fields.List(
        fields.Integer(), metadata={"description": "groups that followed failures"}
    )
    summary = fields.String()


class BackupQuerySchema(Schema):
    expiring_within_hours = fields.Integer(
        validate=validate.Range(1, 24 * 365),
        metadata={"description": "only copies still available that expire within this time"},
    )
    limit = fields.Integer(load_default=200, validate=validate.Range(1, 1000))


@blp.get("/groups")
@blp.arguments(GroupQuerySchema, location="query", as_kwargs=True)
@blp.response(200, GroupPageSchema)
def list_groups(page: int = 1, limit: int = 50, **args: Any) -> dict[str, Any]:
    """Groups, open first, then acknowledged, then resolved; most recently failing first."""
    catalog = current_app.extensions["catalog"]
    filters = GroupFilters.from_args(args)
    found = group_page(get_session(), catalog, filters, utcnow(), page, limit)
    return {
        "items": [row_as_dict(row) for row in found.rows],
        "next_page": page + 1 if found.has_next else None,
        "counts": found.counts,
    }


@blp.get("/groups/<int:group_id>")
@blp.response(200, GroupDetailSchema)
def get_group(group_id: int) -> dict[str, Any]:
    """One group: its state history, backup copies and alert messages."""
    detail = group_detail(get_session(), current_app.extensions["catalog"], group_id, utcnow())
    if detail is None:
        abort(404, f"no group {group_id}")
    return detail


@blp.post("/groups/actions")
@blp.arguments(BulkActionSchema)
@blp.response(200, OutcomeSchema)
def act_on_groups(body: dict[str, Any]) -> dict[str, Any]:
    """Acknowledge, resolve or reopen several groups (their failures follow)."""
    return _act(change_groups, "group", body["ids"], body["action"], body["note"])


@blp.post("/groups/<int:group_id>/<any(acknowledge, resolve, reopen):action>")
@blp.arguments(ActionSchema)
@blp.response(200, OutcomeSchema)
def act_on_group(body: dict[str, Any], group_id: int, action: str) -> dict[str, Any]:
    """Acknowledge, resolve or reopen one group (404 if it does not exist, 409 if the action
    does not apply to its state)."""
    return _act(change_groups, "group", [group_id], action, body["note"], single=True)


@blp.post("/failures/actions")
@blp.arguments(BulkActionSchema)
@blp.response(200, OutcomeSchema)
def act_on_failures(body: dict[str, Any]) -> dict[str, Any]:
    """Acknowledge, resolve or reopen several failures (their groups follow where the model
    says)."""
    return _act(change_failures, "failure", body["ids"], body["action"], body["note"])


@blp.post("/failures/<int:failure_id>/<any(acknowledge, resolve, reopen):action>")
@blp.arguments(ActionSchema)
@blp.response(200, OutcomeSchema)
def act_on_failure(body: dict[str, Any], failure_id: int, action: str) -> dict[str, Any]:
    """Acknowledge, resolve or reopen one failure."""
    return _act(change_failures, "failure", [failure_id], action, body["note"], single=True)


@blp.get("/backups")
@blp.arguments(BackupQuerySchema, location="query", as_kwargs=True)
@blp.response(200, BackupSchema(many=True))
def backups(limit: int, expiring_within_hours: int | None = None) -> list[dict[str, Any]]:
    """Outputs on the vendor's backup server: still available first, soonest deadline first."""
    now = utcnow()
    within = timedelta(hours=expiring_within_hours) if expiring_within_hours else None
    copies = list_backups(get_session(), now, expiring_within=within, limit=limit)
    return [copy.as_dict(now) for copy in copies]


def _act(
    change: Any, noun: str, ids: list[int], action: str, note: str | None, single: bool = False
) -> dict[str, Any]:
    if request.authorization is None:
        abort(401, "changing a state needs HTTP Basic credentials (curl -u)")
    session = get_session()
    outcome: Outcome = change(
        session, alert_rules(current_app), ids, action, Actor(g.admin_user, "api"), note
    )
    if single and outcome.missing:
        abort(404, f"no {noun} {ids[0]}")
    if single and outcome.unchanged:
        abort(409, f"{noun} {ids[0]} is {UNCHANGED[action]}")
    session.commit()
    return {**outcome.__dict__, "summary": outcome.summary(noun)}
