"""Database engine, sessions and the column types shared by every model.

Plain SQLAlchemy 2 rather than Flask-SQLAlchemy: the same engine and session factory serve the web
app, the CLI and the tests, and tests can bind the factory to a connection held in a rolled-back
transaction.
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from typing import Any, cast

from flask import Flask, g
from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Integer,
    MetaData,
    Table,
    create_engine,
    event,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from receiver.settings import Settings
from receiver.web_context import current_flask_app, request_globals

# Stable constraint names let Alembic's batch mode rebuild SQLite tables and drop constraints by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: 64-bit ids on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")

#: JSONB on PostgreSQL (indexable, compact), plain JSON text elsewhere.
JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    SQLite has no time zone type and returns naive values; normalising here means the rest of the
    code can always compare and format aware UTC datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def contains_pattern(text: str) -> str:
    """An ``ILIKE … ESCAPE '\\'`` pattern matching ``text`` anywhere, its own % and _ literal."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def insert_for(dialect: str) -> Any:
    """``INSERT`` with ``ON CONFLICT`` for a backend (``dialect.name``)."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE run through a session changed (a CursorResult's count)."""
    return cast(CursorResult[Any], result).rowcount


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONType}


def table_of(model: type[Base]) -> Table:
    """A model's table, for Core statements (typed as the Table it is)."""
    table: Table = model.__table__  # type: ignore[assignment]  # a FromClause to the stubs
    return table


def make_engine(settings: Settings) -> Engine:
    """Create the engine with settings that make outages visible quickly instead of hanging."""
    if settings.database_url.startswith("sqlite"):
        engine = create_engine(
            settings.database_url,
            connect_args={"timeout": settings.sqlite_busy_timeout, "check_same_thread": False},
        )
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin)
        return engine
    return create_engine(
        settings.database_url,
        # No pre-ping: it cost two extra round trips per request (of ~7). A connection dropped by
        # a database restart fails its first statement instead; SQLAlchemy recognises the
        # disconnect and discards the whole pool, that request answers 503 and the vendor
        # retries (tests/reliability/test_database_outage.py). Recycling bounds idle age.
        pool_recycle=1800,
        # The session always ends its transaction before returning a connection, so the pool's
        # extra ROLLBACK on return would be one more wasted round trip.
        pool_reset_on_return=None,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_timeout=settings.db_pool_timeout,
        connect_args={"connect_timeout": max(1, int(settings.db_pool_timeout))},
    )


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself (see _begin_immediate) instead of pysqlite's lazy BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets readers (admin pages) proceed while a notification is being written, and
    # synchronous=FULL keeps the "stored before 2xx" promise across power loss.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _begin(connection: Any) -> None:
    # pysqlite's implicit BEGIN (only before DML) breaks SAVEPOINTs; emit BEGIN ourselves, the
    # recipe from SQLAlchemy's SQLite dialect documentation. Ingest transactions start with an
    # INSERT, so they take the write lock first and wait for the busy timeout when contended.
    # A transaction that reads before it writes (the alert worker) asks for BEGIN IMMEDIATE with
    # the execution option below: a deferred one could not turn its read snapshot into a write
    # once another connection had committed, and would fail at once instead of waiting.
    immediate = connection.get_execution_options().get(SQLITE_IMMEDIATE)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


#: ``session.connection(execution_options={SQLITE_IMMEDIATE: True})`` before the first statement.
SQLITE_IMMEDIATE = "sqlite_begin_immediate"


class Database:
    """The engine and session factory of one app, reachable as ``app.extensions["db"]``."""

    def __init__(self, settings: Settings) -> None:
        self.engine = make_engine(settings)
        self.sessionmaker = sessionmaker(bind=self.engine, expire_on_commit=False)
        # SQLite has one writer at a time, and a connection that finds the file locked sleeps in
        # SQLite's busy handler (1, 2, 5, 10, 15… ms between tries) even when the lock was freed
        # just after it looked: p99 at half of the maximum ingest rate was 16-28 ms. Threads of
        # this process take turns on a lock instead and get the file as soon as it is free (p99
        # 4.3 ms; bench/). Other processes (more gunicorn workers) still meet the busy handler.
        # PostgreSQL locks rows, not the database: there the turn is no lock at all.
        self.write_turn: AbstractContextManager[Any] = (
            threading.Lock() if self.engine.dialect.name == "sqlite" else nullcontext()
        )

    def init_app(self, app: Flask) -> None:
        app.extensions["db"] = self
        app.teardown_appcontext(_close_request_session)


def get_database(app: Flask) -> Database:
    # Annotated rather than cast(): this runs several times per request.
    database: Database = app.extensions["db"]
    return database


def get_session() -> Session:
    """The session of the current request or CLI command, opened on first use."""
    context = request_globals()  # not through the proxy: ingest asks several times a request
    session: Session | None = context.get("db_session")
    if session is None:
        session = context.db_session = get_database(current_flask_app()).sessionmaker()
    return session


def _close_request_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
