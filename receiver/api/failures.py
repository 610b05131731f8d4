"""``GET /api/failures`` (filtered keyset pages) and ``GET /api/failures/<id>``."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app
from flask_smorest import Blueprint
from marshmallow import ValidationError
from sqlalchemy.orm import joinedload

from receiver.api.schemas import FailureDetailSchema, FailurePageSchema, FailureQuerySchema
from receiver.db import get_session
from receiver.failures import Cursor, FailureFilters, failure_page, select_failures
from receiver.models import Failure, Job

blp = Blueprint(
    "api_failures", __name__, url_prefix="/api/failures", description="Failures, newest first"
)


@blp.get("")
@blp.arguments(FailureQuerySchema, location="query", as_kwargs=True)
@blp.response(200, FailurePageSchema)
def list_failures(cursor: str | None = None, limit: int = 50, **filters: Any) -> dict[str, Any]:
    """Failures matching the filters; follow `next_cursor` for older ones."""
    try:
        position = Cursor.decode(cursor) if cursor else None
    except ValidationError as error:
        abort(400, f"invalid cursor: {error.messages}")
    page = failure_page(get_session(), FailureFilters.from_args(filters), position, limit)
    return {
        "items": page.rows,
        "next_cursor": page.next_cursor.encode() if page.next_cursor else None,
    }


@blp.get("/<int:failure_id>")
@blp.response(200, FailureDetailSchema)
def get_failure(failure_id: int) -> dict[str, Any]:
    """One failure with its job, the job's inputs and outputs, and its catalog entry."""
    session = get_session()
    row = session.execute(select_failures(FailureFilters()).where(Failure.id == failure_id)).first()
    if row is None:
        abort(404, f"no failure {failure_id}")
    failure = session.get(
        Failure, failure_id, options=[joinedload(Failure.job).selectinload(Job.files)]
    )
    assert failure is not None
    entry = current_app.extensions["catalog"].lookup(failure.vendor, failure.code)
    return {
        **row._asdict(),
        "created_at": failure.created_at,
        "details": failure.details,
        "notification_id": failure.notification_id,
        "job": failure.job,
        "catalog": entry.to_dict(),
    }
