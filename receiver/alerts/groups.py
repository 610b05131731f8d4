"""Alert groups: turning new failures into groups and outbox messages, and the group lifecycle.

``enqueue_alerts`` runs inside the ingest transaction, just before its commit: the groups,
their failure links and the outbox messages are committed with the failures or not at all.
It costs a handful of statements per notification whatever the number of failures.

Lifecycle: ``pending`` (a threshold not reached yet) -> ``firing`` -> ``acknowledged`` ->
``resolved``; ``silenced`` while a silence matches. New failures in a resolved group re-open it
as a ``regression``. Transitions are single ``UPDATE``s or upserts on the group row, so
concurrent ingest and workers serialise on that row instead of racing.
"""

from __future__ import annotations

import functools
import glob
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from receiver.alerts.outbox import cancel_waiting, schedule
from receiver.alerts.rules import Rule, RuleSet
from receiver.db import insert_for, table_of, utcnow
from receiver.models import AlertGroup, AlertGroupFailure, Silence
from receiver.records import NewFailure

GROUP_STATES = ("pending", "firing", "acknowledged", "silenced", "resolved")
OPEN_STATES = ("pending", "firing", "acknowledged", "silenced")


@dataclass
class _Batch:
    rule: Rule
    labels: dict[str, str]
    failure_ids: list[int] = field(default_factory=list)


def enqueue_alerts(
    session: Session,
    new_failures: Sequence[NewFailure],
    rules: RuleSet,
    now: datetime | None = None,
) -> None:
    """Group new failures and schedule what must be told; the caller commits.

    ``new_failures`` carry what rules match and group on; storage makes them as it stores the
    failures, so nothing is read back.
    """
    if not new_failures:
        return
    now = now or utcnow()
    batches: dict[str, _Batch] = {}
    for failure in new_failures:
        for rule in rules.route(failure):
            labels = rule.group_labels(failure)
            batch = batches.setdefault(rule.fingerprint(labels), _Batch(rule, labels))
            batch.failure_ids.append(failure.id)
    if not batches:
        return
    groups = [
        (_upsert_group(session, fingerprint, batch, now), batch)
        for fingerprint, batch in batches.items()
    ]
    # Linked before deciding, so a threshold counts this notification's failures too.
    session.execute(
        insert(table_of(AlertGroupFailure)),
        [
            {"group_id": group.id, "failure_id": failure_id, "created_at": now}
            for group, batch in groups
            for failure_id in batch.failure_ids
        ],
    )
    silences = active_silences(session, now)
    for group, batch in groups:
        if group.state != "acknowledged":  # acknowledged: counted, but someone is on it
            _advance(session, group, batch.rule, rules, silences, now)


def _upsert_group(session: Session, fingerprint: str, batch: _Batch, now: datetime) -> AlertGroup:
    params = {
        "fingerprint": fingerprint,
        "rule": batch.rule.name,
        "labels": batch.labels,
        "state": "pending",
        "failure_count": len(batch.failure_ids),
        "notified_count": 0,
        "reopened_count": 0,
        "first_seen_at": now,
        "last_seen_at": now,
        "created_at": now,
    }
    statement = _group_statement(session.get_bind().dialect.name)
    group: AlertGroup = session.scalars(
        statement, params, execution_options={"populate_existing": True}
    ).one()
    return group


@functools.cache
def _group_statement(dialect: str) -> Any:
    # Built once and run with parameters: building it per notification (values as literals) cost
    # more than the statement's work in the database.
    table = AlertGroup.__table__
    statement = insert_for(dialect)(table)
    # The upsert locks the group row until commit (PostgreSQL): concurrent notifications about
    # one group take turns, each seeing the other's counts and state.
    upsert = statement.on_conflict_do_update(
        index_elements=["fingerprint"],
        set_={
            "failure_count": table.c.failure_count + statement.excluded.failure_count,
            "last_seen_at": statement.excluded.last_seen_at,
        },
    ).returning(*table.c)
    # A Core statement whose rows the ORM loads as the group: without the ORM's bulk-insert
    # machinery, which an INSERT of the mapped class goes through (half of this function's cost).
    return select(AlertGroup).from_statement(upsert)


def _advance(
    session: Session,
    group: AlertGroup,
    rule: Rule,
    rules: RuleSet,
    silences: Sequence[Silence],
    now: datetime,
) -> None:
    """Move a group that just got failures to its next state and schedule what to tell."""
    regression = group.state == "resolved"
    if silence := matching_silence(silences, group.labels):
        if regression:
            _reopen(group)
        group.state, group.silenced_until = "silenced", silence.ends_at
        return
    if rule.threshold is not None and group.state in ("pending", "resolved"):
        recent = session.scalar(
            select(func.count())
            .select_from(AlertGroupFailure)
            .where(
                AlertGroupFailure.group_id == group.id,
                AlertGroupFailure.created_at > now - rule.threshold.window,
            )
        )
        if (recent or 0) <= rule.threshold.count:  # "more than N in the window"
            return
    if regression:
        _reopen(group)
    fire(session, group, rule, rules, now, kind="regression" if regression else "firing")


def _reopen(group: AlertGroup) -> None:
    group.reopened_count += 1
    group.resolved_at = group.resolved_by = None


def fire(
    session: Session, group: AlertGroup, rule: Rule, rules: RuleSet, now: datetime, kind: str
) -> None:
    """The group fires: schedule its message per Alertmanager's timers.

    First message (or a regression) after ``group_wait``, so a burst is one message; news after
    a message no sooner than ``group_interval`` after it.
    """
    group.state, group.silenced_until = "firing", None
    if group.last_notified_at is None or kind == "regression":
        due = now + rule.group_wait
    else:
        due = max(now, group.last_notified_at + rule.group_interval)
    schedule(session, group.id, rules.enabled_channels(rule), kind, due, now)


# -- silences --------------------------------------------------------------------------------------


ACTIVE_SILENCES = select(Silence).where(
    Silence.starts_at <= bindparam("now"), Silence.ends_at > bindparam("now")
)


def active_silences(session: Session, now: datetime) -> list[Silence]:
    return list(session.scalars(ACTIVE_SILENCES, {"now": now}))


def matching_silence(silences: Iterable[Silence], labels: Mapping[str, Any]) -> Silence | None:
    """The longest-running silence whose every matcher matches the group's labels."""
    found = [s for s in silences if silence_matches(s.matchers, labels)]
    return max(found, key=lambda s: s.ends_at, default=None)


def silence_matches(matchers: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    for name, patterns in matchers.items():
        value = labels.get(name)
        if value is None or not any(fnmatchcase(str(value), p) for p in patterns):
            return False
    return True


def add_silence(
    session: Session,
    matchers: Mapping[str, list[str]],
    author: str,
    reason: str,
    ends_at: datetime,
    starts_at: datetime | None = None,
) -> Silence:
    silence = Silence(
        matchers=dict(matchers),
        author=author,
        reason=reason,
        starts_at=starts_at or utcnow(),
        ends_at=ends_at,
    )
    session.add(silence)
    session.flush()
    return silence


def silence_group(
    session: Session,
    group_id: int,
    author: str,
    reason: str,
    ends_at: datetime,
    now: datetime | None = None,
) -> Silence | None:
    """Silence exactly this group's labels, and mute at once the firing groups it matches.

    Label values are escaped, so a vendor code such as ``E*`` matches itself, not every code
    starting with ``E``. Their waiting messages are suppressed by the worker when due.
    """
    now = now or utcnow()
    group = session.get(AlertGroup, group_id)
    if group is None:
        return None
    matchers = {name: [glob.escape(str(value))] for name, value in group.labels.items()}
    silence = add_silence(session, matchers, author[:255], reason, ends_at, starts_at=now)
    for candidate in session.scalars(
        select(AlertGroup).where(AlertGroup.state.in_(("firing", "silenced")))
    ):
        if silence_matches(matchers, candidate.labels):
            until = candidate.silenced_until
            candidate.state = "silenced"
            candidate.silenced_until = ends_at if until is None else max(until, ends_at)
    return silence


def expire_silence(session: Session, silence_id: int, now: datetime | None = None) -> bool:
    """End a silence now; the groups it muted wake up on the worker's next housekeeping pass
    (which keeps them silenced if another silence still matches, else tells what arrived)."""
    now = now or utcnow()
    matchers = session.scalars(
        update(Silence)
        .where(Silence.id == silence_id, Silence.ends_at > now)
        .values(ends_at=now)
        .returning(Silence.matchers)
    ).one_or_none()
    if matchers is None:
        return False
    for group in session.scalars(
        select(AlertGroup).where(AlertGroup.state == "silenced", AlertGroup.silenced_until > now)
    ):
        if silence_matches(matchers, group.labels):
            group.silenced_until = now
    return True


# -- human and timed transitions -------------------------------------------------------------------


def acknowledge(session: Session, group_id: int, by: str, now: datetime | None = None) -> bool:
    """Someone is on it: no more repeats until the group resolves (or regresses)."""
    now = now or utcnow()
    changed = session.scalars(
        update(AlertGroup)
        .where(AlertGroup.id == group_id, AlertGroup.state.in_(("firing", "silenced")))
        .values(state="acknowledged", acknowledged_at=now, acknowledged_by=by[:255])
        .returning(AlertGroup.id)
    ).all()
    cancel_waiting(session, changed, "acknowledged")
    return bool(changed)


def resolve(
    session: Session,
    rules: RuleSet,
    group_ids: Sequence[int],
    now: datetime | None = None,
    by: str | None = None,
) -> list[int]:
    """Resolve open groups by hand (``by``: who did it, kept on the group)."""
    return _resolve_where(session, rules, now or utcnow(), AlertGroup.id.in_(group_ids), by=by)


def _resolve_where(
    session: Session, rules: RuleSet, now: datetime, *conditions: Any, by: str | None = None
) -> list[int]:
    """Resolve the open groups matching ``conditions``: withdraw waiting messages and, where
    someone was told it fired, send a ``resolved`` message (PagerDuty closes the incident)."""
    resolved = session.execute(
        update(AlertGroup)
        .where(AlertGroup.state.in_(OPEN_STATES), *conditions)
        .values(
            state="resolved",
            resolved_at=now,
            resolved_by=by[:255] if by else None,
            silenced_until=None,
        )
        .returning(AlertGroup.id, AlertGroup.rule, AlertGroup.last_notified_at)
    ).all()
    cancel_waiting(session, [row.id for row in resolved], "resolved")
    for row in resolved:
        rule = rules.by_name.get(row.rule)
        if row.last_notified_at is not None and rule is not None:
            schedule(session, row.id, rules.enabled_channels(rule), "resolved", now, now)
    return [row.id for row in resolved]


def housekeeping(session: Session, rules: RuleSet, now: datetime) -> None:
    """Timed transitions, run by the worker: expired silences and quiet groups. The caller
    commits."""
    for rule in rules.rules:
        if rule.resolve_after is not None:
            _resolve_where(
                session,
                rules,
                now,
                AlertGroup.rule == rule.name,
                AlertGroup.last_seen_at <= now - rule.resolve_after,
            )
    expired = session.scalars(
        update(AlertGroup)
        .where(AlertGroup.state == "silenced", AlertGroup.silenced_until <= now)
        .values(state="firing", silenced_until=None)
        .returning(AlertGroup),
        execution_options={"populate_existing": True},
    ).all()
    if not expired:
        return
    silences = active_silences(session, now)
    for group in expired:
        group_rule = rules.by_name.get(group.rule)
        if silence := matching_silence(silences, group.labels):
            group.state, group.silenced_until = "silenced", silence.ends_at
        elif group_rule is not None and group.failure_count > group.notified_count:
            # Failures arrived during the silence: tell them now.
            channels = rules.enabled_channels(group_rule)
            schedule(session, group.id, channels, "firing", now, now)
        elif group_rule is not None:
            due = (group.last_notified_at or now) + group_rule.repeat_interval
            channels = rules.enabled_channels(group_rule)
            schedule(session, group.id, channels, "repeat", max(due, now), now)


def group_for_failure(session: Session, failure_id: int) -> list[AlertGroup]:
    """The groups a failure is in (for the admin's failure page)."""
    return list(
        session.scalars(
            select(AlertGroup)
            .join(AlertGroupFailure, AlertGroupFailure.group_id == AlertGroup.id)
            .where(AlertGroupFailure.failure_id == failure_id)
            .order_by(AlertGroup.id)
        )
    )
