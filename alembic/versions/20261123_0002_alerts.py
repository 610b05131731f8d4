"""alerts: groups, their failures, the notification outbox, delivery attempts, silences

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# Types as they were when this revision was written (migrations never import app code).
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIGINT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)
PENDING = sa.text("status = 'pending'")

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_groups",
        sa.Column("id", BIGINT_ID, nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("labels", JSON, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("failure_count", sa.Integer(), nullable=False),
        sa.Column("notified_count", sa.Integer(), nullable=False),
        sa.Column("reopened_count", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", TIME, nullable=False),
        sa.Column("last_seen_at", TIME, nullable=False),
        sa.Column("last_notified_at", TIME, nullable=True),
        sa.Column("acknowledged_at", TIME, nullable=True),
        sa.Column("acknowledged_by", sa.String(length=255), nullable=True),
        sa.Column("resolved_at", TIME, nullable=True),
        sa.Column("silenced_until", TIME, nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_groups")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_alert_groups_fingerprint")),
    )
    op.create_index("ix_alert_groups_state", "alert_groups", ["state", "last_seen_at"])
    op.create_table(
        "alert_group_failures",
        sa.Column("group_id", BIGINT_ID, nullable=False),
        sa.Column("failure_id", BIGINT_ID, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["failure_id"],
            ["failures.id"],
            name=op.f("fk_alert_group_failures_failure_id_failures"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["alert_groups.id"],
            name=op.f("fk_alert_group_failures_group_id_alert_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "failure_id", name=op.f("pk_alert_group_failures")),
    )
    op.create_index(
        op.f("ix_alert_group_failures_failure_id"), "alert_group_failures", ["failure_id"]
    )
    op.create_index(
        "ix_alert_group_failures_window", "alert_group_failures", ["group_id", "created_at"]
    )
    op.create_table(
        "alert_notifications",
        sa.Column("id", BIGINT_ID, nullable=False),
        sa.Column("group_id", BIGINT_ID, nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("due_at", TIME, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_expires_at", TIME, nullable=True),
        sa.Column("sent_at", TIME, nullable=True),
        sa.Column("failure_count", sa.Integer(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["alert_groups.id"],
            name=op.f("fk_alert_notifications_group_id_alert_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_notifications")),
    )
    op.create_index("ix_alert_notifications_due", "alert_notifications", ["status", "due_at"])
    op.create_index(op.f("ix_alert_notifications_group_id"), "alert_notifications", ["group_id"])
    op.create_index(
        "uq_alert_notifications_pending",
        "alert_notifications",
        ["group_id", "channel"],
        unique=True,
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )
    op.create_table(
        "delivery_attempts",
        sa.Column("id", BIGINT_ID, nullable=False),
        sa.Column("notification_id", BIGINT_ID, nullable=False),
        sa.Column("attempted_at", TIME, nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("worker", sa.String(length=128), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["alert_notifications.id"],
            name=op.f("fk_delivery_attempts_notification_id_alert_notifications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_attempts")),
    )
    op.create_index(
        op.f("ix_delivery_attempts_notification_id"), "delivery_attempts", ["notification_id"]
    )
    op.create_table(
        "silences",
        sa.Column("id", BIGINT_ID, nullable=False),
        sa.Column("matchers", JSON, nullable=False),
        sa.Column("author", sa.String(length=255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("starts_at", TIME, nullable=False),
        sa.Column("ends_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_silences")),
    )
    op.create_index(op.f("ix_silences_ends_at"), "silences", ["ends_at"])


def downgrade() -> None:
    op.drop_table("silences")
    op.drop_table("delivery_attempts")
    op.drop_table("alert_notifications")
    op.drop_table("alert_group_failures")
    op.drop_table("alert_groups")
