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
    cast,
    column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from receiver.db import Base, BigIntId, utcnow

IdPK = Annotated[int, mapped_column(BigIntId, primary_key=True)]
Vendor = Annotated[str, mapped_column(String(32))]
ShortText = Annotated[str, mapped_column(String(255))]
Created = Annotated[datetime, mapped_column(default=utcnow)]


def trigram_index(name: str, column: str) -> Index:
    """A pg_trgm GIN index for ``ILIKE '%text%'`` search (the admin's free text).

    Migration 0003 creates it as GIN on PostgreSQL and as a plain index on SQLite, where
    substring search scans anyway but the schema stays the same on both backends.
    """
    return Index(name, column, postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"})


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
    # Of a refused notification: the body's full size and SHA-256, so a kept prefix can still be
    # matched against what the sender says it sent (migration 0005; NULL before).
    body_size: Mapped[int | None] = mapped_column(BigInteger)
    body_sha256: Mapped[str | None] = mapped_column(String(64))
    # passed | failed | unchecked (never verified: too large, or SNS's certificate unreachable)
    # | outside_window (KVS: the signature verifies, the timestamp was not within ±5 minutes)
    auth: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # stored | rejected
    http_status: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    # The API's reason word of a refusal (unauthorized, invalid, too_large …); NULL when stored.
    reason_code: Mapped[str | None] = mapped_column(String(32))
    errors: Mapped[dict[str, Any] | None]
    # Unique per vendor event (see each provider's dedup_key); NULL for rejected notifications.
    dedup_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    duplicate_count: Mapped[int] = mapped_column(Integer, default=0)
    last_duplicate_at: Mapped[datetime | None]
    replayed_at: Mapped[datetime | None]

    failures: Mapped[list[Failure]] = relationship(back_populates="notification")
    replays: Mapped[list[ReplayEvent]] = relationship(
        back_populates="notification", order_by="ReplayEvent.id"
    )

    __table_args__ = (Index("ix_notifications_status", "status", "received_at"),)


class ReplayEvent(Base):
    """Someone ran a stored notification through the pipeline again (or tried to): who, when,
    what was verified and what came of it."""

    __tablename__ = "replay_events"

    id: Mapped[IdPK]
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    # The admin user, or ``cli:<os user>`` for `receiver replay`.
    actor: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime]
    # replayed | duplicate | rejected (the body is still refused) | refused (not replayable)
    outcome: Mapped[str] = mapped_column(String(16))
    # What was verified again (or why it was refused), in words.
    detail: Mapped[str | None] = mapped_column(Text)
    failures_created: Mapped[int] = mapped_column(Integer, default=0)

    notification: Mapped[Notification] = relationship(back_populates="replays")


class AdminSessionGeneration(Base):
    """Logging out bumps the user's generation; a session cookie of an older generation is no
    longer accepted, by any process (the cookie itself cannot be recalled)."""

    __tablename__ = "admin_session_generations"

    user: Mapped[str] = mapped_column(String(255), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[datetime]


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

    __table_args__ = (
        UniqueConstraint("vendor", "external_id"),
        trigram_index("ix_jobs_external_id_trgm", "external_id"),
        # The failures' text search reads the attributes as text (migration 0007).
        Index(
            "ix_jobs_attributes_trgm",
            cast(column("attributes"), Text).label("attributes_text"),
            postgresql_using="gin",
            postgresql_ops={"attributes_text": "gin_trgm_ops"},
        ),
    )


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
    # When the pre-signed URL of the copy on the vendor's backup server stops working (Zencoder's
    # backup_server_used); None when not backed up or the URL says no deadline.
    backup_expires_at: Mapped[datetime | None]
    updated_at: Mapped[Created]

    job: Mapped[Job] = relationship(back_populates="files")

    __table_args__ = (
        UniqueConstraint("job_id", "kind", "external_id"),
        trigram_index("ix_job_files_external_id_trgm", "external_id"),
        trigram_index("ix_job_files_label_trgm", "label"),
        # The "Backup copies" view: the few files on a backup server, by deadline.
        Index(
            "ix_job_files_backup_copies",
            "backup_expires_at",
            postgresql_where=text("backup_server_used"),
            sqlite_where=text("backup_server_used"),
        ),
    )


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

    __table_args__ = (
        Index("ix_failures_occurred_at", "occurred_at", "id"),
        # Admin filters (migration 0003): each equality filter plus the newest-first keyset order,
        # so a filtered page is one index range scan.
        *(
            Index(f"ix_failures_{column}_occurred_at", column, "occurred_at", "id")
            for column in ("vendor", "category", "severity", "status", "code")
        ),
        Index("ix_failures_job_file_id", "job_file_id"),
        # The admin chart counts a date range by category from this index alone.
        Index("ix_failures_occurred_at_category", "occurred_at", "category"),
        trigram_index("ix_failures_message_trgm", "message"),
    )

    notification: Mapped[Notification | None] = relationship(back_populates="failures")
    job: Mapped[Job] = relationship(back_populates="failures")
    job_file: Mapped[JobFile | None] = relationship()


# -- Alerts (receiver/alerts/) --------------------------------------------------------------------


class AlertGroup(Base):
    """Failures that one rule groups together (same ``group_by`` values), with a lifecycle.

    Every failure is in a group, whether or not the rule has a channel (grouping is triage,
    alerting is delivery; see ``receiver.alerts.triage``). ``pending`` (open, nobody alerted:
    below a threshold, or no channel) -> ``firing`` -> ``acknowledged`` -> ``resolved``, or
    ``silenced`` until ``silenced_until``; new failures re-open a resolved group (a regression).
    """

    __tablename__ = "alert_groups"

    id: Mapped[IdPK]
    # sha256 of rule + group labels: stable, so it doubles as PagerDuty's dedup_key.
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    rule: Mapped[str] = mapped_column(String(64))
    labels: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(16))
    failure_count: Mapped[int] = mapped_column(Integer, default=0)
    # Distinct jobs among the failures, failures whose files went to the vendor's backup server,
    # and the worst severity: kept by the ingest upsert.
    job_count: Mapped[int] = mapped_column(Integer, default=0)
    backup_count: Mapped[int] = mapped_column(Integer, default=0)
    severity: Mapped[str] = mapped_column(String(16))
    # failure_count when a notification last went out: more means there is news to tell.
    notified_count: Mapped[int] = mapped_column(Integer, default=0)
    reopened_count: Mapped[int] = mapped_column(Integer, default=0)
    # When the receiver got the first and last failure (our clock) …
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    # … and when they happened (the vendor's clock, as failures' occurred_at).
    first_occurred_at: Mapped[datetime]
    last_occurred_at: Mapped[datetime]
    last_notified_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(255))
    resolved_at: Mapped[datetime | None]
    # The operator who resolved it; None when it resolved by itself (``resolve_after``).
    resolved_by: Mapped[str | None] = mapped_column(String(255))
    silenced_until: Mapped[datetime | None]
    created_at: Mapped[Created]

    notifications: Mapped[list[AlertNotification]] = relationship(
        back_populates="group", order_by="AlertNotification.id"
    )

    __table_args__ = (Index("ix_alert_groups_state", "state", "last_seen_at"),)


class AlertGroupFailure(Base):
    """Which failures a group holds (a failure may be in several groups through ``continue``)."""

    __tablename__ = "alert_group_failures"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("alert_groups.id", ondelete="CASCADE"), primary_key=True
    )
    failure_id: Mapped[int] = mapped_column(
        ForeignKey("failures.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    # When the failure joined the group: thresholds count failures in a recent window.
    created_at: Mapped[Created]
    # Copies of the failure's job and occurred time: a group's jobs and its failures per hour
    # are then range scans of this table's indexes, not joins over every failure.
    job_id: Mapped[int] = mapped_column(BigIntId)
    occurred_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_alert_group_failures_window", "group_id", "created_at"),
        Index("ix_alert_group_failures_occurred", "group_id", "occurred_at", "failure_id"),
        Index("ix_alert_group_failures_job", "group_id", "job_id"),
    )


class AlertNotification(Base):
    """The outbox: one message to one channel about one group, written in the ingest transaction
    and delivered (with retries) by ``receiver worker``. Kept afterwards as history."""

    __tablename__ = "alert_notifications"

    id: Mapped[IdPK]
    group_id: Mapped[int] = mapped_column(
        ForeignKey("alert_groups.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # firing | repeat | regression | resolved
    # pending | sent | failed (gave up) | cancelled (group no longer firing) | suppressed (silence)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[Created]
    due_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A worker's claim; a crashed worker's rows are claimed again once the lease expires.
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    failure_count: Mapped[int | None] = mapped_column(Integer)  # as told in the message
    title: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)

    group: Mapped[AlertGroup] = relationship(back_populates="notifications")
    attempts_made: Mapped[list[DeliveryAttempt]] = relationship(
        back_populates="notification", order_by="DeliveryAttempt.id"
    )

    __table_args__ = (
        Index("ix_alert_notifications_due", "status", "due_at"),
        # At most one message waiting per group and channel: a burst updates it, never adds one.
        Index(
            "uq_alert_notifications_pending",
            "group_id",
            "channel",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )


class DeliveryAttempt(Base):
    """Every try at sending a notification, successful or not."""

    __tablename__ = "delivery_attempts"

    id: Mapped[IdPK]
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("alert_notifications.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(64))
    worker: Mapped[str] = mapped_column(String(128))
    outcome: Mapped[str] = mapped_column(String(16))  # ok | error
    http_status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)

    notification: Mapped[AlertNotification] = relationship(back_populates="attempts_made")


class Silence(Base):
    """Mute matching groups for a while; expires by itself at ``ends_at``."""

    __tablename__ = "silences"

    id: Mapped[IdPK]
    # Field -> glob patterns, the same matchers as rules (e.g. {"category": ["upload"]}).
    matchers: Mapped[dict[str, Any]]
    author: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[Created]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime] = mapped_column(index=True)


# -- Triage (receiver/alerts/triage.py) ------------------------------------------------------------


class TriageEvent(Base):
    """One state change of a group or a failure: who, when, from what to what, and why.

    A group's own change has ``group_id`` and no ``failure_id``; the changes it made to its
    failures have both, with ``cause_id`` pointing at it. A failure changed directly has only
    ``failure_id``; a group that changed because of it (its last open failure was resolved)
    points at that event with ``cause_id``.
    """

    __tablename__ = "triage_events"

    id: Mapped[IdPK]
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(255))  # the operator, or "receiver" (automatic)
    via: Mapped[str] = mapped_column(String(16))  # admin | api | cli | receiver
    action: Mapped[str] = mapped_column(String(16))  # acknowledge | resolve | reopen
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("alert_groups.id", ondelete="CASCADE"))
    failure_id: Mapped[int | None] = mapped_column(ForeignKey("failures.id", ondelete="CASCADE"))
    cause_id: Mapped[int | None] = mapped_column(
        ForeignKey("triage_events.id", ondelete="SET NULL"), index=True
    )
    # For a group's own change: how many of its failures changed with it.
    failure_count: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_triage_events_group", "group_id", "id"),
        Index("ix_triage_events_failure", "failure_id", "id"),
    )
