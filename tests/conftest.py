"""Test set-up: real Alembic migrations once per database, a rolled-back transaction per test.

Every database test runs on SQLite and on PostgreSQL too (in a throwaway schema, so parallel runs
and other users of the database are untouched): the server named by ``TEST_DATABASE_URL``, or
when that is unset the local one at ``postgresql://postgres@127.0.0.1:5432/test`` if it answers.
A set but unreachable ``TEST_DATABASE_URL`` is an error, never a silent skip; set it empty to run
on SQLite alone. The run ends with one line saying what was skipped or deselected and why.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from receiver import create_app
from receiver.db import get_database
from receiver.migrate import upgrade
from receiver.settings import Settings
from receiver.vendors import load_settings
from tests.helpers import TOKENS

REPO = Path(__file__).resolve().parent.parent

SECRET_KEY = "test-secret-key-0123456789abcdef"
#: Refusals of unauthenticated posts stored per sender and vendor: tests post many from
#: 127.0.0.1, and only the test of the limit itself meets one.
GENEROUS_REFUSED_LIMIT = "100000 per minute"

BACKENDS = ["sqlite", "postgresql"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite fixtures/<vendor>/<name>.expected.json from what the receiver stores "
        "(on SQLite; PostgreSQL then compares): review their diff before committing",
    )


LOCAL_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


@functools.cache
def test_database_url() -> str | None:
    """``TEST_DATABASE_URL``; unset: the local server if it answers (empty: none)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url is not None:
        return url or None
    try:
        with psycopg.connect(LOCAL_POSTGRES_URL, connect_timeout=2):
            return LOCAL_POSTGRES_URL
    except psycopg.Error:
        return None


def postgres_url(schema: str) -> str | None:
    url = test_database_url()
    if not url:
        return None
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated, empty database of each backend, for the whole test session."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        yield _migrated(url)
        return
    schema = f"test_{uuid.uuid4().hex[:12]}"
    url = postgres_url(schema)
    if url is None:
        pytest.skip(
            "TEST_DATABASE_URL is empty: SQLite only"
            if os.environ.get("TEST_DATABASE_URL") == ""
            else f"no PostgreSQL at {LOCAL_POSTGRES_URL} and TEST_DATABASE_URL unset"
        )
    admin = create_engine(url.split("?")[0])
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _migrated(url)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _migrated(url: str) -> str:
    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


#: The vendors the default test app enables.
TOKEN_VENDORS = {
    "RECEIVER_ZENCODER_TOKEN": TOKENS["zencoder"],
    "RECEIVER_LIGHTFLOW_TOKEN": TOKENS["lightflow"],
}


def make_settings(
    database_url: str, vendor_environment: Mapping[str, str] | None = None, **overrides: object
) -> Settings:
    """Settings as read from an environment with these vendors' settings (the token vendors'
    unless given), then ``overrides`` of core settings."""
    environ = {
        "DATABASE_URL": database_url,
        "RECEIVER_SECRET_KEY": SECRET_KEY,
        "RECEIVER_REFUSED_LIMIT": GENEROUS_REFUSED_LIMIT,
        **(TOKEN_VENDORS if vendor_environment is None else vendor_environment),
    }
    return dataclasses.replace(load_settings(environ), **overrides)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def shared_app(database_url: str) -> Flask:
    app = create_app(make_settings(database_url))
    app.config["TESTING"] = True
    return app


@contextmanager
def rolled_back(app: Flask) -> Iterator[Flask]:
    """Bind every session of ``app`` to one connection whose transaction is rolled back after.

    The ``app`` fixture uses it per test; property-based tests use it per generated example.
    """
    database = get_database(app)
    connection = database.engine.connect()
    transaction = connection.begin()
    database.sessionmaker.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield app
    finally:
        database.sessionmaker.configure(
            bind=database.engine, join_transaction_mode="conservative_savepoint"
        )
        transaction.rollback()
        connection.close()


@pytest.fixture
def app(shared_app: Flask) -> Iterator[Flask]:
    """The app with every session bound to one connection whose transaction is rolled back."""
    with rolled_back(shared_app):
        yield shared_app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A session inside the test's transaction, for assertions and factories."""
    with get_database(app).sessionmaker() as session:
        yield session


@pytest.fixture
def engine(shared_app: Flask) -> Engine:
    return get_database(shared_app).engine


@pytest.fixture
def backend(database_url: str) -> str:
    return make_url(database_url).get_backend_name()


@pytest.fixture
def committing_app(database_url: str) -> Iterator[Flask]:
    """An app whose transactions really commit (for concurrency and process tests).

    Tables are emptied afterwards so the rolled-back tests never see its rows.
    """
    app = create_app(make_settings(database_url))
    yield app
    engine = get_database(app).engine
    with engine.begin() as connection:
        # Children first. Every failing notification also makes a group, its links and (with a
        # channel) its messages: left behind, a later test would count a stranger's group.
        for table in (
            *("triage_events", "delivery_attempts", "alert_notifications"),
            *("alert_group_failures", "alert_groups", "replay_events"),
            *("failures", "job_files", "jobs", "notifications"),
        ):
            connection.execute(text(f"DELETE FROM {table}"))
    engine.dispose()


def pytest_report_header() -> str:
    url = test_database_url()
    where = make_url(url).render_as_string(hide_password=True) if url else "none (SQLite only)"
    return f"PostgreSQL for the database tests: {where}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """PostgreSQL-only tests (COPY, SKIP LOCKED) have no SQLite variant: deselected, not
    skipped, so a skip always means something is missing from this machine."""
    sqlite_variants = [
        item
        for item in items
        if item.get_closest_marker("postgres_only")
        and getattr(item, "callspec", None) is not None
        and item.callspec.params.get("database_url") == "sqlite"
    ]
    if sqlite_variants:
        config.hook.pytest_deselected(items=sqlite_variants)
        items[:] = [item for item in items if item not in set(sqlite_variants)]
        config.stash[_DESELECTED] = len(sqlite_variants)


_DESELECTED = pytest.StashKey[int]()


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """One line: what did not run, and why (pytest's own -ra lines give each test)."""
    reasons = Counter(
        str(report.longrepr[2]).removeprefix("Skipped: ")
        if isinstance(report.longrepr, tuple)
        else "skipped"
        for report in terminalreporter.stats.get("skipped", [])
    )
    parts = [f"{count} skipped: {reason}" for reason, count in reasons.most_common()]
    if deselected := config.stash.get(_DESELECTED, 0):
        parts.append(f"{deselected} SQLite variants of PostgreSQL-only tests not generated")
    terminalreporter.write_line("not run: " + ("; ".join(parts) if parts else "nothing"))
