"""Statements run on the driver's cursor behave as through ``Connection.execute``.

Ingest's hot statements go through ``receiver.direct_sql``; what SQLAlchemy did for them per
execution (Python-side defaults, bind and result processing, error translation, invalidating
a lost connection) must still happen, on both databases.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import String, bindparam, case, create_engine, exc, insert, select, text

from receiver import direct_sql
from receiver.alerts.groups import _ACTIVE_MATCHERS
from receiver.db import table_of
from receiver.direct_sql import execute_many, fetch_all, fetch_first, fetch_scalar
from receiver.models import Notification, Silence

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def _silence(matchers: dict, starts: datetime, ends: datetime) -> dict:
    return {
        "matchers": matchers,
        "author": "ops",
        "reason": "maintenance",
        "created_at": starts,
        "starts_at": starts,
        "ends_at": ends,
    }


def test_rows_are_what_connection_execute_returns(session):
    connection = session.connection()
    execute_many(
        connection,
        insert(table_of(Silence)),
        [
            _silence({"vendor": ["zencoder"]}, NOW - timedelta(hours=1), NOW + timedelta(hours=1)),
            _silence({"category": ["upload*"]}, NOW - timedelta(hours=2), NOW + timedelta(hours=3)),
            _silence({"vendor": ["agora"]}, NOW + timedelta(hours=1), NOW + timedelta(hours=2)),
        ],
    )

    # ``now`` is used twice in the statement: one parameter, converted once.
    direct = fetch_all(connection, _ACTIVE_MATCHERS, {"now": NOW})
    through_sqlalchemy = connection.execute(_ACTIVE_MATCHERS, {"now": NOW}).all()

    assert [tuple(row) for row in direct] == [tuple(row) for row in through_sqlalchemy]
    assert sorted(row.ends_at for row in direct) == [
        NOW + timedelta(hours=1),
        NOW + timedelta(hours=3),
    ]
    assert all(row.ends_at.tzinfo is not None for row in direct)  # aware UTC, on SQLite too
    assert {next(iter(row.matchers)) for row in direct} == {"vendor", "category"}  # JSON loaded


def test_an_insert_gets_its_python_side_defaults(session):
    connection = session.connection()
    notifications = table_of(Notification)
    statement = insert(notifications).returning(
        notifications.c.id,
        notifications.c.received_at,
        notifications.c.body_truncated,
        notifications.c.duplicate_count,
    )
    before = datetime.now(UTC)

    # received_at, body_truncated and duplicate_count are left to the model's defaults.
    row = fetch_first(
        connection,
        statement,
        {
            "vendor": "zencoder",
            "headers": {},
            "body": b"{}",
            "auth": "passed",
            "status": "stored",
            "http_status": 202,
        },
    )

    assert row is not None
    assert before <= row.received_at <= datetime.now(UTC)
    assert (row.body_truncated, row.duplicate_count) == (False, 0)


def test_values_the_statement_carries_are_sent(session):
    statement = select(
        case((bindparam("kind", type_=String) == "regression", "kept"), else_="replaced")
    )
    connection = session.connection()

    assert fetch_scalar(connection, statement, {"kind": "regression"}) == "kept"
    assert fetch_scalar(connection, statement, {"kind": "firing"}) == "replaced"


def test_a_statement_that_needs_expanding_is_refused(session):
    notifications = table_of(Notification)
    statement = select(notifications.c.id).where(notifications.c.id.in_([1, 2]))

    with pytest.raises(ValueError, match="expanding"):
        fetch_all(session.connection(), statement, {})


def test_a_missing_parameter_is_refused_before_anything_runs(session):
    statement = select(bindparam("a", type_=String), bindparam("b", type_=String))

    with pytest.raises(ValueError, match="'b'"):
        fetch_all(session.connection(), statement, {"a": "x"})


def test_a_driver_error_is_sqlalchemys(session):
    notifications = table_of(Notification)
    # vendor is NOT NULL.
    with pytest.raises(exc.IntegrityError):
        fetch_scalar(
            session.connection(),
            insert(notifications).returning(notifications.c.id),
            {"vendor": None, "headers": {}, "body": b"", "auth": "passed", "status": "stored"},
        )


@pytest.mark.postgres_only
def test_a_lost_connection_is_invalidated_and_the_pool_replaced(database_url):
    engine = create_engine(database_url)
    killer = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        pool = engine.pool
        with engine.connect() as connection:
            pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with killer.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

            # What errors.py turns into 503 + Retry-After.
            with pytest.raises(exc.OperationalError) as raised:
                fetch_scalar(connection, select(bindparam("one", type_=String)), {"one": "1"})
            assert raised.value.connection_invalidated
            assert connection.invalidated
        # Every pooled connection is suspect after a restart: a new pool hands out new ones.
        assert engine.pool is not pool
        with engine.connect() as connection:
            assert (
                fetch_scalar(connection, select(bindparam("one", type_=String)), {"one": "1"})
                == "1"
            )
    finally:
        engine.dispose()
        killer.dispose()


def test_statements_built_per_call_do_not_grow_the_cache_without_end(session, monkeypatch):
    monkeypatch.setattr(direct_sql, "CACHE_SIZE", 8)
    connection = session.connection()
    for number in range(50):
        statement = select(bindparam("n", type_=String))  # a new object every time
        assert fetch_scalar(connection, statement, {"n": str(number)}) == str(number)
    assert len(direct_sql._cache) <= 8
