"""Core statements compiled once and run straight on the driver's cursor.

Ingest runs the same few statements for every notification (the claim, the job and file
upserts, the failure insert, the group upsert, the outbox). Through ``Connection.execute``
each one paid SQLAlchemy's per-execution work on top of the driver's: a cache key of the
statement, an execution context, parameter processing, a result object with its metadata and
the event hooks — about 150k instructions per statement measured alone, as much as the
driver itself. Here a statement is compiled by SQLAlchemy once per dialect and set of
parameter names, so the SQL is exactly what ``Connection.execute`` would send (bind casts,
``ON CONFLICT``, ``RETURNING``), and then run with the driver's cursor of the caller's
connection, inside the caller's transaction.

What SQLAlchemy did per execution and still happens here: the columns' Python-side defaults
(``default=``) of an INSERT, the types' bind processors (our UTC datetimes, JSON) and result
processors, and the translation of a driver error into SQLAlchemy's exception classes, with a
lost connection invalidated and the pool replaced, so "the database is down" still answers 503
and the next request gets a fresh connection (``tests/reliability/test_database_outage.py``).
Not supported, and refused when the statement is compiled: expanding ``IN`` parameters and
SQL-side or sequence defaults that SQLAlchemy would pre-execute.
"""

from __future__ import annotations

import threading
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement

Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    #: Parameter names in the order of the SQL's placeholders (positional drivers: SQLite).
    positional: tuple[str, ...] | None
    bind_processors: tuple[tuple[str, Processor], ...]
    #: Values the statement carries itself (``case(... == "regression")``), by name.
    constants: tuple[tuple[str, Any], ...]
    #: (name, column) of each Python-side INSERT default the caller did not give.
    defaults: tuple[tuple[str, Column[Any]], ...]
    result_processors: tuple[Processor | None, ...] | None
    row_type: Any


#: Compiled statements kept: ingest uses a dozen; tests build more.
CACHE_SIZE = 1024
_cache: dict[tuple[Any, ...], tuple[ClauseElement, _Compiled]] = {}
_cache_lock = threading.Lock()


def fetch_all(
    connection: Connection, statement: ClauseElement, params: Mapping[str, Any]
) -> list[Any]:
    """Run ``statement`` once with ``params``; its rows (named tuples), or ``[]``."""
    compiled = _compiled(connection.dialect, statement, params, many=False)
    values = _parameters(compiled, params)
    cursor = _cursor(connection)
    try:
        cursor.execute(compiled.sql, values)
        if compiled.result_processors is None:
            return []
        rows = cursor.fetchall()
    except connection.dialect.loaded_dbapi.Error as error:
        raise _translated(connection, compiled.sql, error) from error
    finally:
        cursor.close()
    return [compiled.row_type._make(_processed(compiled, row)) for row in rows]


def fetch_first(
    connection: Connection, statement: ClauseElement, params: Mapping[str, Any]
) -> Any | None:
    """The first row of ``statement``, or ``None`` (an ``ON CONFLICT DO NOTHING`` that did)."""
    rows = fetch_all(connection, statement, params)
    return rows[0] if rows else None


def fetch_scalar(
    connection: Connection, statement: ClauseElement, params: Mapping[str, Any]
) -> Any | None:
    """The first column of the first row, or ``None``."""
    row = fetch_first(connection, statement, params)
    return None if row is None else row[0]


def execute_many(
    connection: Connection, statement: ClauseElement, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Run ``statement`` (no ``RETURNING``) once per parameter set, in one driver call."""
    if not rows:
        return
    compiled = _compiled(connection.dialect, statement, rows[0], many=True)
    values = [_parameters(compiled, row) for row in rows]
    cursor = _cursor(connection)
    try:
        cursor.executemany(compiled.sql, values)
    except connection.dialect.loaded_dbapi.Error as error:
        raise _translated(connection, compiled.sql, error) from error
    finally:
        cursor.close()


def _cursor(connection: Connection) -> Any:
    # The pooled DBAPI connection of the caller's Connection, in its transaction: asking for it
    # begins that transaction if the caller had not (SQLite's BEGIN is our event, db._begin).
    return connection.connection.cursor()


def _compiled(
    dialect: Dialect, statement: ClauseElement, params: Mapping[str, Any], many: bool
) -> _Compiled:
    # Keyed by the statement object, which callers build once and keep (module level or
    # functools.cache); the object is held in the entry so its id() is never reused. The
    # parameter names matter for an INSERT without .values(): they choose its columns.
    # A caller that builds its statement per call would grow the cache without end: past the
    # bound it starts again (an id freed by an evicted statement may be reused, never looked up).
    key = (id(statement), dialect.name, dialect.driver, frozenset(params), many)
    entry = _cache.get(key)
    if entry is None:
        compiled = _compile(dialect, statement, params, many)
        with _cache_lock:
            if len(_cache) >= CACHE_SIZE:
                _cache.clear()
            entry = _cache.setdefault(key, (statement, compiled))
    return entry[1]


def _compile(
    dialect: Dialect, statement: ClauseElement, params: Mapping[str, Any], many: bool
) -> _Compiled:
    # for_executemany: no implicit RETURNING of the primary key for rows nobody reads.
    compiled: Any = statement.compile(
        dialect=dialect, column_keys=list(params), for_executemany=many
    )
    if compiled.post_compile_params or compiled.literal_execute_params:
        raise ValueError("expanding parameters (IN lists) are not supported here")
    defaults = []
    for column in compiled.insert_prefetch:
        default = column.default
        if default is None or not (default.is_scalar or default.is_callable):
            raise ValueError(f"{column} has a default that SQLAlchemy would pre-execute")
        defaults.append((column.key, column))
    defaulted = {name for name, _column in defaults}
    rendered = compiled.bind_names  # each bind parameter -> its name in the SQL
    constants = []
    for bind, name in rendered.items():
        if name not in params and name not in defaulted:
            if bind.required:
                raise ValueError(f"no value for the parameter {name!r}")
            constants.append((name, bind.effective_value))
    # A name used twice (``now`` in both bounds of a range) is one parameter: processed once.
    processors = {
        name: bind.type.dialect_impl(dialect).bind_processor(dialect)
        for bind, name in rendered.items()
    }
    bind_processors = tuple(
        (name, processor) for name, processor in processors.items() if processor is not None
    )
    # What a caller reads: a SELECT's columns or an explicit RETURNING's. (An INSERT run once
    # may also carry an implicit RETURNING of its primary key, which nobody reads here.)
    returned = list(getattr(statement, "exported_columns", ()))
    result_processors = (
        tuple(_result_processor(dialect, column) for column in returned) if returned else None
    )
    names = [getattr(column, "key", None) or f"column_{i}" for i, column in enumerate(returned)]
    return _Compiled(
        sql=compiled.string,
        positional=tuple(compiled.positiontup) if dialect.positional else None,
        bind_processors=bind_processors,
        constants=tuple(constants),
        defaults=tuple(defaults),
        result_processors=result_processors,
        row_type=namedtuple("Row", names, rename=True),
    )


def _result_processor(dialect: Dialect, column: Any) -> Processor | None:
    processor: Processor | None = column.type.dialect_impl(dialect).result_processor(dialect, None)
    return processor


def _parameters(compiled: _Compiled, params: Mapping[str, Any]) -> Any:
    values = dict(params)
    values.update(compiled.constants)
    for name, column in compiled.defaults:
        default: Any = column.default
        values[name] = default.arg(None) if default.is_callable else default.arg
    for name, processor in compiled.bind_processors:
        values[name] = processor(values[name])
    if compiled.positional is not None:
        return tuple(values[name] for name in compiled.positional)
    return values


def _processed(compiled: _Compiled, row: Sequence[Any]) -> Sequence[Any]:
    processors = compiled.result_processors or ()
    if not any(processors):
        return row
    return [
        value if processor is None else processor(value)
        for value, processor in zip(row, processors, strict=True)
    ]


def _translated(connection: Connection, sql: str, error: Any) -> BaseException:
    """The driver's error as SQLAlchemy would raise it; a lost connection is invalidated and
    the pool replaced, as ``Connection.execute`` does (every pooled connection is suspect
    after a database restart)."""
    dialect = connection.dialect
    disconnect = dialect.is_disconnect(error, connection.connection.dbapi_connection, None)
    if disconnect:
        connection.engine.dispose(close=False)
        connection.invalidate(error)
    translated: BaseException = DBAPIError.instance(
        sql,
        None,
        error,
        dialect.loaded_dbapi.Error,
        hide_parameters=True,
        connection_invalidated=disconnect,
        dialect=dialect,
    )
    return translated
