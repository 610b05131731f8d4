"""The schema comes from Alembic alone; the models must agree with it on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from alembic import command
from receiver.migrate import alembic_config, current_revision, downgrade, head_revision, upgrade
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


def test_0006_fills_the_new_group_columns_from_existing_failures(engine):
    """Groups and links made before 0006 get their jobs, severity, occurred times and backup
    count from the failures they hold."""
    rows = {
        "notifications": [],
        "jobs": [(1, "zencoder", "job", "j1"), (2, "zencoder", "job", "j2")],
        "failures": [
            (1, 1, "warning", "2026-11-01 10:00:00", False),
            (2, 1, "critical", "2026-11-03 10:00:00", True),
            (3, 2, "error", "2026-11-02 10:00:00", False),
        ],
    }
    downgrade(engine, "0005")
    with engine.begin() as connection:
        for job_id, vendor, kind, external in rows["jobs"]:
            connection.execute(
                text(
                    "INSERT INTO jobs (id, vendor, kind, external_id, state, state_rank, "
                    "attributes, created_at, updated_at) VALUES (:id, :vendor, :kind, :ext, "
                    "'failed', 9, '{}', :at, :at)"
                ),
                {
                    "id": 9000 + job_id,
                    "vendor": vendor,
                    "kind": kind,
                    "ext": external,
                    "at": "2026-11-01 00:00:00",
                },
            )
        connection.execute(
            text(
                "INSERT INTO alert_groups (id, fingerprint, rule, labels, state, failure_count, "
                "notified_count, reopened_count, first_seen_at, last_seen_at, created_at) "
                "VALUES (9000, :fp, 'r', '{}', 'firing', 3, 0, 0, :at, :at, :at)"
            ),
            {"fp": "9" * 64, "at": "2026-11-05 00:00:00"},
        )
        for failure_id, job_id, severity, occurred, backup in rows["failures"]:
            connection.execute(
                text(
                    "INSERT INTO failures (id, job_id, vendor, code, category, severity, "
                    "retryable, backup_server_used, details, status, occurred_at, created_at, "
                    "fingerprint) VALUES (:id, :job, 'zencoder', 'E', 'upload', :severity, 'no', "
                    ":backup, '{}', 'open', :at, :at, :fp)"
                ),
                {
                    "id": 9000 + failure_id,
                    "job": 9000 + job_id,
                    "severity": severity,
                    "backup": backup,
                    "at": occurred,
                    "fp": f"m:{failure_id}",
                },
            )
            connection.execute(
                text(
                    "INSERT INTO alert_group_failures (group_id, failure_id, created_at) "
                    "VALUES (9000, :id, '2026-11-05 00:00:00')"
                ),
                {"id": 9000 + failure_id},
            )
    try:
        upgrade(engine)  # on SQLite it rebuilds alert_groups: the links must survive that
        with engine.begin() as connection:
            group = connection.execute(
                text(
                    "SELECT severity, job_count, backup_count, first_occurred_at, "
                    "last_occurred_at FROM alert_groups WHERE id = 9000"
                )
            ).one()
            links = connection.execute(
                text(
                    "SELECT failure_id, job_id FROM alert_group_failures WHERE group_id = 9000 "
                    "ORDER BY failure_id"
                )
            ).all()
        assert (group.severity, group.job_count, group.backup_count) == ("critical", 2, 1)
        assert str(group.first_occurred_at).startswith("2026-11-01 10:00:00")
        assert str(group.last_occurred_at).startswith("2026-11-03 10:00:00")
        assert [tuple(link) for link in links] == [(9001, 9001), (9002, 9001), (9003, 9002)]
    finally:
        with engine.begin() as connection:
            for table in ("alert_groups", "failures", "jobs"):
                connection.execute(text(f"DELETE FROM {table} WHERE id >= 9000"))
