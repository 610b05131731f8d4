"""What is failing now: groups filtered and sorted for the admin's landing page, ``GET /api/groups``
and ``receiver groups list`` alike (one query, so all three tell the same story).

Groups are few (one per vendor + category + code by default) even when failures are millions,
and each carries its counts (kept by the ingest upsert), so a page of groups is one small sorted
read. What needs the failures themselves (the count in the last 24 hours and the hourly trend)
is one grouped range scan of the links' ``(group_id, occurred_at)`` index for the groups shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from marshmallow import fields, validate
from sqlalchemy import ColumnElement, Integer, case, cast, func, literal, or_, select, union
from sqlalchemy.orm import Session

from receiver.alerts import history
from receiver.alerts.groups import GROUP_STATES
from receiver.alerts.rules import GROUP_FIELDS
from receiver.alerts.triage import TRIAGE_STATES, group_states, triage_state
from receiver.backups import list_backups
from receiver.catalog import SEVERITIES, Catalog, CatalogEntry
from receiver.db import contains_pattern
from receiver.models import AlertGroup, AlertGroupFailure, Failure, Job, JobFile, TriageEvent
from receiver.query_args import QueryArgsSchema

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
#: The time-range filter: groups with a failure that occurred in the last …
PERIODS: Mapping[str, timedelta] = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
TREND_HOURS = 24
HOUR = timedelta(hours=1)
#: Ids are searched from three characters on: a trigram index cannot help a shorter fragment,
#: which would read every job and output (250 ms at 1M failures for "S3").
MIN_ID_SEARCH = 3


class GroupQuerySchema(QueryArgsSchema):
    """Query-string filters of the grouped view (admin, API and CLI)."""

    vendor = fields.String(validate=validate.Length(max=32))
    category = fields.String(validate=validate.Length(max=32))
    severity = fields.String(validate=validate.OneOf(SEVERITIES))
    state = fields.String(
        validate=validate.OneOf(TRIAGE_STATES),
        metadata={"description": "open (pending, firing or silenced), acknowledged, resolved"},
    )
    period = fields.String(
        validate=validate.OneOf(list(PERIODS)),
        metadata={"description": "only groups with a failure that occurred in the last 1h … 30d"},
    )
    q = fields.String(
        validate=validate.Length(max=200),
        metadata={
            "description": "text in a label, the code's catalog name or description, "
            "or a job / output id of one of the group's failures"
        },
    )
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    limit = fields.Integer(
        load_default=DEFAULT_PAGE_SIZE, validate=validate.Range(1, MAX_PAGE_SIZE)
    )


@dataclass(frozen=True)
class GroupFilters:
    vendor: str | None = None
    category: str | None = None
    severity: str | None = None
    state: str | None = None
    period: str | None = None
    q: str | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> GroupFilters:
        return cls(**{name: args.get(name) for name in cls.__dataclass_fields__})

    def query_args(self) -> dict[str, str]:
        """The filters as URL query arguments (to keep them in links)."""
        return {
            name: value
            for name in self.__dataclass_fields__
            if (value := getattr(self, name)) is not None
        }


def load_group_query(args: Any) -> tuple[GroupFilters, int, int]:
    """Parse query arguments; raises ``marshmallow.ValidationError`` with field messages."""
    loaded = GroupQuerySchema().load(args)
    return GroupFilters.from_args(loaded), loaded["page"], loaded["limit"]


@dataclass(frozen=True)
class GroupRow:
    """One group as the overview shows it."""

    group: AlertGroup
    #: The code's catalog entry (for groups of several codes: their latest failure's).
    entry: CatalogEntry | None
    last_24h: int
    #: Failures per hour, oldest first; the last bar is the current hour.
    trend: list[int]
    trend_start: datetime
    several_codes: bool = False

    @property
    def triage(self) -> str:
        return triage_state(self.group.state)

    @property
    def labels(self) -> list[tuple[str, str]]:
        """The group's labels in the rules' order (vendor, category, severity, code, label, job):
        PostgreSQL's JSONB keeps keys in an order of its own."""
        return ordered_labels(self.group.labels)

    @property
    def action(self) -> str | None:
        """The catalog's recommended action, for a backup copy's group the backup one."""
        return self.entry.action if self.entry else None


@dataclass(frozen=True)
class GroupPage:
    rows: list[GroupRow]
    page: int
    has_next: bool
    counts: dict[str, int] = field(default_factory=dict)  # groups per triage state, unfiltered


def group_page(
    session: Session,
    catalog: Catalog,
    filters: GroupFilters,
    now: datetime,
    page: int = 1,
    limit: int = DEFAULT_PAGE_SIZE,
) -> GroupPage:
    """Groups matching ``filters``: open first, then acknowledged, then resolved, each most
    recently failing first."""
    statement = (
        select(AlertGroup)
        .where(*group_conditions(filters, catalog, now))
        .order_by(_state_rank(), AlertGroup.last_occurred_at.desc(), AlertGroup.id.desc())
        .offset((page - 1) * limit)
        .limit(limit + 1)
    )
    groups = list(session.scalars(statement))
    shown = groups[:limit]
    return GroupPage(
        rows=describe(session, catalog, shown, now),
        page=page,
        has_next=len(groups) > limit,
        counts=triage_counts(session),
    )


def describe(
    session: Session, catalog: Catalog, groups: Sequence[AlertGroup], now: datetime
) -> list[GroupRow]:
    """Rows for ``groups``: catalog entry, the last 24 hours' count and the hourly trend."""
    recent = recent_counts(session, [group.id for group in groups], now)
    latest_codes = _latest_codes(session, [g.id for g in groups if "code" not in g.labels])
    rows = []
    for group in groups:
        vendor = group.labels.get("vendor")
        code = group.labels.get("code") or latest_codes.get(group.id)
        entry = None
        if vendor and code:
            entry = catalog.lookup(vendor, code, backup_server=group.backup_count > 0)
        last_24h, trend = recent.get(group.id, (0, [0] * TREND_HOURS))
        rows.append(
            GroupRow(
                group=group,
                entry=entry,
                last_24h=last_24h,
                trend=trend,
                trend_start=trend_start(now),
                several_codes="code" not in group.labels,
            )
        )
    return rows


def ordered_labels(labels: Mapping[str, str]) -> list[tuple[str, str]]:
    rank = {name: index for index, name in enumerate(GROUP_FIELDS)}
    return sorted(labels.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0]))


def trend_start(now: datetime) -> datetime:
    """The start of the trend's first hour: 24 whole hours, the last one the current hour."""
    return now.replace(minute=0, second=0, microsecond=0) - (TREND_HOURS - 1) * HOUR


def recent_counts(
    session: Session, group_ids: Sequence[int], now: datetime
) -> dict[int, tuple[int, list[int]]]:
    """Per group: failures that occurred in the last 24 hours, and per hour of the trend."""
    if not group_ids:
        return {}
    first_hour = trend_start(now)
    since = first_hour - HOUR  # the hour before the trend: part of it is in the last 24 h
    links = AlertGroupFailure
    hour = _hours_since(session, links.occurred_at, since)
    rows = session.execute(
        select(
            links.group_id,
            hour,
            func.count(),
            func.sum(case((links.occurred_at > now - TREND_HOURS * HOUR, 1), else_=0)),
        )
        .where(links.group_id.in_(group_ids), links.occurred_at >= since, links.occurred_at <= now)
        .group_by(links.group_id, hour)
    )
    found: dict[int, tuple[int, list[int]]] = {}
    for group_id, hours, number, in_last_day in rows:
        total, trend = found.get(group_id, (0, [0] * TREND_HOURS))
        index = int(hours) - 1  # hour 0 is the one before the trend
        if 0 <= index < TREND_HOURS:
            trend[index] += number
        found[group_id] = (total + int(in_last_day or 0), trend)
    return found


def _hours_since(session: Session, column: Any, start: datetime) -> Any:
    """Whole hours from ``start`` to ``column`` (both UTC; the column is never before start)."""
    epoch = int(start.timestamp())
    if session.get_bind().dialect.name == "postgresql":
        return func.floor((func.extract("epoch", column) - epoch) / 3600)
    # SQLite keeps naive UTC text; strftime('%s') reads it as UTC seconds.
    return (cast(func.strftime("%s", column), Integer) - epoch) / literal(3600)


def _latest_codes(session: Session, group_ids: Sequence[int]) -> dict[int, str]:
    """For groups spanning several codes (no ``code`` in their group_by): their latest code."""
    codes = {}
    for group_id in group_ids:
        code = session.scalar(
            select(Failure.code)
            .join(AlertGroupFailure, AlertGroupFailure.failure_id == Failure.id)
            .where(AlertGroupFailure.group_id == group_id)
            .order_by(AlertGroupFailure.occurred_at.desc())
            .limit(1)
        )
        if code is not None:
            codes[group_id] = code
    return codes


def triage_counts(session: Session) -> dict[str, int]:
    """Groups per triage state (the tabs of the landing page)."""
    counts = dict.fromkeys(TRIAGE_STATES, 0)
    for state, number in session.execute(
        select(AlertGroup.state, func.count()).group_by(AlertGroup.state)
    ):
        counts[triage_state(state)] = counts.get(triage_state(state), 0) + number
    return counts


def group_conditions(
    filters: GroupFilters, catalog: Catalog, now: datetime
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    for name in ("vendor", "category"):
        if (value := getattr(filters, name)) is not None:
            where.append(label(name) == value)
    if filters.severity is not None:
        where.append(AlertGroup.severity == filters.severity)
    if filters.state is not None:
        where.append(AlertGroup.state.in_(group_states(filters.state)))
    if filters.period is not None:
        # The latest failure is in the period exactly when some failure is.
        where.append(AlertGroup.last_occurred_at >= now - PERIODS[filters.period])
    if filters.q:
        where.append(_text_condition(filters.q, catalog))
    return where


def label(name: str) -> Any:
    """A group label as text (JSON on both backends)."""
    return AlertGroup.labels[name].as_string()


def _text_condition(text: str, catalog: Catalog) -> ColumnElement[bool]:
    pattern = contains_pattern(text)
    needle = text.casefold()
    # The catalog is in memory: codes whose name or description mention the text.
    codes = sorted(
        {
            entry.code
            for entry in catalog.entries()
            if needle in (entry.name or "").casefold() or needle in entry.description.casefold()
        }
    )
    branches = [label(name).ilike(pattern, escape="\\") for name in GROUP_FIELDS]
    if codes:
        branches.append(label("code").in_(codes))
    if len(text) >= MIN_ID_SEARCH:
        branches.append(AlertGroup.id.in_(_groups_of_ids_like(pattern)))
    return or_(*branches)


def _groups_of_ids_like(pattern: str) -> Any:
    """Groups holding a failure whose job or output id matches (trigram-indexed lookups)."""
    jobs = select(Job.id).where(Job.external_id.ilike(pattern, escape="\\"))
    files = select(JobFile.id).where(JobFile.external_id.ilike(pattern, escape="\\"))
    # Two index lookups (by job, by file) rather than one OR, which PostgreSQL plans as a scan
    # of every failure.
    failures = union(
        select(Failure.id).where(Failure.job_id.in_(jobs)),
        select(Failure.id).where(Failure.job_file_id.in_(files)),
    )
    return select(AlertGroupFailure.group_id).where(AlertGroupFailure.failure_id.in_(failures))


def _state_rank() -> Any:
    """Open groups first, then acknowledged, then resolved."""
    ranks = {state: TRIAGE_STATES.index(triage_state(state)) for state in GROUP_STATES}
    return case(ranks, value=AlertGroup.state, else_=len(TRIAGE_STATES))


# -- one group ------------------------------------------------------------------------------------


def group_events(
    session: Session,
    *,
    group_id: int | None = None,
    failure_id: int | None = None,
    limit: int = 100,
) -> list[TriageEvent]:
    """State changes of a group (its own, not each of its failures') or of a failure, newest
    first."""
    statement = select(TriageEvent).order_by(TriageEvent.id.desc()).limit(limit)
    if group_id is not None:
        statement = statement.where(
            TriageEvent.group_id == group_id, TriageEvent.failure_id.is_(None)
        )
    if failure_id is not None:
        statement = statement.where(TriageEvent.failure_id == failure_id)
    return list(session.scalars(statement))


def event_as_dict(event: TriageEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": event.at,
        "actor": event.actor,
        "via": event.via,
        "action": event.action,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "note": event.note,
        "group_id": event.group_id,
        "failure_id": event.failure_id,
        "cause_id": event.cause_id,
        "failure_count": event.failure_count,
    }


def row_as_dict(row: GroupRow) -> dict[str, Any]:
    """A group as the API and ``receiver groups list --json`` give it."""
    group = row.group
    return {
        "id": group.id,
        "state": row.triage,
        "alert_state": group.state,
        "rule": group.rule,
        "labels": group.labels,
        "severity": group.severity,
        "code_name": row.entry.name if row.entry else None,
        "action": row.action,
        "failure_count": group.failure_count,
        "failures_last_24h": row.last_24h,
        "trend_24h": row.trend,
        "trend_start": row.trend_start,
        "job_count": group.job_count,
        "backup_count": group.backup_count,
        "first_occurred_at": group.first_occurred_at,
        "last_occurred_at": group.last_occurred_at,
        "first_received_at": group.first_seen_at,
        "last_received_at": group.last_seen_at,
        "reopened_count": group.reopened_count,
        "acknowledged_at": group.acknowledged_at,
        "acknowledged_by": group.acknowledged_by,
        "resolved_at": group.resolved_at if group.state == "resolved" else None,
        "resolved_by": group.resolved_by if group.state == "resolved" else None,
        "silenced_until": group.silenced_until,
        "last_notified_at": group.last_notified_at,
        "fingerprint": group.fingerprint,
    }


def group_detail(
    session: Session, catalog: Catalog, group_id: int, now: datetime
) -> dict[str, Any] | None:
    """One group for ``GET /api/groups/<id>`` and ``receiver groups show``: the row, its state
    history, its backup copies and what was sent about it."""
    group = session.get(AlertGroup, group_id)
    if group is None:
        return None
    [row] = describe(session, catalog, [group], now)
    alerts = history.group_detail(session, group_id) or {}
    return {
        **row_as_dict(row),
        "events": [event_as_dict(event) for event in group_events(session, group_id=group_id)],
        "backups": [copy.as_dict(now) for copy in list_backups(session, now, group_id=group_id)],
        "notifications": alerts.get("notifications", []),
    }
