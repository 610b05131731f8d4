"""Every response code of the hook endpoints, and what is kept for each."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import func, select

from receiver import create_app
from receiver.models import Failure, Job, Notification
from tests.conftest import make_settings
from tests.helpers import TOKENS, basic_auth, fixture_bytes, post, post_fixture


def stored(session, notification_id: int) -> Notification:
    return session.get(Notification, notification_id)


def test_accepted_notification_is_stored_raw_and_normalized(client, session):
    body = fixture_bytes("zencoder", "output_failed.json")
    response = post(client, "zencoder", body)

    assert response.status_code == 202
    assert response.json["status"] == "accepted"
    notification = stored(session, response.json["id"])
    assert notification.body == body  # byte for byte
    assert notification.status == "stored"
    assert notification.auth == "passed"
    assert notification.dedup_key == "zencoder:48213390:output:99871260:failed"
    assert "Authorization" not in notification.headers  # credentials are never stored
    assert session.scalar(select(func.count()).select_from(Failure)) == 1


@pytest.mark.parametrize(
    "credentials",
    [
        {"headers": basic_auth(TOKENS["zencoder"])},
        {"headers": {"X-Receiver-Token": TOKENS["zencoder"]}},
        {"headers": {}, "query": f"?token={TOKENS['zencoder']}"},
    ],
    ids=["basic-auth", "header", "query"],
)
def test_token_accepted_in_every_documented_place(client, credentials):
    response = post_fixture(client, "zencoder", "output_finished.json", **credentials)
    assert response.status_code == 202


@pytest.mark.parametrize(
    "headers",
    [{}, basic_auth("wrong-token-wrong-token"), {"X-Receiver-Token": TOKENS["lightflow"]}],
    ids=["missing", "wrong", "other-vendors-token"],
)
def test_bad_credentials_are_401_and_kept_without_normalized_rows(client, session, headers):
    response = post_fixture(client, "zencoder", "output_failed.json", headers=headers)

    assert response.status_code == 401
    assert response.json["message"]
    notification = stored(session, response.json["id"])
    assert (notification.status, notification.auth, notification.http_status) == (
        "rejected",
        "failed",
        401,
    )
    assert notification.dedup_key is None
    assert session.scalar(select(func.count()).select_from(Job)) == 0
    assert session.scalar(select(func.count()).select_from(Failure)) == 0


def test_malformed_json_is_400_and_kept(client, session):
    response = post(client, "zencoder", b'{"job": {"id": 1,')
    assert response.status_code == 400
    assert response.json["reason"] == "malformed"
    notification = stored(session, response.json["id"])
    assert notification.status == "rejected" and notification.body == b'{"job": {"id": 1,'


def test_invalid_utf8_is_400(client):
    assert post(client, "lightflow", b'{"uuid": "\xff\xfe"}').status_code == 400


def test_schema_violation_is_422_with_field_messages_and_kept_for_replay(client, session):
    payload = json.loads(fixture_bytes("zencoder", "output_failed.json"))
    del payload["job"]["id"]
    payload["output"]["width"] = "wide"
    response = post(client, "zencoder", json.dumps(payload).encode())

    assert response.status_code == 422
    assert response.json["errors"]["job"]["id"] == ["Missing data for required field."]
    assert "width" in response.json["errors"]["output"]
    notification = stored(session, response.json["id"])
    assert notification.status == "rejected" and notification.auth == "passed"
    assert notification.errors == response.json["errors"]


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b'"text"',
        b"null",
        b'{"job": {"id": 1, "state": "failed", "pass_through": "a\\u0000b"}}',
        b'{"job": {"id": 1, "state": "failed"}, "output": {"id": 2, "state": "failed", "width": 1e400}}',
        b'{"job": {"id": 1, "state": "\\ud800"}}',
        b'{"job": {"id": true, "state": "failed"}}',
    ],
    ids=["list", "string", "null", "nul-char", "huge-number", "lone-surrogate", "bool-id"],
)
def test_values_a_database_would_choke_on_are_422_not_500(client, body):
    assert post(client, "zencoder", body).status_code == 422


def test_unsupported_content_type_is_415_and_kept(client, session):
    response = post(
        client,
        "lightflow",
        b"uuid=1&status=error",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 415
    assert stored(session, response.json["id"]).status == "rejected"


def test_missing_content_type_is_tried_as_json(client):
    response = post(
        client, "lightflow", fixture_bytes("lightflow", "asset_ready.json"), content_type=None
    )
    assert response.status_code == 202


def test_body_over_the_limit_is_413_and_only_its_prefix_kept(client, session, app):
    """A 413 was never authenticated: like a 401 it keeps a prefix, its size and a hash."""
    settings = app.extensions["settings"]
    limit, prefix = settings.max_body_bytes, settings.refused_prefix_bytes
    body = b'{"padding": "' + b"x" * limit + b'"}'
    response = post(client, "lightflow", body)

    assert response.status_code == 413
    notification = stored(session, response.json["id"])
    assert notification.auth == "unchecked" and notification.body_truncated
    assert notification.body == body[:prefix] and notification.body_size == len(body)
    # The hash is of what was read: the body up to the limit.
    assert notification.body_sha256 == hashlib.sha256(body[:limit]).hexdigest()


def test_unknown_vendor_is_404_json(client):
    response = client.post("/hooks/nosuchvendor", data=b"{}")
    assert response.status_code == 404
    assert response.json["reason"] == "unknown_vendor"


def test_wrong_method_is_json_405(client):
    response = client.get("/hooks/zencoder")
    assert response.status_code == 405
    assert "message" in response.json
    assert "POST" in response.headers["Allow"]  # the error's own headers are kept


def test_duplicate_is_200_with_the_original_id_and_counted(client, session):
    first = post_fixture(client, "lightflow", "asset_error_2404.json")
    second = post_fixture(client, "lightflow", "asset_error_2404.json")

    assert (first.status_code, second.status_code) == (202, 200)
    assert second.json == {"status": "duplicate", "id": first.json["id"]}
    notification = stored(session, first.json["id"])
    session.refresh(notification)
    assert notification.duplicate_count == 1 and notification.last_duplicate_at is not None
    assert session.scalar(select(func.count()).select_from(Notification)) == 1
    assert session.scalar(select(func.count()).select_from(Failure)) == 1


def test_a_repeat_changes_nothing_of_its_job(client, session):
    # On PostgreSQL the claim and the job's upsert are one statement: the job must only move
    # when the claim inserted, as when they were two statements in turn.
    body = json.loads(fixture_bytes("lightflow", "asset_ready.json"))
    first = post(client, "lightflow", json.dumps(body).encode())
    repeat = post(client, "lightflow", json.dumps(body | {"assetName": "renamed"}).encode())

    assert (first.status_code, repeat.status_code) == (202, 200)
    job = session.scalars(select(Job).execution_options(populate_existing=True)).one()
    assert job.attributes["name"] == body["assetName"]


def test_database_outage_is_503_with_retry_after():
    # A real unreachable server (nothing listens on port 1), not a mocked error.
    app = create_app(
        make_settings("postgresql+psycopg://receiver@127.0.0.1:1/none", db_pool_timeout=1.0)
    )
    response = post_fixture(app.test_client(), "lightflow", "asset_ready.json")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(app.extensions["settings"].retry_after_seconds)
    assert response.json["reason"] == "unavailable"
