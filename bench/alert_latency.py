"""Time from a failure's ingest to its alert's delivery attempt, beyond ``group_wait``.

Runs the embedded default (``receiver run``: gunicorn + one alert worker thread) against a
local JSON webhook, posts failures that each form their own group (``group_by = ["job"]``) at a
steady rate, and reports p50/p95 of (arrival at the webhook - 202 from ingest - group_wait)::

    .venv/bin/python -m bench.alert_latency                 # SQLite
    .venv/bin/python -m bench.alert_latency --database-url postgresql://postgres@127.0.0.1/bench
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

RECEIVER = Path(sys.executable).parent / "receiver"
FIXTURE = (
    Path(__file__).resolve().parent.parent / "fixtures" / "lightflow" / "asset_error_4003.json"
)
TOKEN = "alert-latency-lightflow-token-0123"
JOB = re.compile(r"\bjob (\S+?):")
RULES = """
version = 1
[defaults]
group_by = ["job"]
group_wait = "{wait}s"
[channels.hook]
type = "apprise"
urls = ["json://127.0.0.1:{port}/hook"]
[[rules]]
name = "everything"
channels = ["hook"]
"""


def webhook(arrivals: dict[str, float]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            found = JOB.search(body["message"])
            if found:
                arrivals.setdefault(found.group(1), time.time())
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--rate", type=float, default=10.0, help="failures per second")
    parser.add_argument("--group-wait", type=int, default=2)
    parser.add_argument("--poll", type=float, default=1.0, help="RECEIVER_WORKER_POLL_SECONDS")
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    args = parser.parse_args()
    print(json.dumps(measure(args), indent=2))


def measure(args: argparse.Namespace) -> dict:
    """Ingest ``count`` failures through `receiver run` and time each alert's arrival."""
    arrivals: dict[str, float] = {}
    server = webhook(arrivals)
    workdir = Path(tempfile.mkdtemp(prefix="alert-latency-"))
    rules = workdir / "rules.toml"
    rules.write_text(RULES.format(wait=args.group_wait, port=server.server_address[1]))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECEIVER_", "DATABASE_URL"))}
    env |= {
        "DATABASE_URL": args.database_url or f"sqlite:///{workdir / 'receiver.sqlite3'}",
        "RECEIVER_SECRET_KEY": "alert-latency-secret-key-0123456789",
        "RECEIVER_LIGHTFLOW_TOKEN": TOKEN,
        "RECEIVER_ALERT_RULES": str(rules),
        "RECEIVER_WORKER_POLL_SECONDS": str(args.poll),
    }
    process = subprocess.Popen(
        [str(RECEIVER), "run", "--port", str(port)],
        env=env,
        stdout=(workdir / "receiver.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(300):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        template = json.loads(FIXTURE.read_text())
        ingested: dict[str, float] = {}
        run = f"{time.time():.0f}"
        for number in range(args.count):
            job = f"latency-{run}-{number}"
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/hooks/lightflow",
                data=json.dumps({**template, "uuid": job}).encode(),
                headers={"Content-Type": "application/json", "X-Receiver-Token": TOKEN},
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 202, response.status
            ingested[job] = time.time()
            time.sleep(1 / args.rate)
        deadline = time.time() + args.group_wait + 30
        while len(arrivals) < args.count and time.time() < deadline:
            time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(10)
        server.shutdown()

    beyond = [
        arrivals[job] - at - args.group_wait for job, at in ingested.items() if job in arrivals
    ]
    result = {
        "database": "postgresql" if args.database_url else "sqlite",
        "failures": args.count,
        "delivered": len(beyond),
        "group_wait_s": args.group_wait,
        "poll_s": args.poll,
        "beyond_group_wait_ms": {
            "p50": round(percentile(beyond, 0.50) * 1000),
            "p95": round(percentile(beyond, 0.95) * 1000),
            "max": round(max(beyond) * 1000),
            "mean": round(statistics.mean(beyond) * 1000),
        }
        if beyond
        else None,
    }
    return result


if __name__ == "__main__":
    main()
