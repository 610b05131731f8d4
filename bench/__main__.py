"""`python -m bench` (or `make bench`): every figure with its ratio to a same-run baseline.

Prints a table and writes the same figures to bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench import ingest

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


def machine() -> dict:
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def ingest_table(results: dict) -> Table:
    table = Table(title="Ingest (gunicorn, production config)")
    for column in (
        "database",
        "target",
        "req/s",
        "x baseline",
        "p50 ms",
        "p99 ms",
        "errors",
        "p50 / p99 ms at ½ max",
    ):
        table.add_column(column)
    for backend, figures in results.items():
        for target in ("baseline", "receiver"):
            peak, half = figures[target]["max"], figures[target]["half_load"]
            ratio = figures["throughput_ratio"] if target == "receiver" else 1.0
            table.add_row(
                backend,
                target,
                f"{peak['rps']:.0f}",
                f"{ratio:.2f}",
                f"{peak['p50_ms']}",
                f"{peak['p99_ms']}",
                str(peak["errors"] + half["errors"]),
                f"{half['p50_ms']} / {half['p99_ms']}",
            )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--seconds", type=float, default=10, help="duration of each load phase")
    parser.add_argument(
        "--concurrency", type=int, default=16, help="connections in the closed loop"
    )
    parser.add_argument("--databases", default="postgresql,sqlite")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    console = Console()
    report = {"machine": machine()}
    report["ingest"] = ingest.run(
        args.databases.split(","), args.seconds, args.concurrency, args.postgres_url, args.port
    )
    console.print(ingest_table(report["ingest"]))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    console.print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
