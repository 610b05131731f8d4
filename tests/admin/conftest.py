"""Admin tests: the shared app with an operator account, plus factories for failures."""

from __future__ import annotations

import base64
import itertools
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from receiver import create_app
from receiver.db import Base, get_database
from receiver.models import Failure, Job, JobFile
from tests.conftest import make_settings

ADMIN_USER = "operator"
ADMIN_PASSWORD = "correct horse battery staple"
#: High enough that no test but the lockout test ever meets it.
GENEROUS_LIMIT = "1000 per minute"


def admin_settings(database_url: str, **overrides: Any):
    values = {
        "admin_user": ADMIN_USER,
        "admin_password": ADMIN_PASSWORD,
        "admin_login_limit": GENEROUS_LIMIT,
        **overrides,
    }
    return make_settings(database_url, **values)


@pytest.fixture(scope="session")
def shared_app(database_url: str) -> Flask:
    """Overrides the root fixture: the same app, with the admin enabled."""
    app = create_app(admin_settings(database_url))
    app.config["TESTING"] = True
    return app


def basic(user: str = ADMIN_USER, password: str = ADMIN_PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def csrf_token(client: FlaskClient, path: str = "/admin/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, page[:500]
    return match.group(1)


def log_in(client: FlaskClient) -> str:
    """Log in through the form; returns a CSRF token valid for the session."""
    token = csrf_token(client)
    response = client.post(
        "/admin/login",
        data={"csrf_token": token, "username": ADMIN_USER, "password": ADMIN_PASSWORD},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return csrf_token(client, "/admin/failures")


@pytest.fixture
def admin(client: FlaskClient) -> FlaskClient:
    """A client with a logged-in session (get a CSRF token with ``csrf_token(admin, path)``)."""
    log_in(client)
    return client


_serial = itertools.count(1)
BASE_TIME = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def add_failure(session: Session, **fields: Any) -> Failure:
    """A failure with its job and output, committed to the test's transaction."""
    n = next(_serial)
    vendor = fields.pop("vendor", "zencoder")
    job = Job(
        vendor=vendor,
        kind=fields.pop("job_kind", "job"),
        external_id=fields.pop("job_external_id", f"job-{n}"),
        state="failed",
        state_rank=9,
        attributes=fields.pop("job_attributes", {}),
    )
    output = JobFile(
        job=job,
        kind="output",
        external_id=fields.pop("file_external_id", f"out-{n}"),
        label=fields.pop("label", f"label-{n}"),
        state="failed",
        state_rank=9,
        primary_upload_error_link=fields.pop("primary_upload_error_link", None),
    )
    values: dict[str, Any] = {
        "vendor": vendor,
        "code": "TranscodingError",
        "code_name": None,
        "category": "encoding",
        "severity": "error",
        "retryable": "yes",
        "message": f"message {n}",
        "link": None,
        "details": {},
        "status": "open",
        "occurred_at": BASE_TIME - timedelta(minutes=n),
        "fingerprint": f"test:{n}",
    }
    values.update(fields)
    failure = Failure(job=job, job_file=output, **values)
    session.add(failure)
    session.flush()
    return failure


def empty_tables(app: Flask) -> None:
    """After a committing test: every table, children first, so rolled-back tests see none."""
    with get_database(app).engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
