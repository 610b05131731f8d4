"""The one triage model: a group and its failures change state together, and every change is
recorded (who, when, from what to what, and an optional note).

Grouping is triage, alerting is delivery. Every failure is in a group (``groups.py``), whether or
not any channel is told; this module is the only place their states change, for the admin, the
JSON API, the CLI and the receiver itself alike::

    group    pending | firing | silenced  ("open": pending = nobody alerted, firing = alerted,
             acknowledged                   silenced = alerts muted)
             resolved
    failure  open | acknowledged | resolved

- acknowledging a group acknowledges its open failures (and withdraws its waiting messages);
- resolving a group resolves its open and acknowledged failures; a group that had fired sends
  ``resolved`` (PagerDuty closes its incident);
- reopening a group re-opens its acknowledged failures and those its last resolution resolved;
- resolving a failure resolves every group of which it was the last unresolved failure;
- reopening a failure reopens the resolved groups it is in;
- a new failure in a resolved group reopens it as a regression (:func:`reopen_for_regression`);
- a group quiet for its rule's ``resolve_after`` resolves by itself, with its failures.

Automatic changes are recorded with the actor ``receiver``. A failure changed because of its
group (or a group because of its failure) records the event that caused it (``cause_id``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from receiver.alerts.outbox import cancel_waiting, schedule
from receiver.alerts.rules import RuleSet
from receiver.db import SQLITE_IMMEDIATE, utcnow
from receiver.models import AlertGroup, AlertGroupFailure, Failure, TriageEvent

ACTIONS = ("acknowledge", "resolve", "reopen")
OPEN_GROUP_STATES = ("pending", "firing", "silenced")
#: Group states an action moves from, and the state it moves to.
GROUP_MOVES: dict[str, tuple[tuple[str, ...], str]] = {
    "acknowledge": (OPEN_GROUP_STATES, "acknowledged"),
    "resolve": ((*OPEN_GROUP_STATES, "acknowledged"), "resolved"),
    "reopen": (("acknowledged", "resolved"), "pending"),
}
FAILURE_STATUSES = ("open", "acknowledged", "resolved")
FAILURE_MOVES: dict[str, tuple[tuple[str, ...], str]] = {
    "acknowledge": (("open",), "acknowledged"),
    "resolve": (("open", "acknowledged"), "resolved"),
    "reopen": (("acknowledged", "resolved"), "open"),
}
#: Why an action left a group or failure as it was.
UNCHANGED = {
    "acknowledge": "not open (already acknowledged or resolved)",
    "resolve": "already resolved",
    "reopen": "already open",
}
#: Triage states, in the order the landing page lists them.
TRIAGE_STATES = ("open", "acknowledged", "resolved")
MAX_NOTE = 1000


def triage_state(group_state: str) -> str:
    """A group's state in the failures' vocabulary: pending, firing and silenced are ``open``."""
    return "open" if group_state in OPEN_GROUP_STATES else group_state


def group_states(triage: str) -> tuple[str, ...]:
    """The group states that are ``triage`` (the inverse of :func:`triage_state`)."""
    return OPEN_GROUP_STATES if triage == "open" else (triage,)


@dataclass(frozen=True)
class Actor:
    """Who changes a state: an operator's name and the way in (admin | api | cli), or the
    receiver itself."""

    name: str
    via: str


RECEIVER = Actor("receiver", "receiver")


@dataclass
class Outcome:
    """What an action did, for the flash message, the API answer and the CLI line."""

    action: str
    changed: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)  # not in a state the action moves from
    missing: list[int] = field(default_factory=list)
    #: Failures changed with the groups, and groups changed with the failures.
    failures_changed: int = 0
    groups_changed: list[int] = field(default_factory=list)

    def summary(self, noun: str) -> str:
        """``2 groups resolved (41 failures with them); 1 already resolved; 1 not found``."""
        done = FAILURE_MOVES[self.action][1] if noun == "failure" else GROUP_MOVES[self.action][1]
        done = "reopened" if self.action == "reopen" else done
        parts = [f"{plural(len(self.changed), noun)} {done}"]
        if self.failures_changed:
            parts[0] += f" ({plural(self.failures_changed, 'failure')} with them)"
        if self.groups_changed:
            parts[0] += f" ({plural(len(self.groups_changed), 'group')} with them)"
        if self.unchanged:
            parts.append(f"{len(self.unchanged)} {UNCHANGED[self.action]}")
        if self.missing:
            parts.append(f"{len(self.missing)} not found")
        return "; ".join(parts)


# -- acting on groups ------------------------------------------------------------------------------


def change_groups(
    session: Session,
    rules: RuleSet,
    group_ids: Iterable[int],
    action: str,
    actor: Actor,
    note: str | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Acknowledge, resolve or reopen groups, and their failures with them. The caller commits."""
    now = now or utcnow()
    sources, target = GROUP_MOVES[action]
    wanted = _unique(group_ids)
    _begin_writing(session)
    found = {
        row.id: row
        for row in session.execute(
            select(AlertGroup.id, AlertGroup.state)
            .where(AlertGroup.id.in_(wanted))
            .with_for_update()
        )
    }
    outcome = Outcome(action, missing=[i for i in wanted if i not in found])
    movable = [i for i in wanted if i in found and found[i].state in sources]
    outcome.unchanged = [i for i in wanted if i in found and i not in movable]
    if not movable:
        return outcome
    moved = session.execute(
        update(AlertGroup)
        .where(AlertGroup.id.in_(movable), AlertGroup.state.in_(sources))
        .values(state=target, silenced_until=None, **_group_fields(action, actor, now))
        .returning(AlertGroup.id, AlertGroup.rule, AlertGroup.last_notified_at)
    ).all()
    outcome.changed = [row.id for row in moved]
    cascaded: list[int] = []
    for row in moved:
        changed_failures = _cascade_to_failures(session, row.id, action)
        event_id = _record(
            session,
            actor,
            action,
            now,
            note,
            [(found[row.id].state, target)],
            group_id=row.id,
            failure_count=len(changed_failures),
        )[0]
        _record_failures(session, actor, action, now, note, changed_failures, row.id, event_id)
        cascaded += [failure_id for failure_id, _from in changed_failures]
    outcome.failures_changed = len(cascaded)
    _tell_channels(session, rules, action, moved, now)
    # A failure can be in more than one group (a rule with `continue`): the others follow it.
    outcome.groups_changed = _settle_groups_of(
        session, rules, cascaded, action, actor, now, exclude=outcome.changed
    )
    return outcome


def _group_fields(action: str, actor: Actor, now: datetime) -> dict[str, Any]:
    who = None if actor is RECEIVER else actor.name[:255]
    if action == "acknowledge":
        return {"acknowledged_at": now, "acknowledged_by": who or actor.name}
    if action == "resolve":
        return {"resolved_at": now, "resolved_by": who}
    # Reopened: open again, nobody alerted since; resolved_at stays, so the next alert says
    # "regression" (see groups.fire).
    return {"acknowledged_at": None, "acknowledged_by": None}


def _cascade_to_failures(session: Session, group_id: int, action: str) -> list[tuple[int, str]]:
    """Move the group's failures with it; returns (failure id, previous status) of each."""
    sources, target = FAILURE_MOVES[action]
    in_group = select(AlertGroupFailure.failure_id).where(AlertGroupFailure.group_id == group_id)
    changed: list[tuple[int, str]] = []
    for source in sources:
        chosen = in_group
        if action == "reopen" and source == "resolved":
            # Only those its last resolution resolved: older resolved failures stay closed.
            chosen = _resolved_by_last_resolution(group_id)
        ids = session.scalars(
            update(Failure)
            .where(Failure.id.in_(chosen), Failure.status == source)
            .values(status=target)
            .returning(Failure.id)
        ).all()
        changed += [(failure_id, source) for failure_id in ids]
    return changed


def _resolved_by_last_resolution(group_id: int) -> Any:
    last = (
        select(TriageEvent.id)
        .where(
            TriageEvent.group_id == group_id,
            TriageEvent.failure_id.is_(None),
            TriageEvent.to_state == "resolved",
        )
        .order_by(TriageEvent.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return select(TriageEvent.failure_id).where(TriageEvent.cause_id == last)


def _tell_channels(
    session: Session, rules: RuleSet, action: str, moved: Sequence[Any], now: datetime
) -> None:
    """Acknowledged or resolved: withdraw waiting messages; a resolved group that had fired
    tells so (PagerDuty resolves the incident)."""
    if action == "reopen":
        return
    cancel_waiting(
        session,
        [row.id for row in moved],
        "acknowledged" if action == "acknowledge" else "resolved",
    )
    if action != "resolve":
        return
    for row in moved:
        rule = rules.by_name.get(row.rule)
        if row.last_notified_at is not None and rule is not None:
            schedule(session, row.id, rules.enabled_channels(rule), "resolved", now, now)


# -- acting on failures ----------------------------------------------------------------------------


def change_failures(
    session: Session,
    rules: RuleSet,
    failure_ids: Iterable[int],
    action: str,
    actor: Actor,
    note: str | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Acknowledge, resolve or reopen failures; their groups follow where the model says so.
    The caller commits."""
    now = now or utcnow()
    sources, target = FAILURE_MOVES[action]
    wanted = _unique(failure_ids)
    _begin_writing(session)
    found = dict(
        session.execute(
            select(Failure.id, Failure.status).where(Failure.id.in_(wanted)).with_for_update()
        ).all()
    )
    outcome = Outcome(action, missing=[i for i in wanted if i not in found])
    movable = [i for i in wanted if found.get(i) in sources]
    outcome.unchanged = [i for i in wanted if i in found and i not in movable]
    if not movable:
        return outcome
    changed = session.scalars(
        update(Failure)
        .where(Failure.id.in_(movable), Failure.status.in_(sources))
        .values(status=target)
        .returning(Failure.id)
    ).all()
    outcome.changed = [i for i in movable if i in set(changed)]
    _record_failures(
        session, actor, action, now, note, [(i, found[i]) for i in outcome.changed], None, None
    )
    outcome.groups_changed = _settle_groups_of(
        session, rules, outcome.changed, action, actor, now, exclude=[]
    )
    return outcome


def _settle_groups_of(
    session: Session,
    rules: RuleSet,
    failure_ids: Sequence[int],
    action: str,
    actor: Actor,
    now: datetime,
    exclude: Sequence[int],
) -> list[int]:
    """The groups that follow their failures: resolved when none is left unresolved, reopened
    when one of them is reopened. Returns the groups changed."""
    if not failure_ids or action == "acknowledge":
        return []
    sources, target = GROUP_MOVES[action]
    candidates = dict(
        session.execute(
            select(AlertGroup.id, AlertGroup.state)
            .where(
                AlertGroup.id.in_(
                    select(AlertGroupFailure.group_id).where(
                        AlertGroupFailure.failure_id.in_(failure_ids)
                    )
                ),
                AlertGroup.id.not_in(exclude),
                AlertGroup.state.in_(sources),
            )
            .with_for_update()
        ).all()
    )
    if action == "resolve":
        candidates = {
            group_id: state
            for group_id, state in candidates.items()
            if not _has_unresolved_failure(session, group_id)
        }
    if not candidates:
        return []
    moved = session.execute(
        update(AlertGroup)
        .where(AlertGroup.id.in_(candidates), AlertGroup.state.in_(sources))
        .values(state=target, silenced_until=None, **_group_fields(action, actor, now))
        .returning(AlertGroup.id, AlertGroup.rule, AlertGroup.last_notified_at)
    ).all()
    causes = _latest_failure_events(session, [row.id for row in moved], failure_ids)
    for row in moved:
        _record(
            session,
            actor,
            action,
            now,
            None,
            [(candidates[row.id], target)],
            group_id=row.id,
            cause_id=causes.get(row.id),
            failure_count=0,
        )
    _tell_channels(session, rules, action, moved, now)
    return [row.id for row in moved]


def _has_unresolved_failure(session: Session, group_id: int) -> bool:
    return (
        session.scalar(
            select(Failure.id)
            .join(AlertGroupFailure, AlertGroupFailure.failure_id == Failure.id)
            .where(AlertGroupFailure.group_id == group_id, Failure.status != "resolved")
            .limit(1)
        )
        is not None
    )


def _latest_failure_events(
    session: Session, group_ids: Sequence[int], failure_ids: Sequence[int]
) -> dict[int, int]:
    """Per group, the newest event of one of ``failure_ids`` in it: what made the group move."""
    if not group_ids:
        return {}
    rows = session.execute(
        select(AlertGroupFailure.group_id, TriageEvent.id)
        .join(TriageEvent, TriageEvent.failure_id == AlertGroupFailure.failure_id)
        .where(
            AlertGroupFailure.group_id.in_(group_ids),
            AlertGroupFailure.failure_id.in_(failure_ids),
        )
        .order_by(TriageEvent.id)
    )
    return {group_id: event_id for group_id, event_id in rows}


# -- what the receiver changes by itself -----------------------------------------------------------


def reopen_for_regression(
    session: Session, group: AlertGroup, failure_id: int, now: datetime
) -> None:
    """A new failure in a resolved group: open again (``pending`` until its rule alerts), and
    counted as a regression. Called by ingest's grouping, on the group row it just upserted."""
    group.state, group.silenced_until = "pending", None
    group.acknowledged_at = group.acknowledged_by = None
    group.reopened_count += 1
    _record(
        session,
        RECEIVER,
        "reopen",
        now,
        f"new failure #{failure_id} after it was resolved (regression)",
        [("resolved", "pending")],
        group_id=group.id,
    )


def resolve_quiet_groups(session: Session, rules: RuleSet, now: datetime) -> list[int]:
    """Groups with no new failure for their rule's ``resolve_after`` resolve, with their
    failures (run by the worker's housekeeping)."""
    resolved: list[int] = []
    for rule in (*rules.rules, rules.fallback):
        if rule.resolve_after is None:
            continue
        quiet = session.scalars(
            select(AlertGroup.id).where(
                AlertGroup.rule == rule.name,
                AlertGroup.state.in_(GROUP_MOVES["resolve"][0]),
                AlertGroup.last_seen_at <= now - rule.resolve_after,
            )
        ).all()
        if quiet:
            note = f"no new failure for {rule.resolve_after} (rule {rule.name})"
            resolved += change_groups(session, rules, quiet, "resolve", RECEIVER, note, now).changed
    return resolved


def settle_backfilled(
    session: Session, rules: RuleSet, group_ids: Iterable[int], now: datetime
) -> None:
    """Groups made for failures stored before every failure was grouped start in the state
    their failures are in: resolved when all are, acknowledged when none is open."""
    for group_id in _unique(group_ids):
        statuses = set(
            session.scalars(
                select(Failure.status)
                .join(AlertGroupFailure, AlertGroupFailure.failure_id == Failure.id)
                .where(AlertGroupFailure.group_id == group_id)
                .distinct()
            )
        )
        action = "resolve" if statuses <= {"resolved"} else None
        if "open" not in statuses and action is None:
            action = "acknowledge"
        if action:
            note = f"grouped after the fact: its failures were all {FAILURE_MOVES[action][1]}"
            change_groups(session, rules, [group_id], action, RECEIVER, note, now)


def recover_jobs(
    session: Session, rules: RuleSet, recoveries: Iterable[tuple[int, datetime]]
) -> Outcome | None:
    """The vendor says jobs are back to normal (a CloudWatch alarm back to OK): their open
    failures that occurred up to then resolve; a later failure (a newer ALARM) stays open."""
    outcome = None
    for job_id, recovered_at in recoveries:
        ids = session.scalars(
            select(Failure.id).where(
                Failure.job_id == job_id,
                Failure.status.in_(FAILURE_MOVES["resolve"][0]),
                Failure.occurred_at <= recovered_at,
            )
        ).all()
        if ids:
            note = f"the vendor reported it back to normal at {recovered_at:%Y-%m-%d %H:%M:%S} UTC"
            outcome = change_failures(session, rules, ids, "resolve", RECEIVER, note)
    return outcome


# -- the record -----------------------------------------------------------------------------------


def _record(
    session: Session,
    actor: Actor,
    action: str,
    now: datetime,
    note: str | None,
    moves: Sequence[tuple[str, str]],
    *,
    group_id: int | None = None,
    failure_ids: Sequence[int | None] = (None,),
    cause_id: int | None = None,
    failure_count: int | None = None,
) -> list[int]:
    """Insert one event per (move, failure id); returns their ids in order."""
    rows = [
        {
            "at": now,
            "actor": actor.name[:255],
            "via": actor.via,
            "action": action,
            "from_state": from_state,
            "to_state": to_state,
            "note": (note or "").strip()[:MAX_NOTE] or None,
            "group_id": group_id,
            "failure_id": failure_id,
            "cause_id": cause_id,
            "failure_count": failure_count,
        }
        for (from_state, to_state), failure_id in zip(moves, failure_ids, strict=True)
    ]
    statement = insert(TriageEvent).returning(TriageEvent.id, sort_by_parameter_order=True)
    return list(session.scalars(statement, rows))


def _record_failures(
    session: Session,
    actor: Actor,
    action: str,
    now: datetime,
    note: str | None,
    changed: Sequence[tuple[int, str]],
    group_id: int | None,
    cause_id: int | None,
) -> None:
    if not changed:
        return
    target = FAILURE_MOVES[action][1]
    _record(
        session,
        actor,
        action,
        now,
        note,
        [(previous, target) for _id, previous in changed],
        group_id=group_id,
        failure_ids=[failure_id for failure_id, _previous in changed],
        cause_id=cause_id,
    )


def _begin_writing(session: Session) -> None:
    # Reads then writes: on SQLite take the write lock first (a deferred transaction could not
    # turn its read into a write once another connection had committed).
    if not session.in_transaction():
        session.connection(execution_options={SQLITE_IMMEDIATE: True})


def _unique(ids: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(int(i) for i in ids))


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")
