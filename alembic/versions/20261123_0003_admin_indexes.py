"""admin indexes: filters in keyset order, job_file_id, chart, and trigram indexes for free text

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

FILTERED_COLUMNS = ("vendor", "category", "severity", "status", "code")
#: (index, table, column) searched with ILIKE '%text%' by the admin's free text.
TRIGRAM_INDEXES = (
    ("ix_failures_message_trgm", "failures", "message"),
    ("ix_jobs_external_id_trgm", "jobs", "external_id"),
    ("ix_job_files_external_id_trgm", "job_files", "external_id"),
    ("ix_job_files_label_trgm", "job_files", "label"),
)


def upgrade() -> None:
    with op.batch_alter_table("failures") as batch:
        for column in FILTERED_COLUMNS:
            batch.create_index(f"ix_failures_{column}_occurred_at", [column, "occurred_at", "id"])
        batch.create_index("ix_failures_job_file_id", ["job_file_id"])
        batch.create_index("ix_failures_occurred_at_category", ["occurred_at", "category"])

    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        # SQLite: same index names as on PostgreSQL so the models match; substring search
        # scans there anyway.
        for name, table, column in TRIGRAM_INDEXES:
            op.create_index(name, table, [column])
        return
    schema = _trigram_schema(bind)
    if schema is None:
        log.warning(
            "pg_trgm is not available (CREATE EXTENSION pg_trgm needs the database owner): "
            "free-text search in the admin will scan instead of using trigram indexes"
        )
        return
    for name, table, column in TRIGRAM_INDEXES:
        # The operator class is schema-qualified: the extension may live outside search_path.
        op.execute(
            f'CREATE INDEX {name} ON {table} USING gin ({column} "{schema}".gin_trgm_ops)'
        )


def _trigram_schema(bind: sa.Connection) -> str | None:
    """The schema holding pg_trgm, installing it (into public, else the current schema)."""
    for statement in (
        "CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public",
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    ):
        savepoint = bind.begin_nested()
        try:
            bind.exec_driver_sql(statement)
        except sa.exc.DBAPIError:
            savepoint.rollback()
            continue
        savepoint.commit()
        break
    return bind.exec_driver_sql(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'"
    ).scalar()


def downgrade() -> None:
    # The pg_trgm extension stays: other objects of the database may use it.
    bind = op.get_bind()
    for name, table, _column in TRIGRAM_INDEXES:
        if bind.dialect.name == "postgresql":
            op.execute(f"DROP INDEX IF EXISTS {name}")
        else:
            op.drop_index(name, table_name=table)
    with op.batch_alter_table("failures") as batch:
        batch.drop_index("ix_failures_occurred_at_category")
        batch.drop_index("ix_failures_job_file_id")
        for column in reversed(FILTERED_COLUMNS):
            batch.drop_index(f"ix_failures_{column}_occurred_at")
