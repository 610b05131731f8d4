"""Ingest throughput and latency: the real app vs the raw-insert baseline, same gunicorn, same DB."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TOKENS = {
    "zencoder": "bench-zencoder-token-0123456789",
    "lightflow": "bench-lightflow-token-0123456789",
}
DUPLICATE_EVERY = 10  # one request in ten is a vendor retry of a recent one


def request_templates() -> list[dict]:
    """The mix: 7 successes, 2 Zencoder failures, 1 LightFlow failure per 10 distinct requests."""
    fixtures = REPO / "fixtures"
    ready = (fixtures / "lightflow" / "asset_ready.json").read_text()
    ready = ready.replace("3f9a1c2e-7b4d-4e8a-9c61-0d5e2f7a8b13", "bench-@@N@@")
    failed_asset = (fixtures / "lightflow" / "asset_error_2503.json").read_text()
    failed_asset = failed_asset.replace("e5c8f1a4-6b7d-4e9f-8a3b-4c5d6e7f8091", "bench-@@N@@")
    failed_output = (fixtures / "zencoder" / "output_failed.json").read_text()
    failed_output = failed_output.replace('"id": 48213390', '"id": @@N@@')

    def template(vendor: str, body: str) -> dict:
        headers = {"Content-Type": "application/json", "X-Receiver-Token": TOKENS[vendor]}
        return {"path": f"/hooks/{vendor}", "headers": headers, "body": body}

    return (
        [template("lightflow", ready)] * 7
        + [template("zencoder", failed_output)] * 2
        + [template("lightflow", failed_asset)]
    )


def postgres_bench_url(base_url: str, name: str = "receiver_bench") -> str:
    """A dedicated database (``receiver_bench``) beside the given one, created on first use."""
    url = make_url(base_url).set(drivername="postgresql+psycopg")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        )
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def reset_database(url: str) -> None:
    if url.startswith("sqlite"):
        Path(make_url(url).database).unlink(missing_ok=True)
        return
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def server_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECEIVER_", "DATABASE_URL"))}
    return env | {
        "DATABASE_URL": url,
        "RECEIVER_SECRET_KEY": "bench-secret-key-0123456789abcdef",
        "RECEIVER_ZENCODER_TOKEN": TOKENS["zencoder"],
        "RECEIVER_LIGHTFLOW_TOKEN": TOKENS["lightflow"],
        # A channel, as in production, so the default rules group the failures and schedule
        # their messages inside the measured requests. No worker runs: nothing is sent.
        "RECEIVER_ALERT_URLS": "json://127.0.0.1:9/",
    }


class Server:
    """gunicorn with the production configuration (gunicorn.conf.py), access log off."""

    def __init__(self, app: str, url: str, port: int) -> None:
        self.port = port
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "-c",
                "gunicorn.conf.py",
                "--no-control-socket",
                "--access-logfile",
                "/dev/null",
                "-b",
                f"127.0.0.1:{port}",
                app,
            ],
            env=server_env(url),
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/hooks/lightflow", timeout=1)
            except urllib.error.HTTPError:
                return  # answered (405 for GET): ready
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def load(port: int, job: dict) -> dict:
    job = {
        "host": "127.0.0.1",
        "port": port,
        "templates": request_templates(),
        "duplicate_every": DUPLICATE_EVERY,
        **job,
    }
    result = subprocess.run(
        [sys.executable, "-m", "bench.loadgen"],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    return json.loads(result.stdout)


def prepare(target: str, url: str) -> None:
    reset_database(url)
    if target == "receiver":
        subprocess.run(
            [str(BIN / "receiver"), "db", "upgrade"],
            env=server_env(url),
            cwd=REPO,
            check=True,
            capture_output=True,
        )
    else:
        from bench.baseline_app import metadata

        engine = create_engine(url)
        metadata.create_all(engine)  # the baseline's scratch table only; the app uses Alembic
        engine.dispose()


def measure(target: str, url: str, port: int, seconds: float, concurrency: int) -> dict:
    """Max throughput (closed loop), then latency at half of it (open loop)."""
    prepare(target, url)
    server = Server("wsgi:app" if target == "receiver" else "bench.baseline_app:app", url, port)
    try:
        load(
            port, {"mode": "closed", "concurrency": concurrency, "seconds": 2, "start": 10**8}
        )  # warm-up
        before = cpu_seconds(server.process.pid)
        peak = load(
            port, {"mode": "closed", "concurrency": concurrency, "seconds": seconds, "start": 0}
        )
        after = cpu_seconds(server.process.pid)
        peak["cpu_ms_per_request"] = {
            side: round((after[side] - before[side]) * 1000 / max(1, peak["requests"]), 3)
            for side in after
            if side == "server" or not url.startswith("sqlite")
        }
        half = load(
            port,
            {"mode": "open", "rate": max(1.0, peak["rps"] / 2), "seconds": seconds, "start": 10**7},
        )
    finally:
        server.stop()
    return {"max": peak, "half_load": half}


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU time used so far by the server (gunicorn's master and workers) and by every
    PostgreSQL process, from /proc: where a request's cost goes, since on two shared cores the
    throughput ratio is mostly the ratio of CPU per request."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {"server": 0.0, "postgresql": 0.0}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # Fields after the command name: state, ppid, ..., utime (12th), stime (13th).
            head, _, rest = (entry / "stat").read_text().rpartition(")")
            fields = rest.split()
        except OSError:  # the process ended meanwhile
            continue
        seconds = (int(fields[11]) + int(fields[12])) / tick
        if int(entry.name) == server_pid or int(fields[1]) == server_pid:
            used["server"] += seconds
        elif head.endswith("(postgres"):
            used["postgresql"] += seconds
    return used


def run(
    backends: list[str],
    seconds: float,
    concurrency: int,
    postgres_url: str,
    port: int,
    rounds: int = 1,
) -> dict:
    """Both targets on each database, ``rounds`` times in turn (baseline, receiver, baseline …).

    On this shared 2-core machine the bare insert itself ran at ~850 or at ~1,300 to 1,500 req/s
    from one run to the next: one pair of runs can flatter or wrong the receiver by half. The
    ratio reported is the median of the rounds' ratios, with its range; the round that gave the
    median is the one shown in full.
    """
    results = {}
    for backend in backends:
        if backend == "postgresql":
            url = postgres_bench_url(postgres_url)
        else:
            url = f"sqlite:///{tempfile.gettempdir()}/receiver-bench.sqlite3"
        pairs = []
        for _round in range(rounds):
            baseline = measure("baseline", url, port, seconds, concurrency)
            receiver = measure("receiver", url, port, seconds, concurrency)
            pairs.append((receiver["max"]["rps"] / baseline["max"]["rps"], baseline, receiver))
        ratio, baseline, receiver = median_round(pairs)
        results[backend] = {
            "baseline": baseline,
            "receiver": receiver,
            "throughput_ratio": round(ratio, 2),
            "rounds": [_round_summary(*pair) for pair in pairs],
        }
    return results


def median_round(pairs: list[tuple[float, dict, dict]]) -> tuple[float, dict, dict]:
    """The (ratio, baseline, receiver) round with the median ratio (the lower of two middles)."""
    ordered = sorted(pairs, key=lambda pair: pair[0])
    return ordered[(len(ordered) - 1) // 2]


def _round_summary(ratio: float, baseline: dict, receiver: dict) -> dict:
    return {
        "throughput_ratio": round(ratio, 2),
        "baseline_rps": baseline["max"]["rps"],
        "receiver_rps": receiver["max"]["rps"],
        "receiver_p99_ms_at_half_load": receiver["half_load"]["p99_ms"],
        "receiver_cpu_ms_per_request": receiver["max"].get("cpu_ms_per_request"),
    }
