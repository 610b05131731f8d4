"""Reading rejected notifications for the admin: groups by vendor and reason, and keyset pages
of rows whose body preview the database cuts (a page never loads whole bodies: 500 rows of
1 MiB each took a worker past a gigabyte).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from marshmallow import fields, validate
from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from receiver.failures import Cursor, Page, PageQuerySchema, keyset_page
from receiver.models import Notification

#: Bytes of the body shown in a row (decoded for display as UTF-8, invalid bytes replaced).
PREVIEW_BYTES = 120
#: The time windows the page offers, newest first; ``all`` has no bound.
WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
DEFAULT_WINDOW = "7d"


class RejectedQuerySchema(PageQuerySchema):
    vendor = fields.String(validate=validate.Length(max=32))
    reason = fields.String(validate=validate.Length(max=32))
    window = fields.String(load_default=DEFAULT_WINDOW, validate=validate.OneOf([*WINDOWS, "all"]))


@dataclass(frozen=True)
class RejectedFilters:
    vendor: str | None = None
    reason: str | None = None
    window: str = DEFAULT_WINDOW

    def query_args(self) -> dict[str, Any]:
        args = {"vendor": self.vendor, "reason": self.reason}
        if self.window != DEFAULT_WINDOW:
            args["window"] = self.window
        return {name: value for name, value in args.items() if value}

    def since(self, now: datetime) -> datetime | None:
        span = WINDOWS.get(self.window)
        return now - span if span is not None else None


def load_rejected_query(args: Any) -> tuple[RejectedFilters, Cursor | None, int]:
    """Raises ``marshmallow.ValidationError`` with field messages."""
    loaded = RejectedQuerySchema().load(args)
    cursor = Cursor.decode(loaded["cursor"]) if loaded.get("cursor") else None
    filters = RejectedFilters(loaded.get("vendor"), loaded.get("reason"), loaded["window"])
    return filters, cursor, loaded["limit"]


def _conditions(filters: RejectedFilters, now: datetime, grouped: bool = False) -> list[Any]:
    where: list[Any] = [Notification.status == "rejected"]
    if (since := filters.since(now)) is not None:
        where.append(Notification.received_at >= since)
    if not grouped:
        if filters.vendor:
            where.append(Notification.vendor == filters.vendor)
        if filters.reason:
            where.append(Notification.reason_code == filters.reason)
    return where


@dataclass(frozen=True)
class RejectedGroup:
    vendor: str
    reason: str | None
    count: int
    first_at: datetime
    last_at: datetime


def rejected_groups(
    session: Session, filters: RejectedFilters, now: datetime
) -> Sequence[RejectedGroup]:
    """Rejected notifications in the window by vendor and reason word, latest first."""
    last = func.max(Notification.received_at)
    statement = (
        select(
            Notification.vendor,
            Notification.reason_code,
            func.count(),
            func.min(Notification.received_at),
            last,
        )
        .where(*_conditions(filters, now, grouped=True))
        .group_by(Notification.vendor, Notification.reason_code)
        .order_by(last.desc())
    )
    return [RejectedGroup(*row) for row in session.execute(statement)]


#: A row of the page: everything but the body, whose first bytes and kept size come from SQL.
ROW_COLUMNS = (
    Notification.id,
    Notification.received_at,
    Notification.vendor,
    Notification.http_status,
    Notification.auth,
    Notification.status,
    Notification.reason,
    Notification.reason_code,
    Notification.errors,
    Notification.remote_addr,
    Notification.body_truncated,
    Notification.body_size,
    Notification.replayed_at,
    func.substr(Notification.body, 1, PREVIEW_BYTES).label("preview"),
    func.length(Notification.body).label("kept_bytes"),
)


def rejected_rows(
    session: Session, filters: RejectedFilters, cursor: Cursor | None, limit: int, now: datetime
) -> Page:
    statement = select(*ROW_COLUMNS).where(*_conditions(filters, now))
    return keyset_page(session, statement, Notification, "received_at", cursor, limit)


def preview_text(row: Row[Any]) -> str:
    """The row's first bytes as text, marked when the body goes on."""
    text = bytes(row.preview or b"").decode("utf-8", errors="replace")
    whole = row.body_size or row.kept_bytes or 0
    return text + ("…" if whole > PREVIEW_BYTES else "")
