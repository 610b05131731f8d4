"""Several `receiver worker` processes on PostgreSQL: every outbox row delivered exactly once,
even when one of them is SIGKILLed in the middle of a delivery (its lease expires, others take
over). Counted at the receiving HTTP server."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, insert, select, text

from receiver.db import utcnow
from receiver.models import AlertGroup, AlertNotification, DeliveryAttempt
from receiver.settings import Settings
from tests.conftest import SECRET_KEY
from tests.helpers import TOKENS

RECEIVER = Path(sys.executable).parent / "receiver"
ROWS = 1000
WORKERS = 4
LEASE_SECONDS = 3
ALERT_ID = re.compile(r"Alert #(\d+) ")
ALERT_TABLES = ("delivery_attempts", "alert_notifications", "alert_group_failures", "alert_groups")


@pytest.fixture
def pg_engine(database_url, backend):
    # Tests using it are marked postgres_only: several workers at once need SKIP LOCKED.
    assert backend == "postgresql"
    engine = create_engine(Settings(database_url=database_url, secret_key=SECRET_KEY).database_url)
    yield engine
    with engine.begin() as connection:
        for table in ALERT_TABLES:
            connection.execute(text(f"DELETE FROM {table}"))
    engine.dispose()


def fill_outbox(engine) -> list[int]:
    now = utcnow()
    with engine.begin() as connection:
        group_ids = connection.scalars(
            insert(AlertGroup).returning(AlertGroup.id),
            [
                {
                    "fingerprint": f"{n:064d}",
                    "rule": "everything",
                    "labels": {"vendor": "lightflow", "category": "upload", "code": str(n)},
                    "state": "firing",
                    "failure_count": 1,
                    "notified_count": 0,
                    "reopened_count": 0,
                    "severity": "error",
                    "first_seen_at": now,
                    "last_seen_at": now,
                    "first_occurred_at": now,
                    "last_occurred_at": now,
                    "created_at": now,
                }
                for n in range(ROWS)
            ],
        ).all()
        return connection.scalars(
            insert(AlertNotification).returning(AlertNotification.id),
            [
                {
                    "group_id": group_id,
                    "channel": "hook",
                    "kind": "firing",
                    "status": "pending",
                    "created_at": now,
                    "due_at": now,
                    "attempts": 0,
                }
                for group_id in group_ids
            ],
        ).all()


def start_workers(database_url: str, rules_path: Path) -> list[subprocess.Popen]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECEIVER_", "DATABASE_URL"))}
    env |= {
        "DATABASE_URL": database_url,
        "RECEIVER_SECRET_KEY": SECRET_KEY,
        "RECEIVER_ZENCODER_TOKEN": TOKENS["zencoder"],
        "RECEIVER_ALERT_RULES": str(rules_path),
        "RECEIVER_ALERT_LEASE_SECONDS": str(LEASE_SECONDS),
        "RECEIVER_WORKER_POLL_SECONDS": "0.05",
    }
    # Their logs (a line per delivery) go nowhere: an undrained pipe would fill up and block them.
    return [
        subprocess.Popen(
            [str(RECEIVER), "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for _ in range(WORKERS)
    ]


@pytest.mark.postgres_only
def test_four_workers_deliver_every_row_once_even_when_one_is_killed(
    pg_engine, database_url, rules_path, channel
):
    ids = fill_outbox(pg_engine)
    victim_row = ids[ROWS // 3]
    channel.hold = f"Alert #{victim_row} "
    workers = start_workers(database_url, rules_path)
    try:
        assert channel.held.wait(30), "no worker reached the held row"
        with pg_engine.connect() as connection:
            owner = connection.scalar(
                select(AlertNotification.lease_owner).where(AlertNotification.id == victim_row)
            )
        victim_pid = int(owner.split(":")[1])
        [victim] = [w for w in workers if w.pid == victim_pid]
        victim.send_signal(signal.SIGKILL)
        assert victim.wait(10) == -signal.SIGKILL
        channel.release.set()  # the request of the dead worker is answered (503) into the void

        deadline = time.monotonic() + 60
        with pg_engine.connect() as connection:
            while time.monotonic() < deadline:
                pending = connection.scalar(
                    select(func.count())
                    .select_from(AlertNotification)
                    .where(AlertNotification.id.in_(ids), AlertNotification.status != "sent")
                )
                connection.rollback()
                if pending == 0:
                    break
                time.sleep(0.2)
        assert pending == 0
    finally:
        channel.release.set()
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
        for worker in workers:
            worker.wait(30)  # a worker finishes the message it holds before it stops

    delivered = Counter(
        int(ALERT_ID.search(body["message"]).group(1)) for body in channel.delivered("/hook")
    )
    assert set(delivered) == set(ids)
    assert max(delivered.values()) == 1  # exactly once each, counted at the receiving server
    survivors = [w for w in workers if w is not victim]
    assert all(w.returncode == 0 for w in survivors)  # SIGTERM: a clean stop
    with pg_engine.connect() as connection:
        by_worker = connection.execute(
            select(DeliveryAttempt.worker, func.count()).group_by(DeliveryAttempt.worker)
        ).all()
        victim_attempts = connection.scalars(
            select(DeliveryAttempt.worker).where(DeliveryAttempt.notification_id == victim_row)
        ).all()
    # The work was shared, and the held row was finished by a survivor after the lease expired.
    assert len(by_worker) >= WORKERS - 1
    assert len(victim_attempts) == 1 and f":{victim_pid}:" not in victim_attempts[0]
