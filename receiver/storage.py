"""Writing notifications and what they say. The caller owns the transaction (one per
notification) and commits it, so later steps (alerts) can join the same transaction.

Repeats and races are settled by unique constraints (``INSERT … ON CONFLICT``), never by a
check-then-insert, so two identical notifications arriving at the same instant store one row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, case, or_, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from receiver.db import insert_for, rowcount, table_of, utcnow
from receiver.direct_sql import fetch_first, fetch_scalar
from receiver.models import Failure, Job, JobFile, Notification
from receiver.records import (
    ClassifiedFailure,
    ClassifiedNotification,
    FailureReport,
    FileUpdate,
    JobUpdate,
    NewFailure,
    Recovery,
    Rejection,
)

MAX_KEY_LENGTH = 255
# The optional file columns: one a FileUpdate does not carry is inserted as NULL, so every
# file insert has the same parameters and reuses one compiled statement.
FILE_COLUMNS = tuple(column.name for column in JobFile.__table__.columns if column.nullable)


@dataclass
class RawNotification:
    """The request as received: kept byte for byte, minus credentials."""

    vendor: str
    body: bytes
    content_type: str | None
    headers: dict[str, str]
    remote_addr: str | None
    received_at: datetime = field(default_factory=utcnow)
    body_truncated: bool = False
    #: The body's full size (as declared, if it was larger than what was read) and SHA-256:
    #: kept with refusals, whose body may be kept as a prefix only.
    body_size: int | None = None
    body_sha256: str | None = None


@dataclass(frozen=True)
class Saved:
    """What storing a notification's news changed: the failures it created, the jobs that
    recovered (their failures are resolved by the triage model, not here)."""

    new_failures: tuple[NewFailure, ...] = ()
    recoveries: tuple[Recovery, ...] = ()


@dataclass(frozen=True)
class StoreResult:
    notification_id: int
    duplicate: bool
    saved: Saved = Saved()

    @property
    def new_failures(self) -> tuple[NewFailure, ...]:
        return self.saved.new_failures


def save_rejected(session: Session, raw: RawNotification, rejection: Rejection, auth: str) -> int:
    """Keep a refused notification with the reason, so it can be inspected and replayed."""
    notification = Notification(
        **_raw_columns(raw),
        body_size=raw.body_size,
        body_sha256=raw.body_sha256,
        auth=auth,
        status="rejected",
        http_status=rejection.status,
        reason=rejection.message,
        reason_code=rejection.reason,
        errors=rejection.errors,
    )
    session.add(notification)
    session.flush()
    return notification.id


def begin_accepted(session: Session, classified: ClassifiedNotification) -> None:
    """Open the connection that will store ``classified``, before anything runs on it.

    On PostgreSQL a notification that changes one job and says nothing else (no files, no
    failures, no recovery: most of them, "job progressed" news) is stored by one statement, the
    claim with the job's upsert (:func:`save_accepted`), and nothing joins it later (alerts come
    of new failures and recoveries only). That statement runs outside an explicit transaction:
    PostgreSQL commits a lone statement by itself, durably before it answers, which saves the
    BEGIN and COMMIT round trips of the three a transaction takes (in-process, per such
    notification: ~0.07 ms of the receiver's CPU and ~0.06 ms of PostgreSQL's). A repeat's
    count is a second statement, correct on its own since the claim inserted nothing.

    Only when the session owns its connection: one handed to it inside a transaction (the test
    suite's rolled-back connection) keeps that transaction.
    """
    bind = session.get_bind()
    if (
        isinstance(bind, Engine)
        and bind.dialect.name == "postgresql"
        and _one_statement(classified)
    ):
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def _one_statement(classified: ClassifiedNotification) -> bool:
    if len(classified.jobs) != 1:
        return False
    job = classified.jobs[0]
    return not job.failures and not job.update.files and job.update.recovered_at is None


def save_accepted(
    session: Session,
    raw: RawNotification,
    classified: ClassifiedNotification,
    http_status: int,
    auth: str = "passed",
) -> StoreResult:
    """Store the notification and everything it says, or recognise it as a repeat and only
    count it.

    The jobs and failures belong to ``classified.vendor``, which may differ from the endpoint
    the notification came to (``raw.vendor``), e.g. Agora API-error reports or CloudWatch
    alarms via SNS.
    """
    # One connection for every statement: asking the session for it each time was a measurable
    # share of a notification's CPU.
    connection = session.connection()
    claim = {
        **_raw_columns(raw),
        "auth": auth,
        "status": "stored",
        "http_status": http_status,
        "dedup_key": bounded_key(classified.normalized.dedup_key),
        "duplicate_count": 0,
    }
    first_job_id: int | None = None
    if connection.dialect.name == "postgresql" and classified.jobs:
        # One round trip for the claim and the first job (nearly every notification has one).
        first = classified.jobs[0].update
        job = _job_params(classified.vendor, bounded_key(first.external_id), first)
        row = fetch_first(
            connection,
            _claim_with_job_statement(),
            {f"n_{name}": value for name, value in claim.items()}
            | {f"j_{name}": value for name, value in job.items()},
        )
        notification_id, first_job_id = (row.notification_id, row.id) if row else (None, None)
    else:
        notification_id = _fetch_scalar(connection, _claim_statement, claim)
    if notification_id is None:
        # The insert was the transaction's first statement, so nothing else needs undoing.
        duplicate_of = _count_duplicate(connection, classified.normalized.dedup_key, raw)
        return StoreResult(duplicate_of, duplicate=True)
    saved = save_normalized(
        connection, notification_id, classified, raw.received_at, first_job_id=first_job_id
    )
    return StoreResult(notification_id, duplicate=False, saved=saved)


def save_normalized(
    connection: Connection,
    notification_id: int,
    classified: ClassifiedNotification,
    received_at: datetime,
    first_job_id: int | None = None,
) -> Saved:
    """Upsert the jobs and files a notification describes and insert its new failures.

    Returns the failures that did not exist before (a repeat reports none) and the jobs the
    notification says recovered. ``first_job_id``: the first job was upserted already (with
    the claim, on PostgreSQL).
    """
    vendor = classified.vendor
    occurred_at = classified.normalized.occurred_at or received_at
    new_failures: list[NewFailure] = []
    recoveries: list[Recovery] = []
    for index, job in enumerate(classified.jobs):
        job_external_id = bounded_key(job.update.external_id)
        if index == 0 and first_job_id is not None:
            job_id = first_job_id
        else:
            job_id = _upsert_job(connection, vendor, job_external_id, job.update)
        # (id, label) per file: the label after the upsert, which an earlier notification may
        # have set, is what alert rules group on.
        files = {
            (file.kind, file.external_id): _upsert_file(connection, job_id, file)
            for file in job.update.files
        }
        for failure in job.failures:
            report = failure.report
            file_id, label = _file_of(files, report)
            failure_id = _insert_failure(
                connection, vendor, notification_id, job_id, file_id, failure, occurred_at
            )
            if failure_id is not None:
                new_failures.append(
                    NewFailure(
                        id=failure_id,
                        vendor=vendor,
                        category=failure.category,
                        severity=failure.severity,
                        code=report.code,
                        backup_server=report.backup_server_used,
                        label=label,
                        job=job_external_id,
                        job_id=job_id,
                        occurred_at=occurred_at,
                    )
                )
        if job.update.recovered_at is not None:
            recoveries.append(Recovery(job_id, job.update.recovered_at))
    return Saved(tuple(new_failures), tuple(recoveries))


def _file_of(
    files: dict[tuple[str, str], tuple[int, str | None]], report: FailureReport
) -> tuple[int | None, str | None]:
    """The (id, label) of the file a failure concerns, if any."""
    if report.file_kind is None or report.file_external_id is None:
        return None, None
    return files.get((report.file_kind, report.file_external_id), (None, None))


def bounded_key(key: str) -> str:
    """Keys are built from vendor ids of any length; long ones are hashed to fit the column."""
    if len(key) <= MAX_KEY_LENGTH:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _raw_columns(raw: RawNotification) -> dict[str, Any]:
    return {
        "vendor": raw.vendor,
        "received_at": raw.received_at,
        "remote_addr": raw.remote_addr,
        "content_type": raw.content_type,
        "headers": raw.headers,
        "body": raw.body,
        "body_truncated": raw.body_truncated,
    }


# Statements are built once per dialect (and per set of file columns) and executed with
# parameters: building them per request with literal values cost more than the database work.
# They run on the driver's cursor (receiver.direct_sql): ingest runs them for every notification.
def _fetch_scalar(
    connection: Connection, build: Callable[[str], Any], params: dict[str, Any]
) -> Any:
    return fetch_scalar(connection, build(connection.dialect.name), params)


@cache
def _claim_statement(dialect: str) -> Any:
    table = Notification.__table__
    return (
        insert_for(dialect)(table)
        .on_conflict_do_nothing(index_elements=["dedup_key"])
        .returning(table.c.id)
    )


@cache
def _duplicate_statement(_dialect: str) -> Any:
    table = table_of(Notification)
    return (
        update(table)
        .where(table.c.dedup_key == bindparam("key"))
        .values(duplicate_count=table.c.duplicate_count + 1, last_duplicate_at=bindparam("at"))
        .returning(table.c.id)
    )


def _count_duplicate(connection: Connection, dedup_key: str, raw: RawNotification) -> int:
    original: int = _fetch_scalar(
        connection, _duplicate_statement, {"key": bounded_key(dedup_key), "at": raw.received_at}
    )
    return original


def _state_columns(table: Any, excluded: Any) -> dict[str, Any]:
    """ON CONFLICT assignments that move a state forward only (equal ranks: the latest wins)."""
    wins = excluded.state_rank >= table.c.state_rank
    return {
        "state": case((wins, excluded.state), else_=table.c.state),
        "state_rank": case((wins, excluded.state_rank), else_=table.c.state_rank),
        "updated_at": excluded.updated_at,
    }


def _job_upsert(statement: Any) -> Any:
    """``statement`` (an INSERT into jobs) as the upsert that moves a job forward only."""
    table = Job.__table__
    columns = _state_columns(table, statement.excluded)
    # Attributes describe the job at its latest state; keep them with the state that wins.
    columns["attributes"] = case(
        (statement.excluded.state_rank >= table.c.state_rank, statement.excluded.attributes),
        else_=table.c.attributes,
    )
    return statement.on_conflict_do_update(
        index_elements=["vendor", "external_id"], set_=columns
    ).returning(table.c.id)


@cache
def _job_statement(dialect: str) -> Any:
    return _job_upsert(insert_for(dialect)(Job.__table__))


#: The claim's columns (``_raw_columns`` and the claim's own), in the combined statement.
_CLAIM_COLUMNS = (
    *("vendor", "received_at", "remote_addr", "content_type", "headers", "body"),
    *("body_truncated", "auth", "status", "http_status", "dedup_key", "duplicate_count"),
)
_JOB_COLUMNS = (
    *("vendor", "kind", "external_id", "state", "state_rank", "attributes"),
    *("created_at", "updated_at"),
)


@cache
def _claim_with_job_statement() -> Any:
    """PostgreSQL: claim the dedup key and upsert the first job in one statement.

    The job's insert reads its row from the claim, so a repeat (the claim inserts nothing)
    upserts no job and the statement returns no row: as with the two statements in turn.
    """
    notifications, jobs = table_of(Notification), table_of(Job)
    claim = (
        postgresql.insert(notifications)
        .values(
            {
                name: bindparam(f"n_{name}", type_=notifications.c[name].type)
                for name in _CLAIM_COLUMNS
            }
        )
        .on_conflict_do_nothing(index_elements=["dedup_key"])
        .returning(notifications.c.id)
        .cte("claim")
    )
    job_row = select(
        *(bindparam(f"j_{name}", type_=jobs.c[name].type) for name in _JOB_COLUMNS)
    ).select_from(claim)
    upsert = _job_upsert(postgresql.insert(jobs).from_select(list(_JOB_COLUMNS), job_row))
    return upsert.returning(select(claim.c.id).scalar_subquery().label("notification_id"))


def _job_params(vendor: str, external_id: str, job: JobUpdate) -> dict[str, Any]:
    now = utcnow()
    return {
        "vendor": vendor,
        "kind": job.kind,
        "external_id": external_id,
        "state": job.state,
        "state_rank": job.rank,
        "attributes": job.attributes,
        "created_at": now,
        "updated_at": now,
    }


def _upsert_job(connection: Connection, vendor: str, external_id: str, job: JobUpdate) -> int:
    job_id: int = _fetch_scalar(connection, _job_statement, _job_params(vendor, external_id, job))
    return job_id


@cache
def _file_statement(dialect: str, carried: frozenset[str]) -> Any:
    table = JobFile.__table__
    statement = insert_for(dialect)(table)
    wins = statement.excluded.state_rank >= table.c.state_rank
    columns = _state_columns(table, statement.excluded)
    for name in carried:
        columns[name] = case((wins, statement.excluded[name]), else_=table.c[name])
    return statement.on_conflict_do_update(
        index_elements=["job_id", "kind", "external_id"], set_=columns
    ).returning(table.c.id, table.c.label)


def _upsert_file(connection: Connection, job_id: int, file: FileUpdate) -> tuple[int, str | None]:
    """The file's (id, label) after the upsert."""
    # A later notification may omit what an earlier one said (the backup-server details are only
    # sent when used), so only values this notification actually carries overwrite old ones.
    carried = frozenset(
        name for name, value in file.fields.items() if value is not None and value is not False
    )
    row: tuple[int, str | None] | None = fetch_first(
        connection,
        _file_statement(connection.dialect.name, carried),
        {
            **dict.fromkeys(FILE_COLUMNS),
            "backup_server_used": False,
            **file.fields,
            "job_id": job_id,
            "kind": file.kind,
            "external_id": bounded_key(file.external_id),
            "state": file.state,
            "state_rank": file.rank,
            "updated_at": utcnow(),
        },
    )
    assert row is not None  # an upsert always returns its row
    return row


@cache
def _failure_statement(dialect: str) -> Any:
    table = Failure.__table__
    return (
        insert_for(dialect)(table)
        .on_conflict_do_nothing(index_elements=["fingerprint"])
        .returning(table.c.id)
    )


def _insert_failure(
    connection: Connection,
    vendor: str,
    notification_id: int,
    job_id: int,
    job_file_id: int | None,
    failure: ClassifiedFailure,
    occurred_at: datetime,
) -> int | None:
    report = failure.report
    failure_id: int | None = _fetch_scalar(
        connection,
        _failure_statement,
        dict(
            notification_id=notification_id,
            job_id=job_id,
            job_file_id=job_file_id,
            vendor=vendor,
            code=report.code,
            code_name=failure.code_name,
            category=failure.category,
            severity=failure.severity,
            retryable=failure.retryable,
            message=report.message,
            link=report.link,
            backup_server_used=report.backup_server_used,
            details=report.details,
            status="open",
            occurred_at=occurred_at,
            created_at=utcnow(),
            fingerprint=bounded_key(report.fingerprint),
        ),
    )
    return failure_id


def reclassify_failures(session: Session, lookup: Callable[[str, str], Any]) -> int:
    """Re-derive every failure's classification from the catalog; returns rows changed.

    One UPDATE per distinct (vendor, code) rather than per row: there are a few hundred codes
    but possibly millions of failures. Rows already matching are left untouched.
    """
    changed = 0
    pairs = session.execute(select(Failure.vendor, Failure.code).distinct()).all()
    for vendor, code in pairs:
        entry = lookup(vendor, code)
        result = session.execute(
            update(Failure)
            .where(
                Failure.vendor == vendor,
                Failure.code == code,
                or_(
                    Failure.code_name.is_distinct_from(entry.name),
                    Failure.category != entry.category,
                    Failure.severity != entry.severity,
                    Failure.retryable != entry.retryable,
                ),
            )
            .values(
                code_name=entry.name,
                category=entry.category,
                severity=entry.severity,
                retryable=entry.retryable,
            )
            .execution_options(synchronize_session=False)
        )
        changed += rowcount(result)
    return changed
