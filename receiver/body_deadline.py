"""A deadline for reading a request body, so a sender that stalls cannot hold a thread.

Under gunicorn's gthread worker the view reads the body from a blocking socket: a client that
sends its headers and then a byte now and then keeps the thread (1 of 4 per worker) for as long
as it likes, and health checks queue behind it. A socket timeout would not bound that (each
``recv`` waits anew), so one watchdog thread per process shuts the socket's reading side down
when a body's deadline passes: the read returns at once, short, and the request gets 408.

Requests that did not come through gunicorn (tests, the instruction counts) have no socket in
their environ and are read as before.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass(order=True)
class _Watch:
    deadline: float
    serial: int
    sock: socket.socket | None = field(compare=False, default=None)
    expired: bool = field(compare=False, default=False)


class BodyDeadlines:
    """Deadlines of the bodies being read in this process, and the thread that enforces them."""

    def __init__(self) -> None:
        self._heap: list[_Watch] = []
        self._lock = threading.Lock()
        self._serial = itertools.count()
        self._pid: int | None = None

    @contextmanager
    def watching(self, environ: dict[str, Any], seconds: float) -> Iterator[_Watch]:
        """Within the block, the request's socket stops delivering the body after ``seconds``;
        the yielded watch's ``expired`` then says so."""
        sock = environ.get("gunicorn.socket")
        watch = _Watch(time.monotonic() + seconds, next(self._serial), sock)
        if sock is None:
            yield watch
            return
        self._ensure_thread()
        with self._lock:
            heapq.heappush(self._heap, watch)
        try:
            yield watch
        finally:
            with self._lock:  # after this the watchdog leaves the socket alone (keep-alive)
                watch.sock = None

    def _ensure_thread(self) -> None:
        # One thread per process, started on first use: gunicorn forks workers from a master
        # that may have built the app, and threads do not survive a fork.
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():
                self._heap.clear()
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="body-deadlines", daemon=True).start()

    def _run(self) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                while self._heap and self._heap[0].deadline <= now:
                    self._expire(heapq.heappop(self._heap))
                wait = self._heap[0].deadline - now if self._heap else 1.0
            # Deadlines are added in increasing order (one timeout for every request), so a new
            # one never needs to wake the thread early.
            time.sleep(min(max(wait, 0.01), 1.0))

    @staticmethod
    def _expire(watch: _Watch) -> None:
        if watch.sock is None:  # read in time
            return
        watch.expired = True
        with contextlib.suppress(OSError):  # the client went away meanwhile
            watch.sock.shutdown(socket.SHUT_RD)


#: The process's deadlines (one watchdog thread however many apps a process builds).
body_deadlines = BodyDeadlines()
