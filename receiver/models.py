"""The stored records: raw notifications, the vendor entities they describe, and failures.

Vendor entities share two tables rather than one per vendor: a ``Job`` is whatever a vendor tracks
(a Zencoder job, a LightFlow asset, an Agora transcoding task, a KVS stream) and a ``JobFile`` is one
of its inputs or outputs. That keeps the admin list, alerts and retention vendor-agnostic.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from receiver.db import Base, BigIntId, utcnow

IdPK = Annotated[int, mapped_column(BigIntId, primary_key=True)]
Vendor = Annotated[str, mapped_column(String(32))]
ShortText = Annotated[str, mapped_column(String(255))]
Created = Annotated[datetime, mapped_column(default=utcnow)]


class Notification(Base):
    """One HTTP request a vendor sent us, kept byte for byte whatever became of it."""

    __tablename__ = "notifications"

    id: Mapped[IdPK]
    vendor: Mapped[Vendor]
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    content_type: Mapped[str | None] = mapped_column(String(255))
    # Only headers useful for inspection and replay; credentials are never stored.
    headers: Mapped[dict[str, Any]]
    body: Mapped[bytes] = mapped_column(LargeBinary)
    body_truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    auth: Mapped[str] = mapped_column(String(16))  # passed | failed | missing | skipped
    status: Mapped[str] = mapped_column(String(16))  # stored | rejected
    http_status: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    errors: Mapped[dict[str, Any] | None]
    # Unique per vendor event (see each provider's dedup_key); NULL for rejected notifications.
    dedup_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    duplicate_count: Mapped[int] = mapped_column(Integer, default=0)
    last_duplicate_at: Mapped[datetime | None]
    replayed_at: Mapped[datetime | None]

    failures: Mapped[list[Failure]] = relationship(back_populates="notification")

    __table_args__ = (Index("ix_notifications_status", "status", "received_at"),)


class Job(Base):
    """A unit of work at a vendor, with the most advanced state we have heard of."""

    __tablename__ = "jobs"

    id: Mapped[IdPK]
    vendor: Mapped[Vendor]
    kind: Mapped[str] = mapped_column(String(16))  # job | asset | task | stream
    external_id: Mapped[ShortText]
    state: Mapped[str] = mapped_column(String(64))
    # Ordering of states (see Provider.state_rank): a late "processing" never undoes "failed".
    state_rank: Mapped[int] = mapped_column(Integer)
    attributes: Mapped[dict[str, Any]]
    created_at: Mapped[Created]
    updated_at: Mapped[Created]

    files: Mapped[list[JobFile]] = relationship(back_populates="job", order_by="JobFile.id")
    failures: Mapped[list[Failure]] = relationship(back_populates="job")

    __table_args__ = (UniqueConstraint("vendor", "external_id"),)


class JobFile(Base):
    """An input or output of a job as the vendor last described it."""

    __tablename__ = "job_files"

    id: Mapped[IdPK]
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # input | output
    external_id: Mapped[ShortText]
    label: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(64))
    state_rank: Mapped[int] = mapped_column(Integer)
    format: Mapped[str | None] = mapped_column(String(64))
    video_codec: Mapped[str | None] = mapped_column(String(64))
    audio_codec: Mapped[str | None] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    file_size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    url: Mapped[str | None] = mapped_column(Text)
    error_class: Mapped[str | None] = mapped_column(String(255))
    error_message: Mapped[str | None] = mapped_column(Text)
    error_link: Mapped[str | None] = mapped_column(Text)
    backup_server_used: Mapped[bool] = mapped_column(Boolean, default=False)
    primary_upload_error_message: Mapped[str | None] = mapped_column(Text)
    primary_upload_error_link: Mapped[str | None] = mapped_column(Text)
    primary_thumbnail_upload_error_message: Mapped[str | None] = mapped_column(Text)
    primary_thumbnail_upload_error_link: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[Created]

    job: Mapped[Job] = relationship(back_populates="files")

    __table_args__ = (UniqueConstraint("job_id", "kind", "external_id"),)


class Failure(Base):
    """One thing that went wrong, classified by the error catalog."""

    __tablename__ = "failures"

    id: Mapped[IdPK]
    # SET NULL: retention may drop an old raw notification while its failure is still open.
    notification_id: Mapped[int | None] = mapped_column(
        ForeignKey("notifications.id", ondelete="SET NULL"), index=True
    )
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    job_file_id: Mapped[int | None] = mapped_column(ForeignKey("job_files.id", ondelete="CASCADE"))
    vendor: Mapped[Vendor]
    code: Mapped[str] = mapped_column(String(128))
    code_name: Mapped[str | None] = mapped_column(String(128))
    category: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    retryable: Mapped[str] = mapped_column(String(16))
    message: Mapped[str | None] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(Text)
    backup_server_used: Mapped[bool] = mapped_column(Boolean, default=False)
    details: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|acknowledged|resolved
    occurred_at: Mapped[datetime]
    created_at: Mapped[Created]
    # One failure per failing thing, however often the vendor repeats the news.
    fingerprint: Mapped[str] = mapped_column(String(255), unique=True)

    __table_args__ = (Index("ix_failures_occurred_at", "occurred_at", "id"),)

    notification: Mapped[Notification | None] = relationship(back_populates="failures")
    job: Mapped[Job] = relationship(back_populates="failures")
    job_file: Mapped[JobFile | None] = relationship()
