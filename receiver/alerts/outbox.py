"""The outbox table's writes: scheduling a message, claiming due ones, settling an attempt.

Scheduling runs inside the caller's transaction (the ingest transaction for new failures), so a
message exists exactly when the failures it is about were committed. At most one message per
group and channel waits at a time (a partial unique index): a burst moves that message's due time
earlier at most, it never adds a second one — that is what makes 100 failures one notification.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, insert, or_, select, text, update
from sqlalchemy.orm import Session

from receiver.alerts.channels import Delivery
from receiver.db import insert_for
from receiver.direct_sql import execute_many
from receiver.models import AlertNotification, DeliveryAttempt

PENDING = text("status = 'pending'")

#: Kinds of message. ``firing`` (first or news), ``repeat`` (still firing, nothing new),
#: ``regression`` (a resolved group got new failures), ``resolved``.
FIRING_KINDS = ("firing", "repeat", "regression")

BACKOFF_BASE = timedelta(seconds=5)
BACKOFF_CAP = timedelta(minutes=10)


def schedule(
    session: Session,
    group_id: int,
    channels: Iterable[str],
    kind: str,
    due_at: datetime,
    now: datetime,
    replace: bool = True,
) -> None:
    """Make sure a message of ``kind`` waits for each channel, due no later than ``due_at``.

    ``replace``: a waiting message takes the new kind (a waiting ``repeat`` becomes news) and the
    earlier due time; otherwise a waiting message is left alone.
    """
    values = [
        {
            "group_id": group_id,
            "channel": channel,
            "kind": kind,
            "status": "pending",
            "created_at": now,
            "due_at": due_at,
            "attempts": 0,
        }
        for channel in channels
    ]
    if values:
        # Flushed first, as the session's execute would (a message closed by the caller must
        # not be the one this upsert finds waiting), then a Core executemany on its connection:
        # the ORM session's execute path cost more than the statement.
        session.flush()
        connection = session.connection()
        execute_many(connection, _schedule_statement(connection.dialect.name, replace), values)


@functools.cache
def _schedule_statement(dialect: str, replace: bool) -> Any:
    # Built once and run with parameters: ingest pays for the statement, not for compiling it.
    # On the table, not the mapped class: a Core executemany, without the ORM's bulk machinery.
    table = AlertNotification.__table__
    statement = insert_for(dialect)(table)
    target = {"index_elements": ["group_id", "channel"], "index_where": PENDING}
    if not replace:
        return statement.on_conflict_do_nothing(**target)
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        **target,
        set_={
            # A waiting regression stays one: more failures do not make it less news.
            "kind": case((table.c.kind == "regression", table.c.kind), else_=excluded.kind),
            "due_at": case(
                (excluded.due_at < table.c.due_at, excluded.due_at), else_=table.c.due_at
            ),
        },
    )


def cancel_waiting(session: Session, group_ids: Sequence[int], reason: str) -> None:
    """Withdraw messages not yet sent (the group was acknowledged or resolved)."""
    if group_ids:
        session.execute(
            update(AlertNotification)
            .where(AlertNotification.group_id.in_(group_ids), AlertNotification.status == "pending")
            .values(status="cancelled", last_error=reason, lease_owner=None, lease_expires_at=None)
        )


def claim(session: Session, owner: str, now: datetime, lease: timedelta, limit: int) -> list[int]:
    """Lease up to ``limit`` due messages to ``owner`` and commit; return their ids.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED`` lets several workers claim side by side without
    waiting on each other or taking the same row. SQLite has no row locks, but the ``UPDATE``
    re-checks the lease under the database's single write lock, so a row is never leased twice.
    A worker that dies keeps its rows until the lease expires; then anyone may claim them.
    """
    claimable = (
        AlertNotification.status == "pending",
        AlertNotification.due_at <= now,
        or_(
            AlertNotification.lease_expires_at.is_(None), AlertNotification.lease_expires_at <= now
        ),
    )
    candidates = session.scalars(
        select(AlertNotification.id)
        .where(*claimable)
        .order_by(AlertNotification.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not candidates:
        session.rollback()
        return []
    claimed = session.scalars(
        update(AlertNotification)
        .where(AlertNotification.id.in_(candidates), *claimable)
        .values(lease_owner=owner, lease_expires_at=now + lease)
        .returning(AlertNotification.id)
    ).all()
    session.commit()
    return sorted(claimed)


def record_attempt(
    session: Session,
    message_id: int,
    channel: str,
    worker: str,
    attempted_at: datetime,
    delivery: Delivery,
    duration_ms: int,
) -> None:
    session.execute(
        insert(DeliveryAttempt).values(
            notification_id=message_id,
            attempted_at=attempted_at,
            channel=channel,
            worker=worker,
            outcome="error" if delivery.error else "ok",
            http_status=delivery.http_status,
            error=delivery.error,
            duration_ms=duration_ms,
        )
    )


def retry_later(
    session: Session,
    message: AlertNotification,
    now: datetime,
    error: str,
    max_age: timedelta,
    permanent: bool = False,
) -> None:
    """After a failed attempt: try again with exponential backoff and jitter, or give up once
    the first attempt is older than ``max_age`` (or the error cannot be fixed by retrying)."""
    message.attempts += 1
    message.last_error = error
    message.lease_owner = message.lease_expires_at = None
    first = session.scalar(
        select(func.min(DeliveryAttempt.attempted_at)).where(
            DeliveryAttempt.notification_id == message.id
        )
    )
    if permanent or (first is not None and now - first >= max_age):
        message.status = "failed"
        return
    message.due_at = now + backoff(message.attempts)


def backoff(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s … capped at 10 min; "equal jitter" (half fixed, half random) keeps
    retries of many messages from arriving at a recovering endpoint in lockstep."""
    factor: int = 2 ** max(0, attempts - 1)
    delay = min(BACKOFF_CAP, BACKOFF_BASE * factor)
    return delay / 2 + delay / 2 * random.random()  # noqa: S311 - jitter, not a secret
