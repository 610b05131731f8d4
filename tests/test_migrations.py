"""The schema comes from Alembic alone; the models must agree with it on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from alembic import command
from receiver.migrate import alembic_config, current_revision, head_revision
from receiver.models import Base


def test_database_is_at_head(engine):
    with engine.connect() as connection:
        assert current_revision(connection) == head_revision()


def test_models_match_the_migrations(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_to_base_and_back(engine):
    with engine.begin() as connection:
        config = alembic_config(connection=connection)
        command.downgrade(config, "base")
        assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
        command.upgrade(config, "head")
        assert {"notifications", "jobs", "job_files", "failures"} <= set(
            inspect(connection).get_table_names()
        )
