"""Small helpers shared by the tests: read fixtures, post them like a vendor would."""

from __future__ import annotations

import base64
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from receiver.models import Failure

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TOKENS = {
    "zencoder": "zencoder-test-token-0123456789",
    "lightflow": "lightflow-test-token-0123456789",
}


def stored_failures(session: Session) -> list[Failure]:
    """Every failure stored, oldest first, as the database has them now."""
    statement = select(Failure).order_by(Failure.id).execution_options(populate_existing=True)
    return list(session.scalars(statement))


def fixture_bytes(vendor: str, name: str) -> bytes:
    return (FIXTURES / vendor / name).read_bytes()


def basic_auth(token: str, user: str = "zencoder") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()}


def post(
    client: FlaskClient,
    vendor: str,
    body: bytes,
    content_type: str | None = "application/json",
    headers: dict[str, str] | None = None,
    query: str = "",
) -> TestResponse:
    all_headers = basic_auth(TOKENS[vendor]) if headers is None else headers
    if content_type is not None:
        all_headers = {**all_headers, "Content-Type": content_type}
    return client.post(f"/hooks/{vendor}{query}", data=body, headers=all_headers)


def post_fixture(client: FlaskClient, vendor: str, name: str, **kwargs) -> TestResponse:
    content_type = "application/xml" if name.endswith(".xml") else "application/json"
    return post(client, vendor, fixture_bytes(vendor, name), content_type=content_type, **kwargs)
