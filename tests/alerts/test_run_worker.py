"""`receiver run` delivers alerts out of the box: a worker thread runs beside gunicorn."""

from __future__ import annotations

import time
import urllib.request

from tests.helpers import FIXTURES, TOKENS
from tests.servers import clean_env, running_receiver

RULES = """
version = 1
[defaults]
group_wait = "0s"
[channels.hook]
type = "apprise"
urls = ["json://127.0.0.1:{port}/hook"]
[[rules]]
name = "everything"
channels = ["hook"]
"""


def test_receiver_run_delivers_alerts(tmp_path, channel):
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES.format(port=channel.port))
    env = clean_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'receiver.sqlite3'}",
        RECEIVER_INSTANCE_DIR=str(tmp_path),
        RECEIVER_SECRET_KEY="run-secret-key-0123456789",
        RECEIVER_LIGHTFLOW_TOKEN=TOKENS["lightflow"],
        RECEIVER_ALERT_RULES=str(rules),
        RECEIVER_WORKER_POLL_SECONDS="0.1",
    )
    with running_receiver(env) as (url, _process):
        request = urllib.request.Request(
            f"{url}/hooks/lightflow",
            data=(FIXTURES / "lightflow" / "asset_error_4003.json").read_bytes(),
            headers={"Content-Type": "application/json", "X-Receiver-Token": TOKENS["lightflow"]},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202
        deadline = time.monotonic() + 20
        while not channel.delivered("/hook") and time.monotonic() < deadline:
            time.sleep(0.1)
        [hook] = channel.delivered("/hook")
        assert hook["title"].startswith("[FIRING] lightflow upload 4003: 1 failure in 1 job")
