"""The failures CSV: one generator behind ``GET /admin/failures.csv`` and ``receiver export``.

On PostgreSQL the database writes the CSV itself (``COPY (SELECT …) TO STDOUT``, the SELECT
producing each cell's final text) and the blocks go straight to the response: per-row Python
(result rows, formatting, ``csv.writer``) made a 1M-row export 10x slower than ``psql \\copy``.
SQLite, which has no COPY, formats in Python. Both write the same bytes for the same rows; they
are tested against each other. Cells a spreadsheet would run as a formula are neutralised (OWASP
"CSV injection"): vendor messages and ids are attacker-controlled text.

Lines end with LF (as COPY and psql write), not csv.writer's default CRLF; cells containing a
comma, a quote, CR or LF are quoted, as COPY does, and so are cells containing ``;`` (the
delimiter of spreadsheets in many locales: ``x;=1+2`` unquoted is a formula there; COPY cannot
quote them, so its rows with a ``;`` are written again by the Python writer). Memory stays flat
however many rows match: rows are streamed and passed on in chunks of ``batch_size`` rows.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Generator, Iterator
from contextlib import closing
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, bindparam, case, func, literal
from sqlalchemy.orm import Session

from receiver.failures import COLUMN_NAMES, FailureFilters, iter_failures, select_newest_first

#: CSV column -> the field of a failure row (receiver.failures.COLUMNS) it comes from.
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
HEADER_LINE = (",".join(HEADER) + "\n").encode()
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: A cell a spreadsheet runs: a formula character, also after leading white space (`` =1+1``),
#: or a tab or CR first. The same pattern (explicit characters, no ``\s`` whose meaning differs
#: between Python and PostgreSQL) is matched by both export paths.
FORMULA = "^([\t\r]|[ \t\r\n\f\v]*[-=+@])"
_FORMULA = re.compile(FORMULA)
#: csv.writer quotes cells containing a character of its line terminator: that is how cells with
#: CR, LF (as COPY does) and ``;`` get quoted; the terminator is cut off each line.
LINE_END = "\r\n;"


def neutralize(value: str) -> str:
    """Prefix a quote to cells a spreadsheet would treat as a formula."""
    return "'" + value if _FORMULA.match(value) else value


def _line_writer(lines: list[str]) -> Any:
    """A csv.writer appending each line, without its end, to ``lines``."""
    cut = -len(LINE_END)
    return csv.writer(
        SimpleNamespace(write=lambda line: lines.append(line[:cut])), lineterminator=LINE_END
    )


def csv_lines(
    session: Session,
    filters: FailureFilters,
    batch_size: int = 2000,
    progress: Callable[[int], None] | None = None,
) -> Iterator[bytes]:
    """The header line, then the rows (newest first) in UTF-8 chunks of ``batch_size`` lines.

    Chunks rather than single lines: each chunk is one socket write for the web response, and
    ``progress(n)`` (which may take a lock) is called once per chunk with its number of rows.
    """
    yield HEADER_LINE
    if session.get_bind().dialect.name == "postgresql":
        chunks = _copied_chunks(session, filters, batch_size)
    else:
        chunks = _formatted_chunks(session, filters, batch_size)
    # closing(): an abandoned download ends the COPY (or cursor) at once, not at collection.
    with closing(chunks):
        for rows, chunk in chunks:
            yield chunk
            if progress is not None:
                progress(rows)


def _copied_chunks(
    session: Session, filters: FailureFilters, batch_size: int
) -> Generator[tuple[int, bytes]]:
    dialect = session.get_bind().dialect
    statement = select_newest_first(filters)
    cells = [_sql_cell(name, statement.selected_columns[name]) for name in FIELDS.values()]
    compiled = statement.with_only_columns(*cells).compile(dialect=dialect)
    # COPY takes no server-side parameters: psycopg merges them into the statement client-side
    # (with its own quoting), after the types' bind processing that execute() would apply.
    params = {}
    for name, value in compiled.construct_params().items():
        processor = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
        params[name] = processor(value) if processor else value
    driver = session.connection().connection.driver_connection
    assert driver is not None  # a checked-out connection has its driver's
    cursor = driver.cursor()
    # ENCODING: UTF-8 whatever the connection's client_encoding, like the SQLite path.
    command = f"COPY ({compiled}) TO STDOUT (FORMAT csv, ENCODING 'UTF8')"
    with cursor, cursor.copy(command, params) as copy:
        chunk, rows = bytearray(), 0
        # The server sends one CopyData message per row and psycopg returns one per block, so
        # counting blocks counts rows exactly, even with line breaks inside quoted cells.
        for block in copy:
            row = bytes(block)  # psycopg gives a memoryview
            chunk += _requoted(row) if b";" in row else row
            rows += 1
            if rows == batch_size:
                yield rows, bytes(chunk)
                chunk.clear()
                rows = 0
        if rows:
            yield rows, bytes(chunk)


def _requoted(row: bytes) -> bytes:
    """A row COPY wrote, written again as the Python path writes it (quoting ``;`` cells)."""
    lines: list[str] = []
    for cells in csv.reader(io.StringIO(row.decode("utf-8"), newline="")):
        _line_writer(lines).writerow(cells)
    return _joined(lines)


_FORMULA_PATTERN: BindParameter[str] = bindparam("formula_pattern", FORMULA)


def _sql_cell(field: str, column: ColumnElement[Any]) -> ColumnElement[Any]:
    """The cell text of one column, made by PostgreSQL exactly as :func:`_formatter` makes it."""
    if field == "occurred_at":
        # isoformat() writes microseconds only when they are not zero.
        stamp = func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
        return func.replace(stamp, ".000000Z", "Z")
    if field == "backup_server_used":
        return case((column, "true"), else_="false")
    if field == "id":
        return column
    # COPY writes NULL as an empty cell but '' as `""`; csv.writer writes both as an empty cell.
    return case(
        (column.regexp_match(_FORMULA_PATTERN), literal("'") + column),
        else_=func.nullif(column, ""),
    )


def _formatted_chunks(
    session: Session, filters: FailureFilters, batch_size: int
) -> Generator[tuple[int, bytes]]:
    lines: list[str] = []
    writer = _line_writer(lines)
    for row in iter_failures(session, filters, batch_size):
        writer.writerow(_cells(row))
        if len(lines) == batch_size:
            yield len(lines), _joined(lines)
            lines.clear()
    if lines:
        yield len(lines), _joined(lines)


def _joined(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


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
