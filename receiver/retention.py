"""Retention: delete what is past its time in small batches, so no lock is held for long.

What goes: raw notifications received before the cut-off (a failure that outlives its raw
notification keeps its normalized fields; its link becomes NULL), resolved failures that
occurred before it, and jobs last updated before it that no failure refers to any more.
Open and acknowledged failures are never deleted: someone still has to look at them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from receiver.db import rowcount
from receiver.models import Failure, Job, Notification

DURATION = re.compile(r"^\s*(\d+)\s*([dhw])\s*$")
UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """``90d``, ``12h`` or ``2w``."""
    match = DURATION.match(text)
    if not match or int(match[1]) == 0:
        raise ValueError(f"not a duration like 90d, 12h or 2w: {text!r}")
    return timedelta(**{UNITS[match[2]]: int(match[1])})


@dataclass(frozen=True)
class Target:
    name: str
    model: type[Failure] | type[Notification] | type[Job]
    condition: Callable[[datetime], ColumnElement[bool]]


def _expired_failure(cutoff: datetime) -> ColumnElement[bool]:
    return (Failure.status == "resolved") & (Failure.occurred_at < cutoff)


def _idle_job(cutoff: datetime) -> ColumnElement[bool]:
    # Counted before the failures go, so a job kept only by expiring failures counts as idle.
    kept_failure = select(Failure.id).where(Failure.job_id == Job.id, ~_expired_failure(cutoff))
    return (Job.updated_at < cutoff) & ~kept_failure.exists()


# Order matters: failures go before the jobs they would otherwise keep alive.
TARGETS = (
    Target("resolved failures", Failure, _expired_failure),
    Target("raw notifications", Notification, lambda cutoff: Notification.received_at < cutoff),
    Target("jobs without failures", Job, _idle_job),
)


def count(session: Session, cutoff: datetime) -> dict[str, int]:
    return {
        target.name: session.scalar(
            select(func.count()).select_from(target.model).where(target.condition(cutoff))
        )
        or 0
        for target in TARGETS
    }


def prune(
    session: Session,
    cutoff: datetime,
    batch_size: int = 1000,
    on_batch: Callable[[str, int], None] = lambda name, deleted: None,
) -> dict[str, int]:
    """Delete in batches of ``batch_size`` rows, committing after each batch."""
    deleted: dict[str, int] = {}
    for target in TARGETS:
        deleted[target.name] = 0
        while True:
            batch = (
                select(target.model.id)
                .where(target.condition(cutoff))
                .order_by(target.model.id)
                .limit(batch_size)
                .scalar_subquery()
            )
            rows = rowcount(
                session.execute(
                    delete(target.model)
                    .where(target.model.id.in_(batch))
                    .execution_options(synchronize_session=False)
                )
            )
            session.commit()
            if not rows:
                break
            deleted[target.name] += rows
            on_batch(target.name, rows)
    return deleted
