"""Alert test set-up: a real local HTTP server as the channel, rules pointing at it, a clock.

The server stands in for Slack/webhook receivers (Apprise ``json://``) and for PagerDuty's
Events API; it records every request and answers with scripted statuses.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from receiver.alerts.rules import RuleSet, load_rules
from receiver.alerts.worker import Worker, build_worker
from receiver.db import utcnow

RULES = """
version = 1

[defaults]
group_wait = "30s"
group_interval = "5m"
repeat_interval = "4h"

[channels.hook]
type = "apprise"
urls = ["json://127.0.0.1:{port}/hook"]

[channels.pd]
type = "pagerduty"
routing_key = "R0UT1NGKEY0123456789abcdefabcdef"
events_url = "http://127.0.0.1:{port}/pd"

[[rules]]
name = "info"
match = {{ severity = "info" }}
channels = []

[[rules]]
name = "transient"
match = {{ category = ["rate_limited", "remote_unavailable", "network"] }}
threshold = {{ count = 5, window = "10m" }}
group_by = ["vendor", "category"]
channels = ["hook"]

[[rules]]
name = "everything"
match = {{ severity = ["critical", "error", "warning"] }}
channels = ["hook", "pd"]
"""


@dataclass
class Received:
    path: str
    body: dict[str, Any]
    status: int


@dataclass
class ChannelServer:
    """Records requests; answers from ``script[path]`` (statuses, first first), then 200/202."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    script: dict[str, list[int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # A request whose message contains ``hold`` is kept waiting until ``release`` is set, then
    # refused: it stands for a worker being killed in the middle of a delivery.
    hold: str | None = None
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def delivered(self, path: str) -> list[dict[str, Any]]:
        with self.lock:
            return [r.body for r in self.received if r.path == path and r.status < 300]

    def reset(self) -> None:
        with self.lock:
            self.received.clear()
            self.script.clear()
            self.hold = None
            self.held.clear()
            self.release.clear()


def serve_channel(recorder: ChannelServer) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
            if recorder.hold and recorder.hold in str(body.get("message")):
                recorder.held.set()
                recorder.release.wait(30)
                recorder.hold = None
                self.send_error(503)
                return
            with recorder.lock:
                scripted = recorder.script.get(self.path)
                status = scripted.pop(0) if scripted else None
                status = status or (202 if self.path == "/pd" else 200)
                recorder.received.append(Received(self.path, body, status))
            payload = b'{"status": "success"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    recorder.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="session")
def channel_session() -> Iterator[ChannelServer]:
    recorder = ChannelServer()
    server = serve_channel(recorder)
    yield recorder
    server.shutdown()


@pytest.fixture
def channel(channel_session: ChannelServer) -> ChannelServer:
    channel_session.reset()
    return channel_session


@pytest.fixture(scope="session")
def rules_path(channel_session: ChannelServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rules") / "rules.toml"
    path.write_text(RULES.format(port=channel_session.port))
    return path


@pytest.fixture
def rules(app: Flask, rules_path: Path, monkeypatch: pytest.MonkeyPatch) -> RuleSet:
    """The test rules, in force for ingest through the app."""
    loaded = load_rules(rules_path)
    monkeypatch.setitem(app.extensions, "alert_rules", loaded)
    return loaded


class Clock:
    """The worker's time, moved by the test instead of sleeping."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def worker(app: Flask, rules: RuleSet, clock: Clock) -> Worker:
    return build_worker(app, clock=clock, name="test-worker")
