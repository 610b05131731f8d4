"""Finding failures: the filters, keyset pages and per-day counts behind the admin list, the CSV
export (web and CLI) and the JSON API, so all of them answer the same question the same way.

Pages are keyset pages on ``(occurred_at DESC, id DESC)``: the cursor is the last row seen, so
page 500 costs what page 1 costs (an index range scan), unlike OFFSET which reads and discards
every earlier row.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from marshmallow import ValidationError, fields, validate
from sqlalchemy import ColumnElement, Row, Select, Text, cast, func, or_, select, tuple_, union
from sqlalchemy.orm import Session

from receiver.catalog import SEVERITIES
from receiver.db import contains_pattern
from receiver.models import AlertGroupFailure, Failure, Job, JobFile
from receiver.query_args import QueryArgsSchema

FAILURE_STATUSES = ("open", "acknowledged", "resolved")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
#: The chart covers the filtered range, or this many days up to its end when no start is given.
CHART_DEFAULT_DAYS = 30
CHART_MAX_DAYS = 180


class PageQuerySchema(QueryArgsSchema):
    """What every keyset-paged list's query has: the cursor and the page size."""

    cursor = fields.String(
        validate=validate.Length(max=200),
        metadata={"description": "opaque position from the previous page's next_cursor"},
    )
    limit = fields.Integer(
        load_default=DEFAULT_PAGE_SIZE, validate=validate.Range(1, MAX_PAGE_SIZE)
    )


class FailureQuerySchema(PageQuerySchema):
    """Query-string filters shared by the admin list, the CSV export, the API and the CLI."""

    vendor = fields.String(validate=validate.Length(max=32), metadata={"description": "vendor"})
    category = fields.String(validate=validate.Length(max=32))
    severity = fields.String(validate=validate.OneOf(SEVERITIES))
    code = fields.String(validate=validate.Length(max=128), metadata={"description": "exact code"})
    status = fields.String(validate=validate.OneOf(FAILURE_STATUSES))
    since = fields.Date(metadata={"description": "first day (UTC), inclusive"})
    until = fields.Date(metadata={"description": "last day (UTC), inclusive"})
    q = fields.String(
        validate=validate.Length(max=200),
        metadata={
            "description": "text in the job id, output id or label, the message, or the job's "
            "attributes (e.g. the ids a caller put in a job's metadata)"
        },
    )
    group = fields.Integer(
        validate=validate.Range(min=1), metadata={"description": "only this group's failures"}
    )


@dataclass(frozen=True)
class FailureFilters:
    vendor: str | None = None
    category: str | None = None
    severity: str | None = None
    code: str | None = None
    status: str | None = None
    since: date | None = None
    until: date | None = None
    q: str | None = None
    group: int | None = None

    @classmethod
    def from_args(cls, args: dict[str, Any]) -> FailureFilters:
        """From the output of :class:`FailureQuerySchema` (ignores cursor and limit)."""
        return cls(**{name: args.get(name) for name in cls.__dataclass_fields__})

    def query_args(self) -> dict[str, Any]:
        """The filters as URL query arguments (to keep them in links): text values."""
        return {
            name: value.isoformat() if isinstance(value, date) else str(value)
            for name in self.__dataclass_fields__
            if (value := getattr(self, name)) is not None
        }


def load_query(args: Any) -> tuple[FailureFilters, Cursor | None, int]:
    """Parse query arguments; raises ``marshmallow.ValidationError`` with field messages."""
    loaded = FailureQuerySchema().load(args)
    cursor = Cursor.decode(loaded["cursor"]) if loaded.get("cursor") else None
    return FailureFilters.from_args(loaded), cursor, loaded["limit"]


@dataclass(frozen=True)
class Cursor:
    """The last row of a page; opaque to clients (base64 of ``<iso time>|<id>``)."""

    occurred_at: datetime
    id: int

    def encode(self) -> str:
        raw = f"{self.occurred_at.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            when, _, ident = raw.partition("|")
            occurred_at = datetime.fromisoformat(when)
            if occurred_at.tzinfo is None:
                raise ValueError("naive time")
            return cls(occurred_at.astimezone(UTC), int(ident))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise ValidationError("not a cursor from this API", "cursor") from None


#: One row of the list / export / API: the failure with the job and file it concerns.
COLUMNS = (
    Failure.id,
    Failure.occurred_at,
    Failure.vendor,
    Job.kind.label("job_kind"),
    Job.external_id.label("job_external_id"),
    JobFile.kind.label("file_kind"),
    JobFile.external_id.label("file_external_id"),
    JobFile.label.label("output_label"),
    Failure.code,
    Failure.code_name,
    Failure.category,
    Failure.severity,
    Failure.retryable,
    Failure.message,
    Failure.link,
    Failure.backup_server_used,
    Failure.status,
)


COLUMN_NAMES = tuple(column.key for column in COLUMNS)


def conditions(filters: FailureFilters) -> list[ColumnElement[bool]]:
    """WHERE clauses for the filters (the text search as a per-row test: for counts and charts,
    which read the whole range anyway; pages use :func:`_text_candidates`)."""
    where = _field_conditions(filters)
    if filters.q:
        where.append(or_(*_text_branches(filters.q)))
    return where


def _field_conditions(filters: FailureFilters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    for name in ("vendor", "category", "severity", "code", "status"):
        if (value := getattr(filters, name)) is not None:
            where.append(getattr(Failure, name) == value)
    if filters.since is not None:
        where.append(Failure.occurred_at >= _start_of(filters.since))
    if filters.until is not None:
        where.append(Failure.occurred_at < _start_of(filters.until + timedelta(days=1)))
    if filters.group is not None:
        where.append(
            Failure.id.in_(
                select(AlertGroupFailure.failure_id).where(
                    AlertGroupFailure.group_id == filters.group
                )
            )
        )
    return where


def _text_branches(text: str) -> tuple[ColumnElement[bool], ...]:
    """Message, job id, output id or label, or the job's attributes as JSON text contains
    ``text`` (case-insensitive, literal). The attributes are what the vendor said about the job
    beyond its id: the caller's own ids (metadata a job was submitted with) are found there."""
    pattern = contains_pattern(text)

    def like(column: Any) -> ColumnElement[bool]:
        condition: ColumnElement[bool] = column.ilike(pattern, escape="\\")
        return condition

    jobs = select(Job.id).where(like(Job.external_id))
    # A branch of its own: OR-ed into the job id's, it would keep that one off its index.
    described = select(Job.id).where(like(cast(Job.attributes, Text)))
    files = select(JobFile.id).where(or_(like(JobFile.external_id), like(JobFile.label)))
    return (
        like(Failure.message),
        Failure.job_id.in_(jobs),
        Failure.job_id.in_(described),
        Failure.job_file_id.in_(files),
    )


def _text_candidates(filters: FailureFilters, cursor: Cursor | None, size: int) -> Any:
    """Ids that can be on the next page of a text search: each branch's own newest ``size``.

    The newest rows of a union are among the newest rows of its parts, and each part alone is a
    query PostgreSQL plans well: a common word walks the (occurred_at, id) index and stops at
    ``size`` matches; a rare one starts from a trigram index (migration 0003). One OR across them
    would be planned as a full scan for rare words or a full match set for common ones.
    """
    base = [*_field_conditions(filters), *_after(cursor, Failure, "occurred_at")]
    parts = [
        select(Failure.id)
        .where(*base, branch)
        .order_by(Failure.occurred_at.desc(), Failure.id.desc())
        .limit(size)
        .subquery()
        for branch in _text_branches(filters.q or "")
    ]
    return union(*(select(part.c.id) for part in parts))


def _after(cursor: Cursor | None, model: Any, time_attribute: str) -> list[ColumnElement[bool]]:
    if cursor is None:
        return []
    # A row-value comparison, which an index on (time, id) serves as one range scan.
    return [
        tuple_(getattr(model, time_attribute), model.id) < tuple_(cursor.occurred_at, cursor.id)
    ]


def select_failures(filters: FailureFilters) -> Select[Any]:
    return _joined().where(*conditions(filters))


def select_newest_first(filters: FailureFilters) -> Select[Any]:
    """Every matching row, newest first: the export, whether read row by row or by COPY."""
    return select_failures(filters).order_by(Failure.occurred_at.desc(), Failure.id.desc())


def _joined() -> Select[Any]:
    columns: tuple[Any, ...] = COLUMNS  # the row's fields are named, not typed, by position
    return (
        select(*columns)
        .join_from(Failure, Job, Failure.job_id == Job.id)
        .outerjoin(JobFile, Failure.job_file_id == JobFile.id)
    )


@dataclass(frozen=True)
class Page:
    rows: Sequence[Row[Any]]
    next_cursor: Cursor | None


def failure_page(
    session: Session, filters: FailureFilters, cursor: Cursor | None, limit: int
) -> Page:
    statement = _joined().where(*_field_conditions(filters))
    if filters.q:
        statement = statement.where(Failure.id.in_(_text_candidates(filters, cursor, limit + 1)))
    return keyset_page(session, statement, Failure, "occurred_at", cursor, limit)


def failures_by_id(session: Session, ids: Sequence[int]) -> Sequence[Row[Any]]:
    """List rows for the given failures (an alert group's latest), newest first."""
    statement = (
        _joined().where(Failure.id.in_(ids)).order_by(Failure.occurred_at.desc(), Failure.id.desc())
    )
    return session.execute(statement).all()


def keyset_page(
    session: Session,
    statement: Select[Any],
    model: Any,
    time_attribute: str,
    cursor: Cursor | None,
    limit: int,
) -> Page:
    """One page of ``statement`` ordered by ``(time, id)`` descending, after ``cursor``."""
    time_column, id_column = getattr(model, time_attribute), model.id
    statement = (
        statement.where(*_after(cursor, model, time_attribute))
        .order_by(time_column.desc(), id_column.desc())
        .limit(limit + 1)
    )
    rows = session.execute(statement).all()
    if len(rows) <= limit:
        return Page(rows, None)
    last = rows[limit - 1]
    # Column rows carry the fields; entity rows (select(Model)) carry the object.
    holder = last[0] if isinstance(last[0], model) else last
    return Page(rows[:limit], Cursor(getattr(holder, time_attribute), holder.id))


def iter_failures(
    session: Session, filters: FailureFilters, batch_size: int = 1000
) -> Iterator[Row[Any]]:
    """Every matching row, newest first, streamed in batches of ``batch_size`` (constant memory).

    One query on a server-side cursor (``yield_per``: a named cursor on PostgreSQL) rather than
    keyset pages: the database can then join jobs and files once for the whole export (hash
    joins) instead of by index per page, which made a 1M-row export 9x slower than psql's
    ``\\copy``; it also reads one consistent snapshot.
    """
    statement = select_newest_first(filters).execution_options(yield_per=batch_size)
    yield from session.execute(statement)


def count_failures(session: Session, filters: FailureFilters) -> int:
    counted = session.scalar(select(func.count()).select_from(Failure).where(*conditions(filters)))
    return counted or 0


@dataclass(frozen=True)
class DailyCounts:
    first_day: date
    last_day: date
    #: (day, category) -> failures
    counts: dict[tuple[date, str], int]
    truncated: bool  # the filtered range was longer than CHART_MAX_DAYS


def daily_counts(session: Session, filters: FailureFilters, today: date) -> DailyCounts:
    """Failures per UTC day and category over the filtered date range (for the chart)."""
    last_day = filters.until or today
    first_day = filters.since or last_day - timedelta(days=CHART_DEFAULT_DAYS - 1)
    truncated = (last_day - first_day).days >= CHART_MAX_DAYS
    if truncated:
        first_day = last_day - timedelta(days=CHART_MAX_DAYS - 1)
    ranged = FailureFilters(**{**filters.__dict__, "since": first_day, "until": last_day})
    day = _utc_day(session)
    statement = (
        select(day, Failure.category, func.count())
        .where(*conditions(ranged))
        .group_by(day, Failure.category)
    )
    counts = {
        (_as_date(bucket), category): number
        for bucket, category, number in session.execute(statement)
    }
    return DailyCounts(first_day, last_day, counts, truncated)


def _utc_day(session: Session) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        # timezone('UTC', ...) so the session's TimeZone setting cannot move the day boundary.
        return func.date(func.timezone("UTC", Failure.occurred_at))
    return func.date(Failure.occurred_at)  # SQLite stores naive UTC text


def _as_date(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)
