"""Starting real servers in tests: free ports, a clean environment, readiness, threads."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

BIN = Path(sys.executable).parent
RECEIVER = BIN / "receiver"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


#: An empty instance folder: `receiver` commands read <instance>/receiver.env for settings missing
#: from the environment, and a checkout's own (written by `make run`) must not leak into tests.
EMPTY_INSTANCE = tempfile.mkdtemp(prefix="receiver-test-instance-")


def clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without any receiver setting, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECEIVER_", "DATABASE_URL"))}
    return env | {"RECEIVER_INSTANCE_DIR": EMPTY_INSTANCE} | settings


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            pytest.fail(f"server exited: {output}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail("server did not start")


@contextmanager
def serving_in_thread(app: Flask) -> Iterator[str]:
    """Serve ``app`` on a free local port in a thread (for browser tests); yields its URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


@contextmanager
def running_server(
    command: list[str], port: int, env: dict[str, str], cwd: Path | None = None
) -> Iterator[subprocess.Popen]:
    """``command`` (a server that will listen on ``port``) until the block ends."""
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        wait_for_port(port, process)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=60)


@contextmanager
def running_receiver(env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen]]:
    """`receiver run` on a free port; yields its base URL and process, and stops it after."""
    port = free_port()
    with running_server([str(RECEIVER), "run", "--port", str(port)], port, env) as process:
        yield f"http://127.0.0.1:{port}", process
