"""The web tier for real (gunicorn with the project's gunicorn.conf.py, gthread): a client that
stalls or trickles its body gets 408 after RECEIVER_BODY_TIMEOUT_SECONDS and frees its thread
(/healthz keeps answering), and the access log cannot be fed a forged line (issue #17)."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator

import pytest

from tests.conftest import REPO
from tests.servers import BIN, clean_env, free_port, running_server

BODY_TIMEOUT = 2
THREADS = 2


@pytest.fixture
def gunicorn(tmp_path) -> Iterator[tuple[int, subprocess.Popen]]:
    port = free_port()
    env = clean_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'receiver.sqlite3'}",
        RECEIVER_SECRET_KEY="gunicorn-test-secret-key-0123456789",
        RECEIVER_ZENCODER_TOKEN="gunicorn-zencoder-token-0123456789",
        RECEIVER_BODY_TIMEOUT_SECONDS=str(BODY_TIMEOUT),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="1",
        GUNICORN_THREADS=str(THREADS),
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
    )
    subprocess.run([str(BIN / "receiver"), "db", "upgrade"], env=env, check=True, timeout=60)
    command = [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--no-control-socket", "wsgi:app"]
    with running_server(command, port, env, cwd=REPO) as process:
        yield port, process


def start_body(port: int, declared: int = 1000) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(
        b"POST /hooks/zencoder HTTP/1.1\r\nHost: receiver\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n{" % declared
    )
    return sock


def status_line(sock: socket.socket) -> bytes:
    return sock.recv(4096).split(b"\r\n", 1)[0]


def test_stalled_and_trickling_bodies_get_408_and_free_their_threads(gunicorn):
    port, _process = gunicorn
    started = time.monotonic()
    stalled = [start_body(port) for _ in range(THREADS + 1)]  # every thread, and one waiting
    trickler = start_body(port)
    stop = threading.Event()

    def trickle() -> None:  # a byte every 0.3 s: each read returns, the body never ends
        while not stop.wait(0.3):
            try:
                trickler.sendall(b" ")
            except OSError:
                return

    threading.Thread(target=trickle, daemon=True).start()
    try:
        answers = [status_line(sock)[:12] for sock in [*stalled, trickler]]
        elapsed = time.monotonic() - started
        assert answers == [b"HTTP/1.1 408"] * len(answers)
        # Without the deadline these waited for the client (30 s here); with it, a few rounds
        # of BODY_TIMEOUT, since the requests beyond the threads wait for a free one.
        assert elapsed < 4 * BODY_TIMEOUT + 2, elapsed
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            assert response.status == 200
    finally:
        stop.set()
        for sock in [*stalled, trickler]:
            sock.close()


def test_healthz_answers_while_slow_clients_hold_the_threads(gunicorn):
    port, _process = gunicorn
    stalled = [start_body(port) for _ in range(THREADS)]
    try:
        time.sleep(0.5)  # both threads are now reading bodies that do not come
        started = time.monotonic()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=15) as response:
            assert response.status == 200
        assert time.monotonic() - started < BODY_TIMEOUT + 2
    finally:
        for sock in stalled:
            sock.close()


def test_a_crlf_in_the_path_cannot_forge_an_access_log_line(gunicorn):
    port, process = gunicorn
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"GET /healthz%0d%0a127.0.0.1%20%22GET%20/forged%22%20200 HTTP/1.1\r\n"
            b"Host: receiver\r\nConnection: close\r\n\r\n"
        )
        assert status_line(sock).startswith(b"HTTP/1.1 404")
    process.terminate()
    output = process.communicate(timeout=30)[0]
    lines = output.splitlines()
    assert not any(line.startswith('127.0.0.1 "GET /forged"') for line in lines), output
    assert any("/healthz\\x0d\\x0a127.0.0.1" in line for line in lines), output
