"""initial schema: notifications, jobs, job files, failures

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# Types as they were when this revision was written (migrations never import app code).
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIGINT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", BIGINT_ID, nullable=False),
        sa.Column("vendor", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("state_rank", sa.Integer(), nullable=False),
        sa.Column("attributes", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("vendor", "external_id", name=op.f("uq_jobs_vendor_external_id")),
    )
    op.create_table(
        "notifications",
        sa.Column("id", BIGINT_ID, nullable=False),
        sa.Column("vendor", sa.String(length=32), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("remote_addr", sa.String(length=64), nullable=True),
        sa.Column("content_type", sa.String(length=255), nullable=True),
        sa.Column("headers", JSON, nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("body_truncated", sa.Boolean(), nullable=False),
        sa.Column("auth", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("errors", JSON, nullable=True),
        sa.Column("dedup_key", sa.String(length=255), nullable=True),
        sa.Column("duplicate_count", sa.Integer(), nullable=False),
        sa.Column("last_duplicate_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replayed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_notifications_dedup_key")),
    )
    op.create_index(op.f("ix_notifications_received_at"), "notifications", ["received_at"])
    op.create_index(op.f("ix_notifications_status"), "notifications", ["status", "received_at"])
    op.create_table(
        "job_files",
        sa.Column("id", BIGINT_ID, nullable=False),
        sa.Column("job_id", BIGINT_ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=True),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("state_rank", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=64), nullable=True),
        sa.Column("video_codec", sa.String(length=64), nullable=True),
        sa.Column("audio_codec", sa.String(length=64), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.BigInteger(), nullable=True),
        sa.Column("file_size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("error_class", sa.String(length=255), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("error_link", sa.Text(), nullable=True),
        sa.Column("backup_server_used", sa.Boolean(), nullable=False),
        sa.Column("primary_upload_error_message", sa.Text(), nullable=True),
        sa.Column("primary_upload_error_link", sa.Text(), nullable=True),
        sa.Column("primary_thumbnail_upload_error_message", sa.Text(), nullable=True),
        sa.Column("primary_thumbnail_upload_error_link", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_job_files_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_files")),
        sa.UniqueConstraint(
            "job_id", "kind", "external_id", name=op.f("uq_job_files_job_id_kind_external_id")
        ),
    )
    op.create_table(
        "failures",
        sa.Column("id", BIGINT_ID, nullable=False),
        sa.Column("notification_id", BIGINT_ID, nullable=True),
        sa.Column("job_id", BIGINT_ID, nullable=False),
        sa.Column("job_file_id", BIGINT_ID, nullable=True),
        sa.Column("vendor", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=128), nullable=False),
        sa.Column("code_name", sa.String(length=128), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("retryable", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("link", sa.Text(), nullable=True),
        sa.Column("backup_server_used", sa.Boolean(), nullable=False),
        sa.Column("details", JSON, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fingerprint", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_file_id"],
            ["job_files.id"],
            name=op.f("fk_failures_job_file_id_job_files"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_failures_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name=op.f("fk_failures_notification_id_notifications"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failures")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_failures_fingerprint")),
    )
    op.create_index(op.f("ix_failures_occurred_at"), "failures", ["occurred_at", "id"])
    op.create_index(op.f("ix_failures_job_id"), "failures", ["job_id"])
    op.create_index(op.f("ix_failures_notification_id"), "failures", ["notification_id"])


def downgrade() -> None:
    op.drop_table("failures")
    op.drop_table("job_files")
    op.drop_table("notifications")
    op.drop_table("jobs")
