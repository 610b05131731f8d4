"""job attributes search: a trigram index on the jobs' attributes as text

The failures' text search also looks in what vendors say about a job (its attributes: a caller's
metadata, a queue). On PostgreSQL ``attributes::text ILIKE '%…%'`` scans every job without an
index (about 1 s at 500,000 jobs); a pg_trgm GIN index on the expression answers in ~11 ms.
SQLite scans anyway; it gets a plain index of the same name so the schema is the same on both
backends (as migration 0003 did for the other trigram indexes).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

import logging
from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

INDEX = "ix_jobs_attributes_trgm"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = bind.exec_driver_sql(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'"
    ).scalar()
    if schema is None:  # migration 0003 installed it where it could, and warned where not
        log.warning("pg_trgm is not available: searching jobs' attributes will scan them")
        return
    # The expression must be written as the query writes it (CAST(attributes AS TEXT)).
    op.execute(
        f'CREATE INDEX {INDEX} ON jobs USING gin ((CAST(attributes AS TEXT)) "{schema}".gin_trgm_ops)'
    )


def downgrade() -> None:
    op.execute(f"DROP INDEX IF EXISTS {INDEX}")
