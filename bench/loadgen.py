"""A small HTTP/1.1 load generator (asyncio, keep-alive), run in its own process.

Hand-written on purpose: a general client library (httpx, aiohttp) spends more CPU per request
than the servers under test on this 2-core machine and would become the bottleneck it measures.
It only needs to send pre-built POSTs and read status + Content-Length bodies.

Two modes: closed loop (N connections sending back-to-back for T seconds: max throughput) and
open loop (a fixed request rate: latency at a given load, without coordinated omission).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float | int | dict[str, int]]:
        ordered = sorted(self.latencies_ms) or [0.0]

        def pct(p: float) -> float:
            return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 2)

        return {
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 2),
            "rps": round(self.requests / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": pct(50),
            "p95_ms": pct(95),
            "p99_ms": pct(99),
            "statuses": self.statuses,
        }


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.reused = False  # a kept-alive connection the server may have closed meanwhile

    async def request(self, raw: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            self.reused = False
        assert self.reader is not None
        self.writer.write(raw)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed")
        status = int(status_line.split()[1])
        length, close = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
            elif name.lower() == b"connection" and value.strip().lower() == b"close":
                close = True
        await self.reader.readexactly(length)
        self.reused = True
        if close:
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


PLACEHOLDER = b"@@N@@"


class RequestMix:
    """Distinct notifications from templates, with every ``duplicate_every``-th one a repeat.

    Template bodies carry ``@@N@@`` where a unique number makes the notification new; a repeat
    reuses the number (and so the template) of a recent request, exactly as a vendor retry.
    """

    def __init__(
        self, host: str, templates: list[dict], duplicate_every: int, start: int = 0
    ) -> None:
        self.host = host
        self.templates = templates
        self.duplicate_every = duplicate_every
        self.start = start
        self.counter = start

    def next_request(self) -> tuple[dict, bytes]:
        """The next request's template (path, headers) and body."""
        index = self.counter
        self.counter += 1
        repeat = (
            self.duplicate_every and index % self.duplicate_every == 0 and index - 5 >= self.start
        )
        number = index - 5 if repeat else index
        template = self.templates[number % len(self.templates)]
        return template, template["body"].encode().replace(PLACEHOLDER, str(number).encode())

    def next(self) -> bytes:
        """The next request as HTTP/1.1 bytes."""
        template, body = self.next_request()
        lines = [
            f"POST {template['path']} HTTP/1.1",
            f"Host: {self.host}",
            f"Content-Length: {len(body)}",
        ]
        lines += [f"{name}: {value}" for name, value in template["headers"].items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _send(connection: Connection, raw: bytes, result: LoadResult) -> None:
    started = time.perf_counter()
    failures = (OSError, ConnectionError, ValueError, asyncio.IncompleteReadError)
    try:
        status = await connection.request(raw)
    except failures:
        # Like any HTTP client: a kept-alive connection the server closed while idle is
        # reopened once; anything else is an error.
        stale = connection.reused
        connection.close()
        if not stale:
            result.errors += 1
            return
        try:
            status = await connection.request(raw)
        except failures:
            connection.close()
            result.errors += 1
            return
    result.latencies_ms.append((time.perf_counter() - started) * 1000)
    result.requests += 1
    result.statuses[str(status)] = result.statuses.get(str(status), 0) + 1
    if status >= 500:
        result.errors += 1


async def closed_loop(
    host: str, port: int, mix: RequestMix, concurrency: int, seconds: float
) -> LoadResult:
    result, deadline = LoadResult(), time.perf_counter() + seconds

    async def worker() -> None:
        connection = Connection(host, port)
        while time.perf_counter() < deadline:
            await _send(connection, mix.next(), result)
        connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - started
    return result


async def open_loop(
    host: str, port: int, mix: RequestMix, rate: float, seconds: float
) -> LoadResult:
    """Send at a fixed rate; latency is measured from the scheduled send time."""
    result, idle = LoadResult(), [Connection(host, port) for _ in range(64)]
    started, total = time.perf_counter(), int(rate * seconds)

    async def one(index: int) -> None:
        scheduled = started + index / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        connection = idle.pop() if idle else Connection(host, port)
        before = len(result.latencies_ms)
        await _send(connection, mix.next(), result)
        if len(result.latencies_ms) > before:  # charge queueing delay to the request
            result.latencies_ms[-1] = (time.perf_counter() - scheduled) * 1000
        idle.append(connection)

    await asyncio.gather(*(one(i) for i in range(total)))
    result.seconds = time.perf_counter() - started
    for connection in idle:
        connection.close()
    return result


def main() -> None:
    """Entry point for a subprocess: a JSON job on stdin, a JSON summary on stdout."""
    job = json.load(sys.stdin)
    mix = RequestMix(job["host"], job["templates"], job["duplicate_every"], job.get("start", 0))
    if job["mode"] == "closed":
        coroutine = closed_loop(job["host"], job["port"], mix, job["concurrency"], job["seconds"])
    else:
        coroutine = open_loop(job["host"], job["port"], mix, job["rate"], job["seconds"])
    json.dump(asyncio.run(coroutine).summary(), sys.stdout)


if __name__ == "__main__":
    main()
