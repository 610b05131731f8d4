"""replay events, bounded refusals, server-side logout, Agora API dedup keys of their own

- ``notifications``: ``reason_code`` (the API's reason word of a refusal, filled in for the
  rejected rows already stored from their HTTP status), ``body_size`` and ``body_sha256`` (a
  refused body may be kept as a prefix only).
- ``replay_events``: who replayed which notification, when, and what came of it.
- ``admin_session_generations``: logging out invalidates the user's session cookies.
- Agora API-error reports get keys of their own (``agora-api:…``): ``agora:api:…`` could also
  be an NCS event's (``agora:<noticeId>`` with a noticeId ``api:…``).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: HTTP status of a stored refusal -> its reason word (receiver.records' Rejection reasons).
REASON_CODES = {
    400: "malformed",
    401: "unauthorized",
    403: "forbidden",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    503: "unavailable",
}
API_ENDPOINT = "agora/api-errors"
OLD_PREFIX, NEW_PREFIX = "agora:api:", "agora-api:"


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("body_size", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("body_sha256", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("reason_code", sa.String(length=32), nullable=True))
    notifications = sa.table(
        "notifications",
        sa.column("status", sa.String),
        sa.column("http_status", sa.Integer),
        sa.column("reason_code", sa.String),
        sa.column("vendor", sa.String),
        sa.column("dedup_key", sa.String),
        sa.column("id", sa.Integer),
    )
    for status, code in REASON_CODES.items():
        op.execute(
            notifications.update()
            .where(notifications.c.status == "rejected", notifications.c.http_status == status)
            .values(reason_code=code)
        )

    op.create_table(
        "replay_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("notification_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("failures_created", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name="fk_replay_events_notification_id_notifications",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_replay_events"),
    )
    op.create_index(
        "ix_replay_events_notification_id", "replay_events", ["notification_id"], unique=False
    )
    op.create_table(
        "admin_session_generations",
        sa.Column("user", sa.String(length=255), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user", name="pk_admin_session_generations"),
    )
    _rekey_agora_api(notifications, OLD_PREFIX, NEW_PREFIX)


def downgrade() -> None:
    notifications = sa.table(
        "notifications",
        sa.column("vendor", sa.String),
        sa.column("dedup_key", sa.String),
        sa.column("id", sa.Integer),
    )
    _rekey_agora_api(notifications, NEW_PREFIX, OLD_PREFIX)
    op.drop_table("admin_session_generations")
    op.drop_index("ix_replay_events_notification_id", table_name="replay_events")
    op.drop_table("replay_events")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("reason_code")
        batch.drop_column("body_sha256")
        batch.drop_column("body_size")


def _rekey_agora_api(notifications: sa.TableClause, old: str, new: str) -> None:
    """Move the API-error reports' dedup keys and their failures' fingerprints to ``new``."""
    failures = sa.table(
        "failures",
        sa.column("fingerprint", sa.String),
        sa.column("notification_id", sa.Integer),
    )
    reports = sa.select(notifications.c.id).where(notifications.c.vendor == API_ENDPOINT)
    op.execute(
        notifications.update()
        .where(notifications.c.vendor == API_ENDPOINT, notifications.c.dedup_key.startswith(old))
        .values(dedup_key=sa.literal(new) + sa.func.substr(notifications.c.dedup_key, len(old) + 1))
    )
    op.execute(
        failures.update()
        .where(failures.c.fingerprint.startswith(old), failures.c.notification_id.in_(reports))
        .values(fingerprint=sa.literal(new) + sa.func.substr(failures.c.fingerprint, len(old) + 1))
    )
