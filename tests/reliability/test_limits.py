"""Overload answers quickly with 503 + Retry-After instead of piling requests up.

When every database connection is busy (PostgreSQL pool exhausted) or the write lock is held
(SQLite), a request waits at most the configured timeout, then tells the vendor to retry.
"""

from __future__ import annotations

from sqlalchemy import text

from receiver import create_app
from receiver.db import get_database
from tests.conftest import make_settings
from tests.helpers import post_fixture


def test_busy_database_answers_503_after_the_timeout(database_url, backend):
    app = create_app(
        make_settings(database_url, db_pool_size=1, db_pool_timeout=0.5, sqlite_busy_timeout=0.5)
    )
    engine = get_database(app).engine
    held = []
    try:
        if backend == "postgresql":
            # Pool size 1 plus 1 overflow: take both connections.
            held = [engine.connect() for _ in range(2)]
            for connection in held:
                connection.execute(text("SELECT 1"))
        else:
            # Another writer holds SQLite's write lock.
            connection = engine.connect()
            connection.exec_driver_sql("COMMIT")  # leave the BEGIN our event emitted
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            held = [connection]
        response = post_fixture(app.test_client(), "lightflow", "asset_error_2503.json")
    finally:
        for connection in held:
            connection.rollback()
            connection.close()
        engine.dispose()

    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert response.json["reason"] == "unavailable"
