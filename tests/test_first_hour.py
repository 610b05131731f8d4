"""The README's five-minute loop, as a new user runs it (issue #19's Show; marker ``first_hour``).

From a fresh copy of the repository: the README's sink, then ``RECEIVER_ALERT_URLS=… make run``
(its own ``.venv``, installed by make; pip's cache keeps that to a minute or so), then, from a
second terminal whose environment has no ``RECEIVER_*`` variable, every ``send-test`` line of the
loop and its curl, exactly as written but for the ports (``make run PORT=`` and ``--url``, as the
README says to do when 8000 is taken). Then the admin, logged in with the password the first
start generated (read from the env file, as a user would), lists the failures under today's
date, and the sink prints the alerts.

A copy rather than a ``git clone``: a clone would test the last commit only, while this suite
also runs before a commit; the copy holds exactly what git would commit (tracked and new files,
nothing ignored: no ``.venv``, no ``instance/``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from receiver.local_env import read_env_file
from receiver.vendors import SETTINGS
from tests.conftest import REPO
from tests.servers import free_port

pytestmark = pytest.mark.first_hour

README_PORT, SINK_PORT = "8000", "9000"
#: pip install, migrations, gunicorn: minutes on a busy machine without a warm pip cache.
INSTALL_AND_START_SECONDS = 600
#: group_wait (30 s), the worker's poll, a loaded machine.
ALERT_SECONDS = 120


def the_loop() -> list[str]:
    """The shell blocks of the README's five-minute loop, in order."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    loop = readme.split("**The whole loop in five minutes.**")[1].split("`make test` runs")[0]
    return re.findall(r"```sh\n(.*?)```", loop, re.DOTALL)


def fresh_copy(destination: Path) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    )
    for name in listed.stdout.decode().split("\0"):
        source = REPO / name
        if name and source.is_file():  # a tracked file deleted in the tree is not copied
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def new_terminal() -> dict[str, str]:
    """A terminal's environment: no receiver setting, no virtualenv, nothing from pytest."""
    dropped = ("RECEIVER_", "DATABASE_URL", "VIRTUAL_ENV", "PYTEST_", "PROMETHEUS_", "GUNICORN_")
    return {name: value for name, value in os.environ.items() if not name.startswith(dropped)}


@contextmanager
def started(command: str, cwd: Path) -> Iterator[subprocess.Popen[str]]:
    """``command`` in a shell of its own process group, stopped (the whole group) after."""
    process = subprocess.Popen(
        ["sh", "-c", command],
        cwd=cwd,
        env=new_terminal(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        for sent in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(process.pid, sent)
                process.wait(timeout=60)
                break
            except (ProcessLookupError, subprocess.TimeoutExpired):
                continue


class Lines:
    """A process's output lines, read as they come."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.lines.append(line)

    def text(self) -> str:
        return "".join(self.lines)


def test_the_readmes_five_minute_loop_works_as_written(tmp_path):
    sink_block, run_block, send_block, curl_block = the_loop()
    checkout = fresh_copy(tmp_path / "video-failure-receiver")
    port, sink_port = str(free_port()), str(free_port())
    url = f"http://127.0.0.1:{port}"
    today = datetime.now(UTC).date().isoformat()

    with started(sink_block.replace(SINK_PORT, sink_port), checkout) as sink_process:
        sink = Lines(sink_process)
        run = run_block.replace(SINK_PORT, sink_port).replace("make run", f"make run PORT={port}")
        with started(run, checkout) as receiver_process:
            served = Lines(receiver_process)
            wait_until_served(int(port), receiver_process, served)
            env_file = checkout / "instance" / "receiver.env"
            generated = re.search(
                rf"receiver: generated (.*) into {re.escape(str(env_file))} \(mode 0600\)",
                served.text(),
            )
            assert generated, served.text()
            local = {setting.variable for setting in SETTINGS if setting.local_value}
            assert set(generated[1].split(", ")) == local

            sent = send_every_vendor(send_block, checkout, url)
            assert sent == {
                "zencoder",
                "lightflow",
                "agora",
                "agora/api-errors",
                "kvs",
                "sns",
                "mediaconvert",
            }

            resent = run_in_terminal(curl_block.replace(README_PORT, port), checkout)
            answer = curl_block.strip().splitlines()[-1].removeprefix("# ")
            assert resent.stdout.strip() == answer, resent.stderr

            admin_lists_the_failures_under(today, url, read_env_file(env_file))
            alerts = alerts_received(sink, expected=5)
        assert "Traceback" not in served.text(), served.text()

    for alert in alerts:
        assert f"the first occurred {today} " in alert["message"], alert
        assert f"{url}/admin/groups/" in alert["message"]  # its link: the port it serves
    titles = sorted(alert["title"] for alert in alerts)
    assert [title.split()[1] for title in titles] == [
        "agora",
        "cloudwatch",
        "lightflow",
        "mediaconvert",
        "zencoder",
    ]


def wait_until_served(port: int, process: subprocess.Popen[str], output: Lines) -> None:
    deadline = time.monotonic() + INSTALL_AND_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"`make run` ended: {output.text()}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    pytest.fail(f"`make run` did not serve within {INSTALL_AND_START_SECONDS} s: {output.text()}")


def run_in_terminal(command: str, checkout: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", "-c", command],
        cwd=checkout,
        env=new_terminal(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def send_every_vendor(block: str, checkout: Path, url: str) -> set[str]:
    """Every ``send-test`` line of the loop, with ``--url``: each answers the status its
    comment says. Returns the endpoints they reached."""
    reached = set()
    for line in block.strip().splitlines():
        command, _, comment = line.partition("#")
        sent = run_in_terminal(f"{command.strip()} --url {url}", checkout)
        status, said = re.fullmatch(r"(\d{3})\W*(.*)", comment.strip()).groups()
        assert sent.returncode == 0 and sent.stdout.startswith(f"{status} "), (
            line,
            sent.stdout,
            sent.stderr,
        )
        if said.startswith("{"):  # the answer itself, as the README shows it
            assert sent.stdout.strip() == f"{status} {said}"
        assert "Traceback" not in sent.stderr
        reached.add(re.search(rf"-> {url}/hooks/(\S+) \(dates moved to now\)", sent.stderr)[1])
    return reached


def admin_lists_the_failures_under(today: str, url: str, env_file: dict[str, str]) -> None:
    """Logged in as a user would; today's list and the chart's bar for today."""
    browser = requests.Session()
    form = browser.get(f"{url}/admin/login", timeout=30)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.text)
    assert csrf, form.text
    logged_in = browser.post(
        f"{url}/admin/login",
        data={
            "csrf_token": csrf[1],
            "username": "admin",
            "password": env_file["RECEIVER_ADMIN_PASSWORD"],
        },
        timeout=30,
    )
    assert logged_in.ok and "Log out" in logged_in.text
    listed = browser.get(f"{url}/admin/failures?since={today}&until={today}", timeout=30)
    for failing in ("zencoder", "lightflow", "agora", "kvs", "cloudwatch", "mediaconvert"):
        assert f'<span class="muted">{failing}</span>' in listed.text, failing
    chart = browser.get(f"{url}/admin/failures/chart.svg", timeout=30).text
    # 1 + 1 + 1 + 1 + 3 (KVS's batch) + 1 (the alarm) + 1 (MediaConvert): all of them today.
    assert "— 9 in all" in chart
    assert sum(int(n) for n in re.findall(rf"<title>{today}: (\d+) ", chart)) == 9


def alerts_received(sink: Lines, expected: int) -> list[dict[str, str]]:
    """The JSON alerts the sink printed, once ``expected`` have come."""
    deadline = time.monotonic() + ALERT_SECONDS
    while time.monotonic() < deadline:
        alerts = [json.loads(line) for line in sink.lines if line.startswith("{")]
        if len(alerts) >= expected:
            time.sleep(2)  # one too many would show now
            return [json.loads(line) for line in sink.lines if line.startswith("{")]
        time.sleep(1)
    pytest.fail(f"the sink printed {sink.text()!r}")
