"""Instructions per notification, counted by valgrind: the receiver's app against the baseline's.

Requests per second on this shared 2-core machine moved by up to ±30% between identical runs;
instruction counts by about 2% (psycopg's wait loop depends on timing). Both WSGI apps run in one Python process under callgrind and are
fed the ingest bench's request mix directly (no HTTP server), and callgrind dumps its count at
each phase boundary: ``--dump-before=getppid``, and the child calls ``os.getppid()`` only there.

What is counted is the app's own work in its Python process: not gunicorn's HTTP handling (the
same for both) and not the database server's work (in another process).
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import ingest
from bench.loadgen import RequestMix

WARM_UP = 100  # requests per app before counting: statement caches, prepared statements
COUNTED = 300  # requests per app counted
# Phase files callgrind writes, in marker order: set-up and warm-up, baseline, receiver.
BASELINE_PHASE, RECEIVER_PHASE = 2, 3


def run(backends: list[str], postgres_url: str) -> dict:
    """Instructions per request of both apps on each database (skipped without valgrind)."""
    if shutil.which("valgrind") is None:
        return {"skipped": "valgrind is not installed"}
    with tempfile.TemporaryDirectory(prefix="bench-instructions-") as workdir:
        children = {
            backend: _start(backend, _database_url(backend, postgres_url, workdir), workdir)
            for backend in backends
        }
        return {backend: _collect(*child) for backend, child in children.items()}


def _database_url(backend: str, postgres_url: str, workdir: str) -> str:
    if backend == "postgresql":
        return ingest.postgres_bench_url(postgres_url, "bench_counts")
    return f"sqlite:///{workdir}/counts.sqlite3"


def _start(backend: str, url: str, workdir: str) -> tuple[subprocess.Popen, Path, Path]:
    from sqlalchemy import create_engine

    from bench.baseline_app import metadata

    ingest.prepare("receiver", url)  # the receiver's schema, by its migrations
    engine = create_engine(url)
    metadata.create_all(engine)  # and the baseline's one table beside it
    engine.dispose()
    out = Path(workdir) / f"{backend}.callgrind"
    log = Path(workdir) / f"{backend}.log"
    metrics_dir = Path(workdir) / f"{backend}-metrics"
    metrics_dir.mkdir()
    process = subprocess.Popen(
        [
            "valgrind",
            "--tool=callgrind",
            "--dump-before=getppid",
            f"--callgrind-out-file={out}",
            sys.executable,
            "-m",
            "bench.instructions",
        ],
        env=ingest.server_env(url) | {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)},
        cwd=ingest.REPO,
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
    )
    return process, out, log


def _collect(process: subprocess.Popen, out: Path, log: Path) -> dict:
    statuses = json.loads(process.communicate()[0] or "null")
    if process.returncode != 0:
        raise RuntimeError(f"counting failed:\n{log.read_text()[-3000:]}")
    # A count is only a notification's cost if every request was handled as in production, and
    # only this phase's if nothing else called getppid() (which would add a dump file).
    if any(not status.startswith("2") for answers in statuses.values() for status in answers):
        raise RuntimeError(f"requests were refused while counting: {statuses}")
    if out.with_name(f"{out.name}.{RECEIVER_PHASE + 1}").exists():
        raise RuntimeError("more phase boundaries than markers: something else called getppid()")
    counts = {
        target: _total(out.with_name(f"{out.name}.{phase}")) / COUNTED
        for target, phase in (("baseline", BASELINE_PHASE), ("receiver", RECEIVER_PHASE))
    }
    return {
        "baseline_per_request": round(counts["baseline"]),
        "receiver_per_request": round(counts["receiver"]),
        "ratio": round(counts["receiver"] / counts["baseline"], 2),
        "requests": COUNTED,
        "statuses": statuses,
    }


def _total(dump: Path) -> int:
    for line in dump.read_text().splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
    raise RuntimeError(f"no totals in {dump}")


def _environs(mix: RequestMix, count: int) -> list[dict]:
    """Built before counting starts, so building them is not counted."""
    from werkzeug.test import EnvironBuilder

    environs = []
    for _ in range(count):
        template, body = mix.next_request()
        builder = EnvironBuilder(
            path=template["path"], method="POST", headers=template["headers"], data=body
        )
        environs.append(builder.get_environ())
    return environs


def _serve(app, environs: list[dict], statuses: dict[str, int]) -> None:
    def start_response(status: str, _headers: list, _exc_info: object = None) -> None:
        statuses[status] = statuses.get(status, 0) + 1

    for environ in environs:
        response = app(environ, start_response)
        b"".join(response)
        response.close()


def _settle_garbage() -> None:
    """Collect now and freeze what survives, before each counted phase, for both apps alike.

    A full collection walks every tracked object (the receiver's imports make many): when one
    landed inside a counted phase it moved PostgreSQL's count by ~5% from one run to the next.
    Frozen objects are never walked again, so only the phase's own garbage is collected in it.
    """
    gc.collect()
    gc.freeze()


def _child() -> None:
    """Runs under callgrind: warm both apps up, then count each one between two markers."""
    from bench.baseline_app import app as baseline
    from wsgi import app as receiver

    templates = ingest.request_templates()
    apps = {"baseline": baseline, "receiver": receiver}
    mixes = {
        name: RequestMix("127.0.0.1", templates, ingest.DUPLICATE_EVERY, start=start)
        for name, start in (("baseline", 0), ("receiver", 10**6))
    }
    warm = {name: _environs(mixes[name], WARM_UP) for name in apps}
    counted = {name: _environs(mixes[name], COUNTED) for name in apps}
    statuses: dict[str, dict[str, int]] = {name: {} for name in apps}
    for name, app in apps.items():
        _serve(app, warm[name], {})
    for name in ("baseline", "receiver"):  # the order of BASELINE_PHASE and RECEIVER_PHASE
        _settle_garbage()
        os.getppid()
        _serve(apps[name], counted[name], statuses[name])
    os.getppid()
    json.dump(statuses, sys.stdout)


if __name__ == "__main__":
    _child()
