"""KVS producer error reports signed with Standard Webhooks."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select

from receiver.models import Failure, Job, Notification
from tests.helpers import FIXTURES
from tests.vendors.kvs.kit import kvs_headers


def fixture(name: str) -> bytes:
    return (FIXTURES / "kvs" / name).read_bytes()


def send(client, body: bytes, **signing):
    return client.post("/hooks/kvs", data=body, headers=kvs_headers(body, **signing))


def failures(session) -> list[Failure]:
    return list(session.execute(select(Failure).order_by(Failure.id)).scalars())


def test_report_with_hex_status_is_stored_and_classified(client, session):
    response = send(client, fixture("report_ack_stream_read_error.json"))
    assert response.status_code == 202 and response.json["failures"] == 1
    [failure] = failures(session)
    assert (failure.vendor, failure.code, failure.code_name, failure.category) == (
        "kvs",
        "0x5200005c",
        "STATUS_ACK_ERR_STREAM_READ_ERROR",
        "stream",
    )
    assert failure.details["device_id"] == "cam-0042"
    assert failure.message == "ACK error: stream read error"
    job = session.execute(select(Job)).scalar_one()
    assert (job.vendor, job.kind, job.external_id, job.state) == (
        "kvs",
        "stream",
        "front-door-cam",
        "error",
    )
    assert job.attributes["stream_arn"].startswith("arn:aws:kinesisvideo:")


def test_integer_status_is_normalized_to_the_catalog_spelling(client, session):
    send(client, fixture("report_integer_status.json"))
    [failure] = failures(session)
    assert (failure.code, failure.category) == ("0x52000010", "credentials")
    assert failure.details["status"] == 1375731728


def test_batch_of_buffered_reports(client, session):
    response = send(client, fixture("batch_after_offline.json"))
    assert response.status_code == 202 and response.json["failures"] == 3
    assert [f.code for f in failures(session)] == ["0x16000001", "0x52000037", "0x0000000f"]
    assert {f.category for f in failures(session)} == {"network"}
    assert len(session.execute(select(Job)).scalars().all()) == 1


def test_success_status_is_not_a_failure(client, session):
    report = json.loads(fixture("report_integer_status.json"))
    report["status"] = 0
    response = send(client, json.dumps(report).encode())
    assert response.status_code == 202 and response.json["failures"] == 0


def test_duplicate_webhook_id_is_200(client, session):
    body = fixture("report_ack_stream_read_error.json")
    first = send(client, body, webhook_id="msg_dup")
    again = send(client, body, webhook_id="msg_dup")
    assert again.status_code == 200
    assert again.json == {"status": "duplicate", "id": first.json["id"]}


def test_same_errored_fragment_reported_twice_is_one_failure(client, session):
    body = fixture("report_ack_stream_read_error.json")
    send(client, body, webhook_id="msg_a")
    assert send(client, body, webhook_id="msg_b").json["failures"] == 0
    assert len(failures(session)) == 1


@pytest.mark.parametrize("age_seconds", [6 * 60, -6 * 60])
def test_replayed_or_future_timestamp_is_401(client, session, age_seconds):
    body = fixture("report_ack_stream_read_error.json")
    response = send(client, body, at=time.time() - age_seconds)
    assert response.status_code == 401
    assert "timestamp" in response.json["message"]
    assert failures(session) == []


def test_timestamp_within_tolerance_is_accepted(client):
    body = fixture("report_ack_stream_read_error.json")
    assert send(client, body, at=time.time() - 4 * 60).status_code == 202


@pytest.mark.parametrize(
    "change",
    [
        lambda h: {k: v for k, v in h.items() if k != "webhook-signature"},
        lambda h: {k: v for k, v in h.items() if k != "webhook-id"},
        lambda h: {**h, "webhook-signature": "v1,AAAA"},
        lambda h: {**h, "webhook-signature": "garbage"},
        lambda h: {**h, "webhook-timestamp": "soon"},
        lambda h: {**h, "webhook-id": "msg_other"},  # the id is signed too
    ],
)
def test_forged_or_missing_signature_is_401_and_kept(client, session, change):
    body = fixture("report_ack_stream_read_error.json")
    headers = change(kvs_headers(body))
    response = client.post("/hooks/kvs", data=body, headers=headers)
    assert response.status_code == 401
    stored = session.get(Notification, response.json["id"])
    assert (stored.status, stored.auth) == ("rejected", "failed")


def test_other_secret_is_401(client):
    body = fixture("report_ack_stream_read_error.json")
    other = "whsec_" + "b3RoZXItc2VjcmV0LW9mLTMyLWJ5dGVzLi4uLi4uLi4="
    assert send(client, body, secret=other).status_code == 401


@pytest.mark.parametrize(
    "body,status",
    [
        (b'{"streamName": "cam"', 400),
        (b'{"streamName": "cam\xff"}', 400),  # signed byte for byte: authentic, not UTF-8
        (b"[]", 422),
        (b'"just a string"', 422),
        (b'[{"streamName": "cam", "status": "0x5200005c"}, 7]', 422),
        (json.dumps({"streamName": "cam", "status": "hello"}).encode(), 422),
        (json.dumps({"streamName": "cam", "status": True}).encode(), 422),
        (json.dumps({"streamName": "cam", "status": 2**70}).encode(), 422),
        (json.dumps({"status": "0x5200005c"}).encode(), 422),
    ],
)
def test_malformed_reports_are_kept_as_rejected(client, session, body, status):
    response = send(client, body)
    assert response.status_code == status
    stored = session.get(Notification, response.json["id"])
    assert (stored.status, stored.auth, stored.body) == ("rejected", "passed", body)


def test_batch_error_names_the_report(client):
    reports = json.loads(fixture("batch_after_offline.json"))
    reports[1]["status"] = "zz"
    response = send(client, json.dumps(reports).encode())
    assert response.status_code == 422
    assert "status" in response.json["errors"]["1"]
