"""What a notification costs in round trips to PostgreSQL, read off the wire protocol.

A notification that only moves one job is stored by one statement, which PostgreSQL commits by
itself (no BEGIN, no COMMIT: one round trip); anything more is one transaction, committed
before the answer. psycopg's protocol trace shows which messages went to the server.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from typing import IO

import psycopg
import pytest
from sqlalchemy import event, func, select

from receiver.db import get_database
from receiver.models import Failure, Job, Notification
from tests.helpers import FIXTURES, post

pytestmark = pytest.mark.postgres_only


class Wire:
    """Requests to an app whose database connections trace what they send to the server."""

    def __init__(self, app, trace: IO[str]) -> None:
        self.app = app
        self.trace = trace

    def start(self, dbapi_connection, _record, _proxy) -> None:
        dbapi_connection.pgconn.trace(self.trace.fileno())
        flags = psycopg.pq.Trace.SUPPRESS_TIMESTAMPS | psycopg.pq.Trace.REGRESS_MODE
        dbapi_connection.pgconn.set_trace_flags(flags)

    def stop(self, dbapi_connection, _record) -> None:
        dbapi_connection.pgconn.untrace()

    def post(self, vendor: str, body: bytes) -> tuple[int, list[str]]:
        """The answer's status and the frontend messages of the request (``Query "BEGIN"``,
        ``Parse``, ``Bind``, ``Sync`` …); each ``Sync`` or ``Query`` waits for the server."""
        self.trace.seek(0, 2)
        start = self.trace.tell()
        status = post(self.app.test_client(), vendor, body).status_code
        self.trace.seek(start)
        lines = self.trace.read().splitlines()
        sent = [line.split("\t")[2:] for line in lines if line.startswith("F\t")]
        return status, [" ".join(part.strip() for part in message) for message in sent]


@pytest.fixture
def wire(committing_app) -> Iterator[Wire]:
    engine = get_database(committing_app).engine
    engine.dispose()  # fresh connections, each traced from its first checkout
    with tempfile.TemporaryFile("w+") as trace:
        traced = Wire(committing_app, trace)
        event.listen(engine, "checkout", traced.start)
        event.listen(engine, "checkin", traced.stop)
        yield traced
        event.remove(engine, "checkout", traced.start)
        event.remove(engine, "checkin", traced.stop)


def _fixture(vendor: str, name: str, **changes: object) -> bytes:
    body = json.loads((FIXTURES / vendor / name).read_text())
    return json.dumps({**body, **changes}).encode()


def test_news_about_one_job_is_one_statement_without_a_transaction(committing_app, wire):
    status, sent = wire.post("lightflow", _fixture("lightflow", "asset_ready.json", uuid="rt-1"))

    assert status == 202
    assert 'Query "BEGIN"' not in sent, sent
    assert sent.count("Sync") == 1, sent  # one round trip
    with get_database(committing_app).sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == 1
        assert session.scalar(select(Job.state).where(Job.external_id == "rt-1")) is not None


def test_a_repeat_is_counted_without_a_transaction(committing_app, wire):
    body = _fixture("lightflow", "asset_ready.json", uuid="rt-2")
    assert wire.post("lightflow", body)[0] == 202

    status, sent = wire.post("lightflow", body)

    assert status == 200
    assert 'Query "BEGIN"' not in sent, sent
    with get_database(committing_app).sessionmaker() as session:
        counts = session.scalars(select(Notification.duplicate_count)).all()
    assert counts == [1]


def test_a_failure_is_stored_in_one_transaction(committing_app, wire):
    # After a notification stored without one: the pooled connection is transactional again.
    assert wire.post("lightflow", _fixture("lightflow", "asset_ready.json", uuid="rt-0"))[0] == 202
    assert get_database(committing_app).engine.pool.checkedin() == 1  # the one used next

    status, sent = wire.post(
        "lightflow", _fixture("lightflow", "asset_error_2503.json", uuid="rt-3")
    )

    assert status == 202
    # BEGIN first (after the autocommitted one, SQLAlchemy names the server's default level),
    # COMMIT last: every statement of the notification in between.
    assert sent[0].startswith('Query "BEGIN') and sent[-1] == 'Query "COMMIT"', sent
    assert sent.count("Sync") >= 4, sent  # the claim, the failure, the group, the outbox
    with get_database(committing_app).sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(Failure)) == 1
