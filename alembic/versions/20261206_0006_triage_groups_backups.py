"""triage: every failure's group carries what the landing page shows; state changes are recorded;
backup copies keep their deadline

- alert_groups: worst severity, jobs affected, failures on the vendor's backup server, first
  and last *occurred* time (the vendor's clock; first_seen_at / last_seen_at stay the
  receiver's), maintained by the ingest upsert.
- alert_group_failures: the failure's job and occurred time, so a group's jobs and its failures
  per hour are index range scans instead of joins over every failure.
- triage_events: who changed which group or failure, when, from what to what, with a note.
- job_files.backup_expires_at: when the pre-signed URL of a copy on the vendor's backup server
  stops working.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Types as they were when this revision was written (migrations never import app code).
BIGINT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WORST_SEVERITY_FIRST = (
    "CASE f.severity WHEN 'critical' THEN 0 WHEN 'error' THEN 1 WHEN 'warning' THEN 2 ELSE 3 END"
)


def upgrade() -> None:
    with op.batch_alter_table("alert_group_failures") as batch:
        batch.add_column(sa.Column("job_id", BIGINT_ID, nullable=True))
        batch.add_column(sa.Column("occurred_at", TIME, nullable=True))
    op.execute(
        "UPDATE alert_group_failures SET "
        "job_id = (SELECT f.job_id FROM failures f WHERE f.id = alert_group_failures.failure_id), "
        "occurred_at = (SELECT f.occurred_at FROM failures f "
        "WHERE f.id = alert_group_failures.failure_id)"
    )
    with op.batch_alter_table("alert_group_failures") as batch:
        batch.alter_column("job_id", existing_type=BIGINT_ID, nullable=False)
        batch.alter_column("occurred_at", existing_type=TIME, nullable=False)
        batch.create_index(
            "ix_alert_group_failures_occurred", ["group_id", "occurred_at", "failure_id"]
        )
        batch.create_index("ix_alert_group_failures_job", ["group_id", "job_id"])

    with op.batch_alter_table("alert_groups") as batch:
        batch.add_column(sa.Column("severity", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("job_count", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("backup_count", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("first_occurred_at", TIME, nullable=True))
        batch.add_column(sa.Column("last_occurred_at", TIME, nullable=True))
    links = "FROM alert_group_failures l WHERE l.group_id = alert_groups.id"
    op.execute(
        "UPDATE alert_groups SET "
        f"job_count = (SELECT count(DISTINCT l.job_id) {links}), "
        "backup_count = (SELECT count(*) FROM failures f JOIN alert_group_failures l "
        "ON l.failure_id = f.id WHERE l.group_id = alert_groups.id AND f.backup_server_used), "
        f"first_occurred_at = COALESCE((SELECT min(l.occurred_at) {links}), first_seen_at), "
        f"last_occurred_at = COALESCE((SELECT max(l.occurred_at) {links}), last_seen_at), "
        "severity = COALESCE((SELECT f.severity FROM failures f JOIN alert_group_failures l "
        "ON l.failure_id = f.id WHERE l.group_id = alert_groups.id "
        f"ORDER BY {WORST_SEVERITY_FIRST} LIMIT 1), 'error')"
    )
    with op.batch_alter_table("alert_groups") as batch:
        batch.alter_column("severity", existing_type=sa.String(length=16), nullable=False)
        batch.alter_column("job_count", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("backup_count", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("first_occurred_at", existing_type=TIME, nullable=False)
        batch.alter_column("last_occurred_at", existing_type=TIME, nullable=False)

    op.create_table(
        "triage_events",
        sa.Column("id", BIGINT_ID, nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=False),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("group_id", BIGINT_ID, nullable=True),
        sa.Column("failure_id", BIGINT_ID, nullable=True),
        sa.Column("cause_id", BIGINT_ID, nullable=True),
        sa.Column("failure_count", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["alert_groups.id"],
            name=op.f("fk_triage_events_group_id_alert_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["failure_id"],
            ["failures.id"],
            name=op.f("fk_triage_events_failure_id_failures"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["cause_id"],
            ["triage_events.id"],
            name=op.f("fk_triage_events_cause_id_triage_events"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_events")),
    )
    op.create_index("ix_triage_events_group", "triage_events", ["group_id", "id"])
    op.create_index("ix_triage_events_failure", "triage_events", ["failure_id", "id"])
    op.create_index("ix_triage_events_cause_id", "triage_events", ["cause_id"])

    with op.batch_alter_table("job_files") as batch:
        batch.add_column(sa.Column("backup_expires_at", TIME, nullable=True))
    copies = sa.text("backup_server_used")
    op.create_index(
        "ix_job_files_backup_copies",
        "job_files",
        ["backup_expires_at"],
        postgresql_where=copies,
        sqlite_where=copies,
    )


def downgrade() -> None:
    op.drop_index("ix_job_files_backup_copies", table_name="job_files")
    with op.batch_alter_table("job_files") as batch:
        batch.drop_column("backup_expires_at")
    op.drop_index("ix_triage_events_cause_id", table_name="triage_events")
    op.drop_index("ix_triage_events_failure", table_name="triage_events")
    op.drop_index("ix_triage_events_group", table_name="triage_events")
    op.drop_table("triage_events")
    with op.batch_alter_table("alert_groups") as batch:
        for column in (
            "last_occurred_at",
            "first_occurred_at",
            "backup_count",
            "job_count",
            "severity",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("alert_group_failures") as batch:
        batch.drop_index("ix_alert_group_failures_job")
        batch.drop_index("ix_alert_group_failures_occurred")
        batch.drop_column("occurred_at")
        batch.drop_column("job_id")
