"""Retries that race: identical notifications at the same instant store exactly one row."""

from __future__ import annotations

import json
import threading

from sqlalchemy import func, select

from receiver.db import get_database
from receiver.models import Failure, Job, Notification
from tests.helpers import FIXTURES, post

PARALLEL = 8
ROUNDS = 10


def test_concurrent_identical_posts_store_one_notification(committing_app):
    template = json.loads((FIXTURES / "lightflow" / "asset_error_2503.json").read_text())
    statuses: list[int] = []
    lock = threading.Lock()

    def send(body: bytes, barrier: threading.Barrier) -> None:
        client = committing_app.test_client()
        barrier.wait()
        status = post(client, "lightflow", body).status_code
        with lock:
            statuses.append(status)

    for round_number in range(ROUNDS):
        body = json.dumps({**template, "uuid": f"race-{round_number}"}).encode()
        barrier = threading.Barrier(PARALLEL)
        threads = [threading.Thread(target=send, args=(body, barrier)) for _ in range(PARALLEL)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert statuses.count(202) == ROUNDS
    assert statuses.count(200) == ROUNDS * (PARALLEL - 1)
    with get_database(committing_app).sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == ROUNDS
        assert session.scalar(select(func.count()).select_from(Job)) == ROUNDS
        assert session.scalar(select(func.count()).select_from(Failure)) == ROUNDS
        assert session.scalar(select(func.sum(Notification.duplicate_count))) == ROUNDS * (
            PARALLEL - 1
        )


def test_concurrent_notifications_for_one_job_keep_the_final_state(committing_app):
    """Output notifications of one job racing each other all land on the same job row."""
    template = json.loads((FIXTURES / "zencoder" / "output_finished.json").read_text())
    barrier = threading.Barrier(PARALLEL)
    statuses: list[int] = []

    def send(index: int) -> None:
        payload = json.loads(json.dumps(template))
        payload["output"]["id"] = 5000 + index
        body = json.dumps(payload).encode()
        barrier.wait()
        statuses.append(post(committing_app.test_client(), "zencoder", body).status_code)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [202] * PARALLEL
    with get_database(committing_app).sessionmaker() as session:
        [job] = session.execute(select(Job)).scalars().all()
        assert len([f for f in job.files if f.kind == "output"]) == PARALLEL


def test_sqlite_writers_of_one_process_take_turns(committing_app, backend):
    """On SQLite, ingest waits for its turn on the process's write lock (not in SQLite's busy
    handler, which sleeps); on PostgreSQL there is no such turn and nothing waits."""
    body = (FIXTURES / "lightflow" / "asset_ready.json").read_bytes()
    statuses: list[int] = []
    sender = threading.Thread(
        target=lambda: statuses.append(
            post(committing_app.test_client(), "lightflow", body).status_code
        )
    )
    with get_database(committing_app).write_turn:
        sender.start()
        # SQLite: still waiting after 0.5 s. PostgreSQL: done while the turn is held (the long
        # timeout only spares a slow machine a false failure).
        sender.join(timeout=0.5 if backend == "sqlite" else 30)
        waited = sender.is_alive()
    sender.join(timeout=10)

    assert waited == (backend == "sqlite")
    assert statuses == [202]
