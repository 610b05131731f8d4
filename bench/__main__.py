"""`python -m bench` (or `make bench`): every figure with its ratio to a same-run baseline.

Prints a table and writes the same figures to bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import subprocess
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench import admin, alert_latency, generate, ingest, instructions

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


def machine(postgres_url: str) -> dict:
    version = subprocess.run(
        ["psql", postgres_url, "-Atc", "SHOW server_version"], capture_output=True, text=True
    ).stdout.strip()
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "postgresql": version or "unreachable",
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
        "CPU ms/req app + PG",
    ):
        table.add_column(column)
    for backend, figures in results.items():
        for target in ("baseline", "receiver"):
            peak, half = figures[target]["max"], figures[target]["half_load"]
            table.add_row(
                backend,
                target,
                f"{peak['rps']:.0f}",
                _ratio(figures) if target == "receiver" else "1.00",
                f"{peak['p50_ms']}",
                f"{peak['p99_ms']}",
                str(peak["errors"] + half["errors"]),
                f"{half['p50_ms']} / {half['p99_ms']}",
                _cpu(peak.get("cpu_ms_per_request")),
            )
    return table


def _ratio(figures: dict) -> str:
    """The median ratio, with the range of the rounds when there were several."""
    ratios = [round_["throughput_ratio"] for round_ in figures.get("rounds", [])]
    median = f"{figures['throughput_ratio']:.2f}"
    if len(ratios) < 2:
        return median
    return f"{median} ({min(ratios):.2f} to {max(ratios):.2f}, {len(ratios)} rounds)"


def _cpu(used: dict | None) -> str:
    if not used:
        return "-"
    database = f" + {used['postgresql']:.2f}" if "postgresql" in used else ""
    return f"{used['server']:.2f}{database}"


def instructions_table(results: dict) -> Table:
    table = Table(title="Instructions per request in the app's process (valgrind, no HTTP server)")
    for column in ("database", "baseline", "receiver", "x baseline"):
        table.add_column(column)
    for backend, figures in results.items():
        table.add_row(
            backend,
            f"{figures['baseline_per_request']:,}",
            f"{figures['receiver_per_request']:,}",
            f"{figures['ratio']:.2f}",
        )
    return table


def admin_table(results: dict) -> Table:
    table = Table(title="Admin list at 1M failures (PostgreSQL, server time, warm median)")
    columns = (
        "page",
        "API ms",
        "SQL alone ms",
        "x SQL",
        "HTML ms",
        "HTML cold ms",
        "chart.svg ms",
        "chart.svg cold ms",
    )
    for column in columns:
        table.add_column(column)
    for name, figures in results["pages"].items():
        table.add_row(
            name,
            f"{figures['warm_median_ms']}",
            f"{figures['sql_only_ms']}",
            f"{figures['ratio']}",
            f"{figures['html_warm_median_ms']}",
            f"{figures['html_cold_ms']}",
            f"{figures.get('chart_warm_median_ms', '-')}",  # no chart: text searches, later pages
            f"{figures.get('chart_cold_ms', '-')}",
        )
    return table


def groups_table(results: dict) -> Table:
    table = Table(title="Grouped landing page at 1M failures (PostgreSQL, server time)")
    for column in ("page", "HTML ms (warm)", "HTML cold ms", "API ms (warm)", "queries alone ms"):
        table.add_column(column)
    for name, figures in results.items():
        table.add_row(
            name,
            f"{figures['html_warm_median_ms']}",
            f"{figures['html_cold_ms']}",
            f"{figures.get('api_warm_median_ms', '-')}",
            f"{figures.get('sql_only_ms', '-')}",
        )
    return table


def csv_table(results: dict) -> Table:
    table = Table(title="CSV export through HTTP (PostgreSQL)")
    for column in ("rows", "seconds", "psql \\copy s", "x psql", "peak RSS MiB"):
        table.add_column(column)
    for figures in results.values():
        table.add_row(
            str(figures["rows"]),
            f"{figures['seconds']}",
            f"{figures['psql_copy_seconds']}",
            f"{figures['ratio']}",
            f"{figures['peak_rss_mib']}",
        )
    return table


def ensure_rows(url: str, rows: int) -> None:
    """Fill the bench database up to ``rows`` failures (kept between runs: it takes minutes)."""
    from sqlalchemy import create_engine, text

    from receiver.migrate import upgrade

    engine = create_engine(url)
    upgrade(engine)
    with engine.connect() as connection:
        present = connection.scalar(text("SELECT count(*) FROM failures"))
    engine.dispose()
    if present < rows:
        generate.main(["--database-url", url, "--rows", str(rows - present)])


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
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="ingest: baseline and receiver measured in turn this many times; the median ratio",
    )
    parser.add_argument(
        "--sections", default="ingest,instructions,admin,alerts", help="which parts to run"
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="failures for the admin part")
    parser.add_argument(
        "--admin-url",
        default=os.environ.get(
            "BENCH_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
        ),
        help="database filled with --rows failures (created and filled when short)",
    )
    args = parser.parse_args()
    sections = set(args.sections.split(","))
    logging.getLogger("receiver.request").setLevel(logging.WARNING)  # one line per request

    console = Console()
    report: dict = {"machine": machine(args.postgres_url)}
    if "admin" in sections:
        create_database(args.admin_url)
        ensure_rows(args.admin_url, args.rows)
        report["admin"] = admin.run(args.admin_url)
        console.print(groups_table(report["admin"]["groups"]))
        console.print(admin_table(report["admin"]))
        console.print(csv_table(report["admin"]["csv"]))
    if "alerts" in sections:
        report["alert_latency"] = alert_latency.measure(
            argparse.Namespace(count=100, rate=10.0, group_wait=2, poll=1.0, database_url=None)
        )
        console.print(f"alert latency beyond group_wait: {report['alert_latency']}")
    if "ingest" in sections:
        report["ingest"] = ingest.run(
            args.databases.split(","),
            args.seconds,
            args.concurrency,
            args.postgres_url,
            args.port,
            args.rounds,
        )
        console.print(ingest_table(report["ingest"]))
    if "instructions" in sections:
        report["instructions"] = instructions.run(args.databases.split(","), args.postgres_url)
        if "skipped" in report["instructions"]:
            console.print(f"instructions: skipped, {report['instructions']['skipped']}")
        else:
            console.print(instructions_table(report["instructions"]))
    write(report, console)


def write(report: dict, console: Console) -> None:
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    console.print(f"written to {RESULTS}")


def create_database(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    server = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        if not connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
        ):
            connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    server.dispose()


if __name__ == "__main__":
    main()
