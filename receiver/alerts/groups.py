"""Alert groups: every new failure joins a group, and a group that must alert schedules its
messages; silences; the timed transitions.

``enqueue_alerts`` runs inside the ingest transaction, just before its commit: the groups,
their failure links and the outbox messages are committed with the failures or not at all.
It costs a handful of statements per notification whatever the number of failures: one upsert
per group and one insert of the links, plus the silences and the outbox when a group alerts.

Every failure is grouped, whether or not its rule has a channel (grouping is triage, alerting
is delivery): a group of a rule without channels stays ``pending`` (open, nobody alerted).
Lifecycle: ``pending`` (a threshold not reached yet, or no channel) -> ``firing`` ->
``acknowledged`` -> ``resolved``; ``silenced`` while a silence matches. New failures in a
resolved group re-open it as a ``regression``. What people (and timers) change goes through
``receiver.alerts.triage``, which moves a group's failures with it.
"""

from __future__ import annotations

import functools
import glob
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any, Protocol, TypeVar

from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    DateTime,
    String,
    bindparam,
    case,
    cast,
    exists,
    func,
    insert,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from receiver.alerts.outbox import schedule
from receiver.alerts.rules import Rule, RuleSet
from receiver.alerts.triage import reopen_for_regression, resolve_quiet_groups, settle_backfilled
from receiver.catalog import SEVERITIES
from receiver.db import UTCDateTime, insert_for, table_of, utcnow
from receiver.direct_sql import execute_many, fetch_all, fetch_first
from receiver.models import AlertGroup, AlertGroupFailure, Failure, Job, JobFile, Silence
from receiver.records import NewFailure

#: Built once: the links of new failures to their groups.
_LINK_INSERT = insert(table_of(AlertGroupFailure))

#: A group's row as its upsert returned it: a named tuple of the ``alert_groups`` columns.
GroupRow = Any

GROUP_STATES = ("pending", "firing", "acknowledged", "silenced", "resolved")
OPEN_STATES = ("pending", "firing", "acknowledged", "silenced")


@dataclass
class _Batch:
    rule: Rule
    labels: dict[str, str]
    failures: list[NewFailure] = field(default_factory=list)


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
    batches = _route(new_failures, rules)
    # Read before the upserts lock the groups' rows until commit (failing notifications of one
    # group queue behind that lock): one round trip fewer under it. Only if a group may alert.
    may_alert = any(rules.enabled_channels(batch.rule) for batch in batches.values())
    silences = active_silence_matchers(session, now) if may_alert else []
    for group, batch in _store_groups(session, batches, now):
        if group.state != "acknowledged":  # acknowledged: counted, but someone is on it
            _advance(session, group, batch, rules, silences, now)


def group_failures(
    session: Session, new_failures: Iterable[NewFailure], rules: RuleSet, now: datetime
) -> list[tuple[GroupRow, _Batch]]:
    """Upsert the groups of ``new_failures`` and link each failure to its groups; returns each
    group's row as the upsert left it (not an ORM object: see :func:`_advance`)."""
    return _store_groups(session, _route(new_failures, rules), now)


def _route(new_failures: Iterable[NewFailure], rules: RuleSet) -> dict[str, _Batch]:
    """The failures of each group (by fingerprint) the rules send them to."""
    batches: dict[str, _Batch] = {}
    for failure in new_failures:
        for rule in rules.route(failure):
            labels = rule.group_labels(failure)
            batch = batches.setdefault(rule.fingerprint(labels), _Batch(rule, labels))
            batch.failures.append(failure)
    return batches


def _store_groups(
    session: Session, batches: Mapping[str, _Batch], now: datetime
) -> list[tuple[GroupRow, _Batch]]:
    # Statements on the session's connection, run on the driver's cursor (receiver.direct_sql):
    # every failing notification runs them. Nothing the ORM holds is pending that they depend
    # on (the groups are upserted by statements, not flushed).
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # A group and its links in one statement (one round trip fewer per failing notification).
        statement = _group_and_links_statement()
        return [
            (
                _upserted(
                    connection,
                    statement,
                    _group_params(fingerprint, batch, now) | _link_arrays(batch, now),
                ),
                batch,
            )
            for fingerprint, batch in batches.items()
        ]
    statement = _group_statement(connection.dialect.name)
    groups = [
        (_upserted(connection, statement, _group_params(fingerprint, batch, now)), batch)
        for fingerprint, batch in batches.items()
    ]
    # Linked after the upserts: the upsert counts a job as new when no link names it yet.
    execute_many(
        connection,
        _LINK_INSERT,
        [
            {
                "group_id": group.id,
                "failure_id": failure.id,
                "created_at": now,
                "job_id": failure.job_id,
                "occurred_at": failure.occurred_at,
            }
            for group, batch in groups
            for failure in batch.failures
        ],
    )
    return groups


def _upserted(connection: Connection, statement: Any, params: dict[str, Any]) -> Any:
    """The group's row as the upsert left it (an upsert always returns one)."""
    row = fetch_first(connection, statement, params)
    assert row is not None
    return row


def ungrouped_failures(session: Session, limit: int) -> list[NewFailure]:
    """Stored failures in no group yet (stored before every failure was grouped), oldest first,
    as ingest hands new failures to :func:`group_failures`."""
    linked = select(AlertGroupFailure.failure_id).where(AlertGroupFailure.failure_id == Failure.id)
    rows = session.execute(
        select(
            Failure.id,
            Failure.vendor,
            Failure.category,
            Failure.severity,
            Failure.code,
            Failure.backup_server_used.label("backup_server"),
            JobFile.label,
            Job.external_id.label("job"),
            Failure.job_id,
            Failure.occurred_at,
            Failure.created_at.label("received_at"),
        )
        .join(Job, Job.id == Failure.job_id)
        .outerjoin(JobFile, JobFile.id == Failure.job_file_id)
        .where(~linked.exists())
        .order_by(Failure.id)
        .limit(limit)
    )
    return [NewFailure(**row._mapping) for row in rows]


def backfill_groups(
    session: Session, rules: RuleSet, now: datetime, batch_size: int = 1000
) -> tuple[int, int]:
    """Group the failures stored before every failure was grouped, a batch per transaction
    (short locks); nothing is sent about them. Returns (failures grouped, groups made).

    Run after migrating (``receiver db upgrade``, ``receiver run``) so an upgraded receiver's
    landing page shows what it had stored; cheap and safe to repeat: grouped failures are
    skipped.
    """
    grouped, touched = 0, set()
    while batch := ungrouped_failures(session, batch_size):
        made = group_failures(session, batch, rules, now)
        touched |= {group.id for group, _batch in made if group.last_notified_at is None}
        grouped += len(batch)
        session.commit()
    pending = session.scalars(
        select(AlertGroup.id).where(AlertGroup.id.in_(touched), AlertGroup.state == "pending")
    ).all()
    settle_backfilled(session, rules, pending, now)
    session.commit()
    return grouped, len(touched)


def _group_params(fingerprint: str, batch: _Batch, now: datetime) -> dict[str, Any]:
    """The group upsert's parameters: a new group's row, which an existing one's counts and
    times absorb."""
    occurred = [failure.occurred_at for failure in batch.failures]
    # Grouping stored failures later (``receiver groups backfill``) keeps when they came in.
    received = [failure.received_at or now for failure in batch.failures]
    jobs = sorted({failure.job_id for failure in batch.failures})
    return {
        "fingerprint": fingerprint,
        "rule": batch.rule.name,
        "labels": batch.labels,
        "state": "pending",
        "failure_count": len(batch.failures),
        "job_count": len(jobs),
        "backup_count": sum(failure.backup_server for failure in batch.failures),
        "jobs": json.dumps(jobs),
        "severity": min((failure.severity for failure in batch.failures), key=_severity_rank),
        "notified_count": 0,
        "reopened_count": 0,
        "first_seen_at": min(received),
        "last_seen_at": max(received),
        "first_occurred_at": min(occurred),
        "last_occurred_at": max(occurred),
        "created_at": now,
    }


#: The columns a new group's row sets (:func:`_group_params`, but for ``jobs``).
_GROUP_COLUMNS = (
    "fingerprint",
    "rule",
    "labels",
    "state",
    "failure_count",
    "job_count",
    "backup_count",
    "severity",
    "notified_count",
    "reopened_count",
    "first_seen_at",
    "last_seen_at",
    "first_occurred_at",
    "last_occurred_at",
    "created_at",
)


def _link_arrays(batch: _Batch, now: datetime) -> dict[str, Any]:
    """The links of :func:`_group_and_links_statement`, a column per array."""
    return {
        "linked_at": now,
        "link_failure_ids": [failure.id for failure in batch.failures],
        "link_job_ids": [failure.job_id for failure in batch.failures],
        "link_occurred_at": [failure.occurred_at for failure in batch.failures],
    }


def _severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


@functools.cache
def _group_statement(dialect: str) -> Any:
    # Built once and run with parameters: building it per notification (values as literals) cost
    # more than the statement's work in the database.
    table = AlertGroup.__table__
    # The columns named, not taken from the first parameter set: inside a CTE
    # (:func:`_group_and_links_statement`) the statement is compiled before it sees any.
    statement = insert_for(dialect)(table).values(
        {name: bindparam(name, type_=table.c[name].type) for name in _GROUP_COLUMNS}
    )
    new = statement.excluded
    # The upsert locks the group row until commit (PostgreSQL): concurrent notifications about
    # one group take turns, each seeing the other's counts and state.
    upsert = statement.on_conflict_do_update(
        index_elements=["fingerprint"],
        set_={
            "failure_count": table.c.failure_count + new.failure_count,
            "job_count": table.c.job_count + _jobs_not_linked_yet(dialect, table),
            "backup_count": table.c.backup_count + new.backup_count,
            "severity": case(
                (_rank(new.severity) < _rank(table.c.severity), new.severity),
                else_=table.c.severity,
            ),
            "last_seen_at": case(
                (new.last_seen_at > table.c.last_seen_at, new.last_seen_at),
                else_=table.c.last_seen_at,
            ),
            "first_occurred_at": case(
                (new.first_occurred_at < table.c.first_occurred_at, new.first_occurred_at),
                else_=table.c.first_occurred_at,
            ),
            "last_occurred_at": case(
                (new.last_occurred_at > table.c.last_occurred_at, new.last_occurred_at),
                else_=table.c.last_occurred_at,
            ),
        },
    ).returning(*table.c)
    # A Core statement returning plain rows: loading them as ORM objects (and the ORM's
    # bulk-insert machinery before that) cost more than the statement; a group is loaded as an
    # object only when its state changes (:func:`_advance`).
    return upsert


@functools.cache
def _group_and_links_statement() -> Any:
    """PostgreSQL: the group upsert, and the insert of its new failures' links as a
    data-modifying CTE over the upserted row, in one statement.

    Every part of one statement sees the same snapshot, so the upsert's count of jobs new to
    the group does not see the links inserted beside it: the same count as upserting first and
    linking after, in one round trip instead of two.
    """
    upserted = _group_statement("postgresql").cte("upserted")
    new_links = (
        func.unnest(
            bindparam("link_failure_ids", type_=ARRAY(BigInteger)),
            bindparam("link_job_ids", type_=ARRAY(BigInteger)),
            bindparam("link_occurred_at", type_=ARRAY(DateTime(timezone=True))),
        )
        .table_valued("failure_id", "job_id", "occurred_at")
        .render_derived(with_types=False)
        .alias("new_links")
    )
    links = table_of(AlertGroupFailure)
    linked = insert(links).from_select(
        ["group_id", "failure_id", "created_at", "job_id", "occurred_at"],
        select(
            upserted.c.id,
            new_links.c.failure_id,
            bindparam("linked_at", type_=UTCDateTime()),
            new_links.c.job_id,
            new_links.c.occurred_at,
        ).select_from(upserted.join(new_links, true())),
    )
    return select(upserted).add_cte(linked.cte("linked"))


def _jobs_not_linked_yet(dialect: str, groups: Any) -> Any:
    """How many of the notification's jobs (``:jobs``, a JSON array of ids) the group has no
    failure of yet: one index probe per job, inside the upsert (no extra round trip).

    On PostgreSQL two notifications of the same new job arriving at the same instant may each
    count it (the second upsert waits for the first's row lock but reads the links as they were
    when it started): jobs affected may then be one too high; failure counts are exact.
    """
    job_id: ColumnElement[Any]
    if dialect == "postgresql":
        source = func.jsonb_array_elements_text(cast(bindparam("jobs", type_=String), JSONB))
        jobs = source.table_valued("value").alias("new_jobs")
        job_id = cast(jobs.c.value, BigInteger)
    else:
        jobs = (
            func.json_each(bindparam("jobs", type_=String)).table_valued("value").alias("new_jobs")
        )
        job_id = jobs.c.value
    links = AlertGroupFailure.__table__
    # The row being updated, by its table's name: SQLAlchemy does not correlate a subquery in
    # ``ON CONFLICT DO UPDATE`` with the inserted table, and ``groups.c.id`` put a second
    # ``alert_groups`` in the subquery's FROM (any group's links then hid a job new to this one).
    group_id = literal_column(f"{groups.name}.id", BigInteger)
    linked = exists().where(links.c.group_id == group_id, links.c.job_id == job_id)
    # EXISTS in the select list, not NOT EXISTS in WHERE: PostgreSQL turned the latter into an
    # anti-join that hashed every link of the group (28k rows, 7 ms, under the group's row lock,
    # for each failing notification); here it stays one index probe per job, whatever the
    # group's size (tests/alerts/test_group_statement_plan.py).
    new_to_group = case((linked, 0), else_=1)
    return select(func.coalesce(func.sum(new_to_group), 0)).select_from(jobs).scalar_subquery()


def _rank(severity: Any) -> Any:
    return case(
        {name: index for index, name in enumerate(SEVERITIES)},
        value=severity,
        else_=len(SEVERITIES),
    )


def _advance(
    session: Session,
    row: GroupRow,
    batch: _Batch,
    rules: RuleSet,
    silences: Sequence[SilenceMatch],
    now: datetime,
) -> None:
    """Move a group that just got failures to its next state and schedule what to tell."""
    rule = batch.rule
    if _firing_and_clear(row):
        # The common case, a group already firing: its row does not change, only its message is
        # scheduled, so nothing is loaded as an ORM object (unless a silence now mutes it).
        channels = rules.enabled_channels(rule)
        if not channels:
            return
        if matching_silence(silences, row.labels) is None:
            schedule(session, row.id, channels, "firing", _due(row, rule, now, "firing"), now)
            return
    # A state changes: the group as an ORM object (one SELECT; the upsert's row lock is held).
    group = session.get(AlertGroup, row.id, populate_existing=True)
    assert group is not None  # upserted by this transaction
    if group.state == "resolved":
        reopen_for_regression(session, group, batch.failures[0].id, now)
    if not rules.enabled_channels(rule):
        return  # open, and nobody to tell: it stays pending
    if silence := matching_silence(silences, group.labels):
        group.state, group.silenced_until = "silenced", silence.ends_at
        return
    if rule.threshold is not None and group.state == "pending":
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
    # A group that was resolved and fails again says so, however long it waited for its
    # threshold since.
    fire(session, group, rule, rules, now, "regression" if group.resolved_at else "firing")


def _firing_and_clear(row: GroupRow) -> bool:
    """The group fires and firing again changes none of its columns (see :func:`fire`)."""
    return (
        row.state == "firing"
        and row.silenced_until is None
        and row.resolved_at is None
        and row.resolved_by is None
    )


def _due(group: Any, rule: Rule, now: datetime, kind: str) -> datetime:
    """When a firing group's message is due, per Alertmanager's timers: the first one (or a
    regression) after ``group_wait``, so a burst is one message; news after a message no
    sooner than ``group_interval`` after it."""
    last: datetime | None = group.last_notified_at
    if last is None or kind == "regression":
        return now + rule.group_wait
    return max(now, last + rule.group_interval)


def fire(
    session: Session, group: AlertGroup, rule: Rule, rules: RuleSet, now: datetime, kind: str
) -> None:
    """The group fires: schedule its message (:func:`_due`)."""
    group.state, group.silenced_until = "firing", None
    group.resolved_at = group.resolved_by = None
    schedule(
        session, group.id, rules.enabled_channels(rule), kind, _due(group, rule, now, kind), now
    )


# -- silences --------------------------------------------------------------------------------------


ACTIVE_SILENCES = select(Silence).where(
    Silence.starts_at <= bindparam("now"), Silence.ends_at > bindparam("now")
)


def active_silences(session: Session, now: datetime) -> list[Silence]:
    return list(session.scalars(ACTIVE_SILENCES, {"now": now}))


class SilenceMatch(Protocol):
    """What deciding whether a silence mutes a group reads of it."""

    @property
    def matchers(self) -> dict[str, Any]: ...

    @property
    def ends_at(self) -> datetime: ...


_ACTIVE_MATCHERS = select(table_of(Silence).c.matchers, table_of(Silence).c.ends_at).where(
    Silence.starts_at <= bindparam("now"), Silence.ends_at > bindparam("now")
)


def active_silence_matchers(session: Session, now: datetime) -> Sequence[SilenceMatch]:
    """The matchers and ends of the active silences, as plain rows: ingest only matches them,
    and loading them as ORM objects cost more than the query."""
    rows: Sequence[Any] = fetch_all(session.connection(), _ACTIVE_MATCHERS, {"now": now})
    return rows


_Silence = TypeVar("_Silence", bound=SilenceMatch)


def matching_silence(silences: Iterable[_Silence], labels: Mapping[str, Any]) -> _Silence | None:
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


# -- timed transitions -------------------------------------------------------------------------


def housekeeping(session: Session, rules: RuleSet, now: datetime) -> None:
    """Timed transitions, run by the worker: expired silences and quiet groups. The caller
    commits."""
    resolve_quiet_groups(session, rules, now)
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
