"""Fill a database with realistic failure rows for the admin benchmarks (default: one million).

    python -m bench.generate --database-url postgresql://postgres@127.0.0.1/bench --rows 1000000

Jobs, their outputs and failures across the four vendors, 90 days, real catalog codes (so
categories, severities and messages have the real distribution of names), 80% open. PostgreSQL
is loaded with COPY (psycopg), SQLite with executemany batches. The database is migrated first;
rows are appended after whatever is already there.
"""

from __future__ import annotations

import argparse
import json
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine, make_url

from receiver.catalog import CatalogEntry
from receiver.migrate import upgrade
from receiver.models import Failure, Job, JobFile
from receiver.settings import database_url
from receiver.vendors import default_catalog

VENDOR_SHARE = {"zencoder": 0.45, "lightflow": 0.25, "agora": 0.15, "kvs": 0.15}
JOB_KIND = {"zencoder": "job", "lightflow": "asset", "agora": "task", "kvs": "stream"}
LABELS = ["mp4-1080p", "mp4-720p", "hls-1080p", "hls-720p", "hls-480p", "dash-4k", "thumbnails"]
STATUS_SHARE = (("open", 0.8), ("acknowledged", 0.1), ("resolved", 0.1))
FAILURES_PER_JOB = 2  # each failing job has two failing outputs
DAYS = 90


def external_id(vendor: str, n: int) -> str:
    if vendor == "zencoder":
        return str(40_000_000 + n)
    if vendor == "lightflow":
        return str(uuid.UUID(int=n))
    if vendor == "agora":
        return f"task-{n:010d}"
    return f"arn:aws:kinesisvideo:eu-west-1:123456789012:stream/cam-{n}/1700000000000"


def generate(
    seed: int, rows: int, first_job: int, first_file: int, first_failure: int
) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """Yields ("jobs" | "job_files" | "failures", row) in insertion order."""
    rng = random.Random(seed)
    catalog = default_catalog()
    entries: dict[str, list[CatalogEntry]] = {
        vendor: catalog.entries(vendor) or [catalog.lookup(vendor, "unknown")]
        for vendor in VENDOR_SHARE
    }
    vendors = list(VENDOR_SHARE)
    weights = list(VENDOR_SHARE.values())
    now = datetime.now(UTC).replace(microsecond=0)
    statuses = [s for s, _ in STATUS_SHARE]
    status_weights = [w for _, w in STATUS_SHARE]
    job_id, file_id, failure_id = first_job, first_file, first_failure
    for _ in range(0, rows, FAILURES_PER_JOB):
        vendor = rng.choices(vendors, weights)[0]
        occurred = now - timedelta(seconds=rng.randrange(DAYS * 86400))
        job_ext = external_id(vendor, job_id)
        yield (
            "jobs",
            (job_id, vendor, JOB_KIND[vendor], job_ext, "failed", 9, "{}", occurred, occurred),
        )
        for k in range(FAILURES_PER_JOB):
            label = LABELS[(job_id + k) % len(LABELS)]
            yield (
                "job_files",
                (
                    file_id,
                    job_id,
                    "output",
                    str(90_000_000 + file_id),
                    label,
                    "failed",
                    9,
                    False,
                    occurred,
                ),
            )
            entry = rng.choice(entries[vendor])
            message = f"{entry.description} (output {label}, attempt {rng.randint(1, 3)})"
            when = occurred + timedelta(seconds=k)
            yield "failures", (
                failure_id, None, job_id, file_id, vendor, entry.code, entry.name,
                entry.category, entry.severity, entry.retryable, message, entry.doc_url,
                rng.random() < 0.03, "{}", rng.choices(statuses, status_weights)[0], when, when,
                f"bench:{vendor}:{job_ext}:{file_id}",
            )  # fmt: skip
            file_id += 1
            failure_id += 1
        job_id += 1


COLUMNS = {
    "jobs": "id, vendor, kind, external_id, state, state_rank, attributes, created_at, updated_at",
    "job_files": "id, job_id, kind, external_id, label, state, state_rank, backup_server_used, updated_at",
    "failures": "id, notification_id, job_id, job_file_id, vendor, code, code_name, category, "
    "severity, retryable, message, link, backup_server_used, details, status, occurred_at, "
    "created_at, fingerprint",
}


def next_ids(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as connection:
        return tuple(  # type: ignore[return-value]
            (connection.scalar(select(func.max(model.id))) or 0) + 1
            for model in (Job, JobFile, Failure)
        )


def load_postgresql(engine: Engine, rows: Iterator[tuple[str, tuple]], progress) -> None:
    """COPY each table from its own buffered stream, in one transaction per 100k failures."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        batch: dict[str, list[tuple]] = {name: [] for name in COLUMNS}

        def flush() -> None:
            progress(len(batch["failures"]))
            for table in ("jobs", "job_files", "failures"):
                with cursor.copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN") as copy:
                    for row in batch[table]:
                        copy.write_row(row)
                batch[table].clear()
            raw.commit()

        for table, row in rows:
            batch[table].append(row)
            if table == "failures" and len(batch["failures"]) >= 100_000:
                flush()
        flush()
        for table in COLUMNS:  # ids were given explicitly: move the sequences past them
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        raw.commit()
        # As autovacuum leaves a table in service: hint bits set and the visibility map built
        # (index-only scans). Without it the first reads of the new rows write them all again,
        # and the first export or page timed pays for the load.
        raw.driver_connection.autocommit = True
        cursor.execute("VACUUM (ANALYZE) jobs, job_files, failures")
    finally:
        raw.close()


def load_sqlite(engine: Engine, rows: Iterator[tuple[str, tuple]], progress) -> None:
    statements = {
        table: f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * len(columns.split(',')))})"
        for table, columns in COLUMNS.items()
    }
    batch: dict[str, list[tuple]] = {name: [] for name in COLUMNS}
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()

        def flush() -> None:
            progress(len(batch["failures"]))
            cursor.execute("BEGIN")
            for table in ("jobs", "job_files", "failures"):
                cursor.executemany(statements[table], [_sqlite(row) for row in batch[table]])
                batch[table].clear()
            cursor.execute("COMMIT")

        for table, row in rows:
            batch[table].append(row)
            if table == "failures" and len(batch["failures"]) >= 20_000:
                flush()
        flush()
        cursor.execute("ANALYZE")
    finally:
        raw.close()


def _sqlite(row: tuple) -> tuple:
    # The UTCDateTime column stores naive UTC text on SQLite.
    return tuple(
        v.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ") if isinstance(v, datetime) else v
        for v in row
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--rows", type=int, default=1_000_000, help="failure rows to add")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    url = database_url("DATABASE_URL", args.database_url)
    engine = create_engine(url)
    upgrade(engine)
    first_ids = next_ids(engine)
    rows = generate(args.seed, args.rows, *first_ids)
    load = load_postgresql if make_url(url).get_backend_name() == "postgresql" else load_sqlite
    with Progress(
        TextColumn("failures"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()
    ) as progress:
        task = progress.add_task("rows", total=args.rows)
        load(engine, rows, lambda n: progress.advance(task, n))
    with engine.connect() as connection:
        total = connection.scalar(text("SELECT count(*) FROM failures"))
    print(json.dumps({"failures": total}))
    engine.dispose()


if __name__ == "__main__":
    main()
