"""Reading the alert history: groups, what was sent for them, every delivery attempt.

Shared by ``receiver alerts list/show`` and ``GET /api/alerts`` so both tell the same story.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from receiver.models import AlertGroup, AlertGroupFailure, AlertNotification, Silence

#: Failures listed with a group's detail (the admin list has them all, filtered).
DETAIL_FAILURES = 50


def group_history(
    session: Session, state: str | None = None, limit: int = 50, before: int | None = None
) -> list[dict[str, Any]]:
    """Groups, most recently active first, each with its notifications (no attempts)."""
    query = (
        select(AlertGroup)
        .options(selectinload(AlertGroup.notifications))
        .order_by(AlertGroup.last_seen_at.desc(), AlertGroup.id.desc())
        .limit(limit)
    )
    if state:
        query = query.where(AlertGroup.state == state)
    if before is not None:
        query = query.where(AlertGroup.id < before)
    return [
        {**_group(group), "notifications": [_notification(n) for n in group.notifications]}
        for group in session.scalars(query)
    ]


def group_detail(session: Session, group_id: int) -> dict[str, Any] | None:
    group = session.scalars(
        select(AlertGroup)
        .where(AlertGroup.id == group_id)
        .options(
            selectinload(AlertGroup.notifications).selectinload(AlertNotification.attempts_made)
        )
    ).one_or_none()
    if group is None:
        return None
    failure_ids = session.scalars(
        select(AlertGroupFailure.failure_id)
        .where(AlertGroupFailure.group_id == group_id)
        .order_by(AlertGroupFailure.failure_id.desc())
        .limit(DETAIL_FAILURES)
    ).all()
    return {
        **_group(group),
        "failure_ids": list(failure_ids),
        "notifications": [
            {
                **_notification(n),
                "title": n.title,
                "body": n.body,
                "attempts_made": [
                    {
                        "attempted_at": a.attempted_at,
                        "channel": a.channel,
                        "worker": a.worker,
                        "outcome": a.outcome,
                        "http_status": a.http_status,
                        "error": a.error,
                        "duration_ms": a.duration_ms,
                    }
                    for a in n.attempts_made
                ],
            }
            for n in group.notifications
        ],
    }


def silences(session: Session, active_at: Any = None) -> list[dict[str, Any]]:
    query = select(Silence).order_by(Silence.ends_at.desc())
    if active_at is not None:
        query = query.where(Silence.starts_at <= active_at, Silence.ends_at > active_at)
    return [
        {
            "id": s.id,
            "matchers": s.matchers,
            "author": s.author,
            "reason": s.reason,
            "starts_at": s.starts_at,
            "ends_at": s.ends_at,
        }
        for s in session.scalars(query)
    ]


def _group(group: AlertGroup) -> dict[str, Any]:
    return {
        "id": group.id,
        "fingerprint": group.fingerprint,
        "rule": group.rule,
        "labels": group.labels,
        "state": group.state,
        "failure_count": group.failure_count,
        "reopened_count": group.reopened_count,
        "first_seen_at": group.first_seen_at,
        "last_seen_at": group.last_seen_at,
        "last_notified_at": group.last_notified_at,
        "acknowledged_at": group.acknowledged_at,
        "acknowledged_by": group.acknowledged_by,
        "resolved_at": group.resolved_at,
        "resolved_by": group.resolved_by,
        "silenced_until": group.silenced_until,
    }


def _notification(note: AlertNotification) -> dict[str, Any]:
    return {
        "id": note.id,
        "channel": note.channel,
        "kind": note.kind,
        "status": note.status,
        "created_at": note.created_at,
        "due_at": note.due_at,
        "sent_at": note.sent_at,
        "attempts": note.attempts,
        "failure_count": note.failure_count,
        "last_error": note.last_error,
    }
