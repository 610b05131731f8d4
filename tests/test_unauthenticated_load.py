"""What a sender without any secret can make the receiver do (issue #17): bounded storage, a
closed set of metric series, a private /metrics if wanted, capped error documents, and
credentials in proxy headers kept out of storage."""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest
from limits.storage import storage_from_string
from sqlalchemy import func, select

from receiver import create_app
from receiver.db import get_database
from receiver.models import Notification
from receiver.throttle import RefusalLimit
from tests.conftest import make_settings, rolled_back
from tests.helpers import TOKENS, basic_auth, fixture_bytes, post
from tests.test_operations import scrape, value

REDIS_URL = "redis://127.0.0.1:6379"


def stored_refusals(session) -> int:
    return session.scalar(
        select(func.count()).select_from(Notification).where(Notification.status == "rejected")
    )


@pytest.fixture
def limited_app(database_url):
    """An app that stores at most 3 refusals per sender and endpoint a minute."""
    app = create_app(make_settings(database_url, refused_limit="3 per minute"))
    with rolled_back(app):
        yield app
    get_database(app).engine.dispose()


def test_refusals_of_one_sender_are_stored_up_to_the_limit_then_only_counted(limited_app):
    client = limited_app.test_client()
    before = scrape(client)
    answers = [post(client, "zencoder", b"{}", headers={}) for _ in range(5)]
    assert [a.status_code for a in answers] == [401] * 5  # the same answer throughout
    assert ["id" in a.json for a in answers] == [True, True, True, False, False]
    with get_database(limited_app).sessionmaker() as session:
        assert stored_refusals(session) == 3
    # Another endpoint is another budget; an authenticated refusal is never limited.
    assert "id" in post(client, "lightflow", b"{}", headers={}).json
    for _ in range(5):
        assert "id" in post(client, "zencoder", b"[]").json  # 422, token right
    after = scrape(client)
    dropped = "receiver_refusals_not_stored_total"
    assert (
        value(after, dropped, vendor="zencoder", reason="unauthorized")
        - value(before, dropped, vendor="zencoder", reason="unauthorized")
        == 2
    )


def test_an_unauthenticated_refusal_keeps_a_prefix_its_size_and_hash(client, session, app):
    prefix = app.extensions["settings"].refused_prefix_bytes
    body = json.dumps({"padding": "y" * 100_000}).encode()
    response = post(client, "lightflow", body, headers={"X-Receiver-Token": "not-the-token"})
    notification = session.get(Notification, response.json["id"])
    assert len(notification.body) == prefix and notification.body_truncated
    assert notification.body_size == len(body)
    assert notification.body_sha256 == hashlib.sha256(body).hexdigest()
    # Headers are bounded too: they could carry as much as the body.
    many = {f"X-Filler-{i}": "z" * 1000 for i in range(40)}
    refused = post(client, "lightflow", b"{}", headers=many)
    headers = session.get(Notification, refused.json["id"]).headers
    assert sum(len(k) + len(v) for k, v in headers.items()) < 2100
    assert "more headers not kept" in headers["…"]


def test_an_authenticated_refusal_keeps_its_whole_body(client, session):
    body = json.dumps({"padding": "y" * 100_000}).encode()
    response = post(client, "lightflow", body)
    assert response.status_code == 422
    notification = session.get(Notification, response.json["id"])
    assert notification.body == body and not notification.body_truncated


def test_redis_storage_shares_the_limit_between_processes(database_url):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    # A sender address of its own, so earlier runs' counts in Redis do not matter.
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"
    # Two processes: each has its own storage object, counting in the same Redis.
    limits = [RefusalLimit(storage_from_string(REDIS_URL), "3 per minute") for _ in range(2)]
    assert [limits[n % 2].allows("zencoder", address) for n in range(6)] == [True] * 3 + [False] * 3

    # And the app counts there when told to.
    settings = make_settings(database_url, refused_limit="3 per minute", limiter_storage=REDIS_URL)
    app = create_app(settings)
    other = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.8"
    try:
        with rolled_back(app):
            client = app.test_client()
            answers = [
                client.post("/hooks/zencoder", data=b"{}", environ_base={"REMOTE_ADDR": other})
                for _ in range(4)
            ]
        assert [a.status_code for a in answers] == [401] * 4
        assert ["id" in a.json for a in answers] == [True, True, True, False]
    finally:
        get_database(app).engine.dispose()


def test_unknown_endpoints_add_no_metric_series(client):
    names = [uuid.uuid4().hex for _ in range(20)]
    for name in names:
        client.post(f"/hooks/{name}", data=b"{}")
    body = client.get("/metrics").get_data(as_text=True)
    assert not any(name in body for name in names)
    samples = scrape(client)
    assert (
        value(samples, "receiver_notifications_total", vendor="unknown", outcome="unknown_vendor")
        >= 20
    )


def test_metrics_can_require_a_bearer_token(database_url):
    token = "metrics-scrape-token-0123456789"
    app = create_app(make_settings(database_url, metrics_token=token))
    client = app.test_client()
    refused = client.get("/metrics")
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    get_database(app).engine.dispose()


def test_thousands_of_outputs_are_refused_before_they_are_read(client, session):
    payload = json.loads(fixture_bytes("zencoder", "job_finished.json"))
    payload["outputs"] = [{}] * 250_000  # 1 MiB: loaded one by one, it took 8.8 s
    response = post(client, "zencoder", json.dumps(payload).encode())
    assert response.status_code == 422
    assert response.json["errors"] == {"outputs": ["at most 1000 items, not 250000"]}


def test_field_errors_are_capped_in_the_answer_and_in_storage(client, session):
    payload = json.loads(fixture_bytes("zencoder", "job_finished.json"))
    payload["outputs"] = [{"bogus": n} for n in range(300)]  # each lacks id and state
    response = post(client, "zencoder", json.dumps(payload).encode())
    assert response.status_code == 422
    errors = response.json["errors"]
    kept = sum(len(field) for output in errors["outputs"].values() for field in output.values())
    assert kept == 100 and errors["_truncated"] == ["and 500 more field errors"]
    assert session.get(Notification, response.json["id"]).errors == errors


def test_repeated_xml_siblings_are_refused_past_the_cap(client):
    outputs = "".join(f"<output><id>{n}</id><state>finished</state></output>" for n in range(5000))
    body = (
        "<?xml version='1.0'?><notification><job><id>1</id><state>finished</state></job>"
        f'<outputs type="array">{outputs}</outputs></notification>'
    ).encode()
    response = post(client, "zencoder", body, content_type="application/xml")
    assert response.status_code == 422
    assert response.json["errors"] == {"outputs": ["at most 1000 items, not 5000"]}


def test_repeated_xml_siblings_become_one_list_in_order():
    from receiver.vendors.zencoder.provider import decode_xml

    siblings = "".join(f"<output><id>{n}</id></output>" for n in range(3))
    decoded = decode_xml(f"<n><job><id>1</id></job>{siblings}<tail>x</tail></n>".encode())
    assert decoded == {
        "job": {"id": "1"},
        "output": [{"id": "0"}, {"id": "1"}, {"id": "2"}],
        "tail": "x",
    }


@pytest.mark.parametrize(
    "header", ["X-Forwarded-Uri", "X-Original-URI", "X-Envoy-Original-Path", "Referer"]
)
def test_a_token_in_a_proxy_header_is_not_stored(client, session, header):
    token = TOKENS["lightflow"]
    response = post(
        client,
        "lightflow",
        fixture_bytes("lightflow", "asset_ready.json"),
        headers={"X-Receiver-Token": token, header: f"/hooks/lightflow?a=1&token={token}&b=2"},
    )
    assert response.status_code == 202
    stored = session.get(Notification, response.json["id"])
    assert token not in json.dumps(stored.headers)
    kept = {name.lower(): value for name, value in stored.headers.items()}
    assert kept[header.lower()] == "/hooks/lightflow?a=1&token=[redacted]&b=2"


def test_an_unreachable_limiter_storage_never_turns_requests_into_500s(database_url):
    pytest.importorskip("redis")
    # Nothing listens on port 1: every count fails, and the requests are still answered.
    password = "limiter-outage-password-0123"
    settings = make_settings(
        database_url, limiter_storage="redis://127.0.0.1:1", admin_password=password
    )
    app = create_app(settings)
    try:
        with rolled_back(app):
            client = app.test_client()
            refused = post(client, "zencoder", b"{}", headers={})
            assert refused.status_code == 401 and "id" in refused.json  # stored, as evidence
            wrong = basic_auth("not-the-password", user="admin")
            assert client.get("/api/failures", headers=wrong).status_code == 401
            right = basic_auth(password, user="admin")
            assert client.get("/api/failures", headers=right).status_code == 200
    finally:
        get_database(app).engine.dispose()
