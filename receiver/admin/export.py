"""The failures CSV: one generator behind ``GET /admin/failures.csv`` and ``receiver export``.

Rows are read in keyset batches and written one line at a time, so memory stays flat however
many rows match. Cells a spreadsheet would run as a formula are neutralised (OWASP "CSV
injection"): vendor messages and ids are attacker-controlled text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from receiver.admin.query import COLUMN_NAMES, FailureFilters, iter_failures

#: CSV column -> the field of a failure row (receiver.admin.query.COLUMNS) it comes from.
FIELDS = {
    "id": "id",
    "occurred_at": "occurred_at",
    "vendor": "vendor",
    "job_kind": "job_kind",
    "job_id": "job_external_id",
    "output_label": "output_label",
    "file_id": "file_external_id",
    "code": "code",
    "code_name": "code_name",
    "category": "category",
    "severity": "severity",
    "retryable": "retryable",
    "status": "status",
    "backup_server_used": "backup_server_used",
    "message": "message",
    "link": "link",
}
HEADER = tuple(FIELDS)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: str) -> str:
    """Prefix a quote to cells a spreadsheet would treat as a formula."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def csv_lines(
    session: Session,
    filters: FailureFilters,
    batch_size: int = 2000,
    progress: Callable[[int], None] | None = None,
) -> Iterator[str]:
    """The header line, then the rows (newest first) in chunks of ``batch_size`` lines.

    Chunks rather than single lines: each chunk is one socket write for the web response, and
    ``progress(n)`` (which may take a lock) is called once per chunk.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def drain() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(HEADER)
    yield drain()
    pending = 0
    for row in iter_failures(session, filters, batch_size):
        writer.writerow(_cells(row))
        pending += 1
        if pending == batch_size:
            yield drain()
            if progress is not None:
                progress(pending)
            pending = 0
    if pending:
        yield drain()
        if progress is not None:
            progress(pending)


def _formatter(field: str) -> Callable[[Any], str]:
    """One formatting function per column, chosen once rather than type-tested per cell."""
    if field == "occurred_at":
        return lambda value: value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if field == "backup_server_used":
        return lambda value: "true" if value else "false"
    if field == "id":
        return str
    return lambda value: "" if value is None else neutralize(str(value))


#: (position in the row, formatter) per CSV column, in header order.
_PLAN = tuple((COLUMN_NAMES.index(field), _formatter(field)) for field in FIELDS.values())


def _cells(row: Any) -> list[str]:
    return [fmt(row[index]) for index, fmt in _PLAN]


def export_filename(now: datetime) -> str:
    return f"failures-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}.csv"
