"""Copies on a vendor's backup server, and how long they stay there.

When Zencoder cannot upload an output where the job asked, it keeps the file on its own S3
bucket behind a pre-signed URL that expires (``job_files.backup_expires_at``, read from the URL
by the provider). Until then the operator can save the file; after it, only a re-run can. One
query serves the admin's "Backup copies" view, the group and failure pages, ``receiver backups``
and ``GET /api/backups``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session, aliased

from receiver.models import AlertGroupFailure, Failure, Job, JobFile


@dataclass(frozen=True)
class BackupCopy:
    """One output whose file is on the backup server."""

    vendor: str
    job_id: str  # the vendor's job id
    job_kind: str
    output_id: str  # the vendor's output id
    label: str | None
    url: str | None
    expires_at: datetime | None
    #: The first backup-server failure of this output (its admin page), and its code.
    failure_id: int | None
    code: str | None
    message: str | None

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def as_dict(self, now: datetime) -> dict[str, Any]:
        """For ``--json`` and the API: times in ISO 8601 UTC."""
        return {
            "vendor": self.vendor,
            "job_id": self.job_id,
            "job_kind": self.job_kind,
            "output_id": self.output_id,
            "label": self.label,
            "url": self.url,
            "expires_at": _iso(self.expires_at),
            "expired": self.expired(now),
            "failure_id": self.failure_id,
            "code": self.code,
            "message": self.message,
        }


def list_backups(
    session: Session,
    now: datetime,
    *,
    expiring_within: timedelta | None = None,
    group_id: int | None = None,
    failure_ids: list[int] | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[BackupCopy]:
    """Backup copies, those still available first (soonest deadline first), then those whose
    URL gives no deadline, then the expired (most recently expired first).

    ``expiring_within``: only copies still available that expire within that time.
    """
    backed_up = aliased(Failure)
    # The output's first backup-server failure: its own upload's (Zencoder reports the
    # thumbnails' after it).
    first = (
        select(func.min(backed_up.id))
        .where(backed_up.job_file_id == JobFile.id, backed_up.backup_server_used)
        .correlate(JobFile)
        .scalar_subquery()
    )
    statement = (
        select(
            Job.vendor,
            Job.external_id.label("job_id"),
            Job.kind.label("job_kind"),
            JobFile.external_id.label("output_id"),
            JobFile.label,
            JobFile.url,
            JobFile.backup_expires_at.label("expires_at"),
            Failure.id.label("failure_id"),
            Failure.code,
            Failure.message,
        )
        .join(Job, Job.id == JobFile.job_id)
        .outerjoin(Failure, Failure.id == first)
        .where(JobFile.backup_server_used, *_scope(now, expiring_within, group_id, failure_ids))
        .order_by(*_soonest_first(now), JobFile.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [BackupCopy(**row._asdict()) for row in session.execute(statement)]


def _scope(
    now: datetime,
    expiring_within: timedelta | None,
    group_id: int | None,
    failure_ids: list[int] | None,
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if expiring_within is not None:
        where += [
            JobFile.backup_expires_at > now,
            JobFile.backup_expires_at <= now + expiring_within,
        ]
    if group_id is not None:
        in_group = select(AlertGroupFailure.failure_id).where(
            AlertGroupFailure.group_id == group_id
        )
        where.append(
            JobFile.id.in_(
                select(Failure.job_file_id).where(
                    Failure.id.in_(in_group), Failure.backup_server_used
                )
            )
        )
    if failure_ids is not None:
        where.append(JobFile.id.in_(select(Failure.job_file_id).where(Failure.id.in_(failure_ids))))
    return where


def _soonest_first(now: datetime) -> list[Any]:
    expires = JobFile.backup_expires_at
    available = expires > now
    rank = case((available, 0), (expires.is_(None), 1), else_=2)
    # Within the available ones the soonest deadline first; within the expired the latest.
    return [rank, case((available, expires)).asc(), expires.desc()]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None
