"""Fill a database with realistic failure rows for the admin benchmarks (default: one million).

    python -m bench.generate --database-url postgresql://postgres@127.0.0.1/bench --rows 1000000

Jobs, their outputs and failures across the four vendors, 90 days, real catalog codes (so
categories, severities and messages have the real distribution of names), 80% open. Every
failure joins its group as ingest would put it there: routed by the packaged alert rules
(``RuleSet.route``, ``Rule.group_labels``, ``Rule.fingerprint``), with the counts, severity,
jobs and times the ingest upsert keeps, and a group state from its failures' statuses.
PostgreSQL is loaded with COPY (psycopg), SQLite with executemany batches. The database is
migrated first; rows are appended after whatever is already there.
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

from receiver.alerts.rules import RuleSet, load_rules
from receiver.catalog import SEVERITIES, CatalogEntry
from receiver.migrate import upgrade
from receiver.models import AlertGroup, Failure, Job, JobFile
from receiver.records import NewFailure
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


class Grouper:
    """Puts failures in their groups as ``receiver.alerts.groups`` does at ingest, and keeps what
    the group row keeps; yields the rows to insert."""

    def __init__(self, rules: RuleSet, first_group: int) -> None:
        self.rules = rules
        self.next_id = first_group
        self.groups: dict[str, dict[str, Any]] = {}

    def load_existing(self, engine: Engine) -> None:
        """Groups of rows generated before: more rows join them rather than duplicating them."""
        with engine.connect() as connection:
            for group in connection.execute(select(AlertGroup)).mappings():
                triage = (
                    "open"
                    if group["state"] in ("pending", "firing", "silenced")
                    else group["state"]
                )
                self.groups[group["fingerprint"]] = {
                    "id": group["id"], "rule": group["rule"], "labels": group["labels"],
                    "failures": group["failure_count"], "jobs": group["job_count"],
                    "last_job": None, "backups": group["backup_count"],
                    "severity": group["severity"], "first": group["first_occurred_at"],
                    "last": group["last_occurred_at"],
                    "statuses": {**dict.fromkeys(STATUSES, 0), triage: 1},
                }  # fmt: skip

    def add(self, failure: NewFailure, status: str) -> Iterator[tuple[str, tuple[Any, ...]]]:
        for rule in self.rules.route(failure):
            labels = rule.group_labels(failure)
            fingerprint = rule.fingerprint(labels)
            group = self.groups.get(fingerprint)
            when = failure.occurred_at
            if group is None:
                group = self.groups[fingerprint] = {
                    "id": self.next_id, "rule": rule.name, "labels": labels, "failures": 0,
                    "jobs": 0, "last_job": None, "backups": 0, "severity": failure.severity,
                    "first": when, "last": when, "statuses": dict.fromkeys(STATUSES, 0),
                }  # fmt: skip
                self.next_id += 1
                yield "alert_groups", self._row(fingerprint, group)
            group["failures"] += 1
            # A job's failures are generated one after the other: a new job is a change.
            group["jobs"] += group["last_job"] != failure.job_id
            group["last_job"] = failure.job_id
            group["backups"] += failure.backup_server
            group["severity"] = min(group["severity"], failure.severity, key=SEVERITIES.index)
            group["first"], group["last"] = min(group["first"], when), max(group["last"], when)
            group["statuses"][status] += 1
            yield (
                "alert_group_failures",
                (group["id"], failure.id, when, failure.job_id, when),
            )

    def _row(self, fingerprint: str, group: dict[str, Any]) -> tuple[Any, ...]:
        return (
            group["id"], fingerprint, group["rule"], json.dumps(group["labels"]), "pending",
            0, 0, 0, group["severity"], 0, 0, group["first"], group["last"], group["first"],
            group["last"], group["first"],
        )  # fmt: skip

    def totals(self) -> list[dict[str, Any]]:
        """The final counts of each group (the rows above were written when it was first seen)."""
        return [
            {
                "id": group["id"],
                "state": _state(group["statuses"]),
                "failure_count": group["failures"],
                "job_count": group["jobs"],
                "backup_count": group["backups"],
                "severity": group["severity"],
                "first": group["first"],
                "last": group["last"],
            }
            for group in self.groups.values()
        ]


def _state(statuses: dict[str, int]) -> str:
    """As the triage model leaves a group whose failures are in these states (no channel is
    configured in the bench, so an open group is pending)."""
    if statuses["open"]:
        return "pending"
    return "acknowledged" if statuses["acknowledged"] else "resolved"


def generate(
    seed: int,
    rows: int,
    first_job: int,
    first_file: int,
    first_failure: int,
    grouper: Grouper,
) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """Yields ("jobs" | "job_files" | "failures" | "alert_groups" | "alert_group_failures", row)
    in insertion order."""
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
            backup = rng.random() < 0.03
            status = rng.choices(statuses, status_weights)[0]
            yield "failures", (
                failure_id, None, job_id, file_id, vendor, entry.code, entry.name,
                entry.category, entry.severity, entry.retryable, message, entry.doc_url,
                backup, "{}", status, when, when, f"bench:{vendor}:{job_ext}:{file_id}",
            )  # fmt: skip
            yield from grouper.add(
                NewFailure(id=failure_id, vendor=vendor, category=entry.category,
                           severity=entry.severity, code=entry.code, backup_server=backup,
                           label=label, job=job_ext, job_id=job_id, occurred_at=when),
                status,
            )  # fmt: skip
            file_id += 1
            failure_id += 1
        job_id += 1


STATUSES = tuple(s for s, _ in STATUS_SHARE)
COLUMNS = {
    "jobs": "id, vendor, kind, external_id, state, state_rank, attributes, created_at, updated_at",
    "job_files": "id, job_id, kind, external_id, label, state, state_rank, backup_server_used, updated_at",
    "failures": "id, notification_id, job_id, job_file_id, vendor, code, code_name, category, "
    "severity, retryable, message, link, backup_server_used, details, status, occurred_at, "
    "created_at, fingerprint",
    "alert_groups": "id, fingerprint, rule, labels, state, failure_count, job_count, "
    "backup_count, severity, notified_count, reopened_count, first_seen_at, last_seen_at, "
    "first_occurred_at, last_occurred_at, created_at",
    "alert_group_failures": "group_id, failure_id, created_at, job_id, occurred_at",
}
#: Tables in the order their rows may be inserted (foreign keys).
TABLES = ("jobs", "job_files", "failures", "alert_groups", "alert_group_failures")
GROUP_TOTALS = (
    "UPDATE alert_groups SET state = :state, failure_count = :failure_count, "
    "job_count = :job_count, backup_count = :backup_count, severity = :severity, "
    "first_seen_at = :first, first_occurred_at = :first, last_seen_at = :last, "
    "last_occurred_at = :last WHERE id = :id"
)


def next_ids(engine: Engine) -> tuple[int, int, int, int]:
    with engine.connect() as connection:
        return tuple(  # type: ignore[return-value]
            (connection.scalar(select(func.max(model.id))) or 0) + 1
            for model in (Job, JobFile, Failure, AlertGroup)
        )


def packaged_rules() -> RuleSet:
    """The packaged rules, channels off: routing and grouping do not depend on channels."""
    return load_rules(environ={})


def load_postgresql(engine: Engine, rows: Iterator[tuple[str, tuple]], progress) -> None:
    """COPY each table from its own buffered stream, in one transaction per 100k failures."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        batch: dict[str, list[tuple]] = {name: [] for name in COLUMNS}

        def flush() -> None:
            progress(len(batch["failures"]))
            for table in TABLES:
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
        for table in ("jobs", "job_files", "failures", "alert_groups"):
            # ids were given explicitly: move the sequences past them
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        raw.commit()
        # As autovacuum leaves a table in service: hint bits set and the visibility map built
        # (index-only scans). Without it the first reads of the new rows write them all again,
        # and the first export or page timed pays for the load.
        raw.driver_connection.autocommit = True
        cursor.execute(
            "VACUUM (ANALYZE) jobs, job_files, failures, alert_groups, alert_group_failures"
        )
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
            for table in TABLES:
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
    *first_ids, first_group = next_ids(engine)
    grouper = Grouper(packaged_rules(), first_group)
    grouper.load_existing(engine)
    rows = generate(args.seed, args.rows, *first_ids, grouper)
    load = load_postgresql if make_url(url).get_backend_name() == "postgresql" else load_sqlite
    with Progress(
        TextColumn("failures"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()
    ) as progress:
        task = progress.add_task("rows", total=args.rows)
        load(engine, rows, lambda n: progress.advance(task, n))
    with engine.begin() as connection:
        connection.execute(text(GROUP_TOTALS), grouper.totals())
        total = connection.scalar(text("SELECT count(*) FROM failures"))
        groups = connection.scalar(text("SELECT count(*) FROM alert_groups"))
    print(json.dumps({"failures": total, "groups": groups}))
    engine.dispose()


if __name__ == "__main__":
    main()
