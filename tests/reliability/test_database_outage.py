"""PostgreSQL stops in the middle of a load and comes back: nothing is lost or doubled.

The app runs under gunicorn (the production configuration) against a throwaway cluster. A
sender behaves like a vendor: it retries on 5xx, timeouts and refused connections with backoff,
and stops on any 2xx or 4xx. Halfway through, the cluster is stopped for a few seconds.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.helpers import FIXTURES
from tests.reliability.pgcluster import ThrowawayCluster, postgres_bin
from tests.servers import BIN, clean_env, free_port

REPO = Path(__file__).resolve().parents[2]
NOTIFICATIONS = 2000
SENDERS = 8
TOKEN = "outage-lightflow-token-0123456789"

pytestmark = pytest.mark.skipif(
    postgres_bin() is None, reason="PostgreSQL server binaries not installed"
)


@pytest.fixture
def cluster():
    cluster = ThrowawayCluster(postgres_bin())
    cluster.start()
    yield cluster
    cluster.destroy()


@pytest.fixture
def served(cluster):
    env = clean_env(
        DATABASE_URL=cluster.url,
        RECEIVER_SECRET_KEY="outage-secret-key-0123456789",
        RECEIVER_LIGHTFLOW_TOKEN=TOKEN,
        RECEIVER_DB_POOL_TIMEOUT="2",
        RECEIVER_RETRY_AFTER_SECONDS="1",
    )
    subprocess.run(
        [str(BIN / "receiver"), "db", "upgrade"], env=env, check=True, cwd=REPO, timeout=60
    )
    port = free_port()
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "-c",
            "gunicorn.conf.py",
            "--no-control-socket",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "2",
            "wsgi:app",
        ],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/hooks/lightflow"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
        except urllib.error.HTTPError:
            break  # 405 for GET: it is up
        except OSError:
            time.sleep(0.1)
    yield url, server
    server.terminate()
    server.wait(timeout=30)


def notification(index: int) -> bytes:
    payload = json.loads((FIXTURES / "lightflow" / "asset_error_2503.json").read_text())
    payload["uuid"] = f"outage-{index:05d}"
    return json.dumps(payload).encode()


class VendorSender:
    """Retries like a vendor: 5xx / timeout / connection error -> back off and retry."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.answers: Counter[int | str] = Counter()
        self.missing_retry_after = 0
        self.delivered = 0
        self._lock = threading.Lock()

    def deliver(self, index: int) -> int | None:
        body, delay = notification(index), 0.05
        for _attempt in range(200):
            request = urllib.request.Request(
                self.url,
                data=body,
                headers={"Content-Type": "application/json", "X-Receiver-Token": TOKEN},
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code
                if status == 503 and not error.headers.get("Retry-After"):
                    self._count("missing_retry_after")
            except OSError:
                status = None
            self._record(status)
            if status is not None and status < 500:
                with self._lock:
                    self.delivered += 1
                return status
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
        return None

    def _record(self, status: int | None) -> None:
        with self._lock:
            self.answers[status if status is not None else "connection-error"] += 1

    def _count(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)


def test_database_outage_loses_nothing_and_recovers_without_restart(cluster, served):
    url, server = served
    sender = VendorSender(url)

    def outage() -> None:
        while sender.delivered < NOTIFICATIONS // 3:
            time.sleep(0.01)
        cluster.stop("fast")
        time.sleep(3)
        cluster.start()

    saboteur = threading.Thread(target=outage)
    saboteur.start()
    with ThreadPoolExecutor(SENDERS) as pool:
        finals = list(pool.map(sender.deliver, range(NOTIFICATIONS)))
    saboteur.join()

    # Every notification was eventually acknowledged, never with a 500.
    assert all(status in (200, 202) for status in finals), Counter(finals)
    assert sender.answers[500] == 0
    # The outage was seen by senders as 503 + Retry-After (or a refused connection), ...
    assert sender.answers[503] > 0, sender.answers
    assert sender.missing_retry_after == 0
    # ... and the same gunicorn master recovered on its own.
    assert server.poll() is None

    engine = create_engine(cluster.url)
    with engine.connect() as connection:
        stored, distinct = connection.execute(
            text(
                "SELECT count(*), count(DISTINCT dedup_key) FROM notifications WHERE status = 'stored'"
            )
        ).one()
        failures = connection.execute(text("SELECT count(*) FROM failures")).scalar_one()
    engine.dispose()
    assert stored == distinct == NOTIFICATIONS  # each exactly once
    assert failures == NOTIFICATIONS
    print(f"\nanswers during the outage run: {dict(sender.answers)}")
