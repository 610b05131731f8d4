"""Agora: NCS Cloud Transcoding events and client-reported REST API failures."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from receiver.models import Failure, Job, Notification
from receiver.replay import replay
from tests.helpers import FIXTURES
from tests.vendors.agora.kit import agora_headers

TASK = "6c8e1f9a2b3d4e5f"


def fixture(name: str) -> bytes:
    return (FIXTURES / "agora" / name).read_bytes()


def send(client, body: bytes, path: str = "/hooks/agora", **signing):
    return client.post(path, data=body, headers=agora_headers(body, **signing))


def task(session, external_id: str = TASK) -> Job:
    return session.execute(
        select(Job)
        .where(Job.vendor == "agora", Job.external_id == external_id)
        .execution_options(populate_existing=True)  # the app changed it since we last looked
    ).scalar_one()


def failures(session) -> list[Failure]:
    return list(session.execute(select(Failure).order_by(Failure.id)).scalars())


def test_started_event_records_the_task_with_a_200(client, session):
    response = send(client, fixture("transcoder_started_110.json"))
    assert response.status_code == 200  # Agora insists on 200 with a JSON body
    assert response.json["status"] == "accepted"
    job = task(session)
    assert (job.kind, job.state, job.state_rank) == ("task", "started", 1)
    assert job.attributes["instance_id"] == "live-show-42"
    assert failures(session) == []


def test_failure_stop_state_is_a_classified_failure(client, session):
    response = send(client, fixture("transcoder_status_failure_stop_112.json"))
    assert response.status_code == 200 and response.json["failures"] == 1
    [failure] = failures(session)
    assert (failure.vendor, failure.code, failure.category) == ("agora", "FAILURE_STOP", "internal")
    assert failure.retryable == "yes" and failure.status == "open"
    assert task(session).state == "FAILURE_STOP"
    assert session.get(Notification, response.json["id"]).vendor == "agora"


def test_normal_states_and_stop_reasons_are_not_failures(client, session):
    for name in ("transcoder_status_running_112.json", "transcoder_stopped_request_111.json"):
        assert send(client, fixture(name)).json["failures"] == 0
    assert failures(session) == []
    assert task(session).state == "running"
    assert task(session, "7d9f2a0b3c4e5f60").attributes["stop_reason"] == "Stop request"


def test_unlisted_stop_reason_is_an_unclassified_failure(client, session):
    send(client, fixture("transcoder_stopped_unlisted_reason_111.json"))
    [failure] = failures(session)
    assert (failure.code, failure.category) == ("Input stream lost", "unknown")
    assert task(session).state == "stopped"


def test_out_of_order_sequence_never_moves_the_task_back(client, session):
    send(client, fixture("transcoder_status_failure_stop_112.json"))  # sequence 4
    for late in ("transcoder_status_running_112.json", "transcoder_started_110.json"):
        assert send(client, fixture(late)).status_code == 200  # sequences 2, 1
    job = task(session)
    assert (job.state, job.state_rank) == ("FAILURE_STOP", 4)
    send(client, fixture("transcoder_stopped_unlisted_reason_111.json"))  # sequence 5
    assert task(session).state == "stopped"


def test_resent_notice_is_a_duplicate(client, session):
    body = fixture("transcoder_status_failure_stop_112.json")
    first = send(client, body)
    again = send(client, body)
    assert again.status_code == 200
    assert again.json == {"status": "duplicate", "id": first.json["id"]}
    assert len(failures(session)) == 1


def test_v1_signature_alone_is_accepted(client):
    assert send(client, fixture("transcoder_started_110.json"), versions=("V1",)).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},  # unsigned
        {"Agora-Signature-V2": "0" * 64},
        {"Agora-Signature": "0" * 40},
        # V2 wins when present: a valid V1 does not rescue a forged V2.
        "forged-v2-valid-v1",
        "other-secret",
    ],
)
def test_forged_or_missing_signature_is_401_and_kept(client, session, headers):
    body = fixture("transcoder_started_110.json")
    if headers == "forged-v2-valid-v1":
        headers = {**agora_headers(body), "Agora-Signature-V2": "ab" * 32}
    elif headers == "other-secret":
        headers = agora_headers(body, secret="another-secret-0123456789")
    response = client.post(
        "/hooks/agora", data=body, headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 401
    stored = session.get(Notification, response.json["id"])
    assert (stored.status, stored.auth) == ("rejected", "failed")
    assert session.execute(select(Job)).first() is None


def test_tampered_body_is_401(client):
    body = fixture("transcoder_started_110.json")
    headers = agora_headers(body)
    response = client.post(
        "/hooks/agora", data=body.replace(b'"sequence": 1', b'"sequence": 9'), headers=headers
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    "body,status",
    [
        (b'{"noticeId": "x", "eventType": 112', 400),
        (b"[]", 422),
        # a transcoder event without the taskId and sequence that identify and order it
        (
            json.dumps({"noticeId": "n1", "eventType": 112, "payload": {"details": {}}}).encode(),
            422,
        ),
        (
            json.dumps(
                {"noticeId": "n2", "eventType": 111, "payload": {"taskId": "t", "sequence": 2**40}}
            ).encode(),
            422,
        ),
    ],
)
def test_malformed_events_are_kept_as_rejected(client, session, body, status):
    response = send(client, body)
    assert response.status_code == status
    stored = session.get(Notification, response.json["id"])
    assert (stored.status, stored.auth, stored.body) == ("rejected", "passed", body)


def test_other_products_events_are_accepted_without_a_task(client, session):
    response = send(client, fixture("other_product_event.json"))
    assert response.status_code == 200
    assert session.execute(select(Job)).first() is None


# --- client-reported REST API failures -------------------------------------------------------


@pytest.mark.parametrize(
    "name,code,category,retryable",
    [
        ("api_error_404.json", "404", "remote_not_found", "backoff"),
        ("api_error_409.json", "409", "configuration", "no"),
        ("api_error_503_without_request_id.json", "503", "remote_unavailable", "backoff"),
    ],
)
def test_api_errors_become_failures_with_the_seed_advice(
    client, session, name, code, category, retryable
):
    response = send(client, fixture(name), path="/hooks/agora/api-errors")
    assert response.status_code == 200 and response.json["failures"] == 1
    [failure] = failures(session)
    assert (failure.vendor, failure.code, failure.category, failure.retryable) == (
        "agora",
        code,
        category,
        retryable,
    )
    notification = session.get(Notification, response.json["id"])
    assert notification.vendor == "agora/api-errors"


def test_api_error_joins_the_ncs_task_without_changing_its_state(client, session):
    send(client, fixture("transcoder_status_running_112.json"))
    send(client, fixture("api_error_404.json"), path="/hooks/agora/api-errors")
    job = task(session)
    assert job.state == "running"
    [failure] = failures(session)
    assert failure.job_id == job.id
    assert failure.details["requestId"] == "b1d3f5a7-9c0e-4f2a-8b6d-1e3f5a7c9b01"


def test_api_error_without_task_is_keyed_by_instance(client, session):
    send(client, fixture("api_error_409.json"), path="/hooks/agora/api-errors")
    assert task(session, "instance:live-show-44").state == "api_error"


def test_api_error_resend_is_a_duplicate_even_without_request_id(client, session):
    body = fixture("api_error_503_without_request_id.json")
    first = send(client, body, path="/hooks/agora/api-errors")
    again = send(client, body, path="/hooks/agora/api-errors")
    assert again.json == {"status": "duplicate", "id": first.json["id"]}
    assert len(failures(session)) == 1


def test_api_error_needs_the_signature(client, session):
    body = fixture("api_error_404.json")
    response = client.post(
        "/hooks/agora/api-errors", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401
    assert failures(session) == []


@pytest.mark.parametrize(
    "report",
    [
        {"status": 404, "message": "no task named"},  # neither taskId nor instanceId
        {"status": 42, "taskId": "t"},
        {"status": "404", "taskId": "t"},
    ],
)
def test_invalid_api_error_reports_are_422_and_kept(client, session, report):
    body = json.dumps(report).encode()
    response = send(client, body, path="/hooks/agora/api-errors")
    assert response.status_code == 422
    assert session.get(Notification, response.json["id"]).status == "rejected"


def test_api_error_replays_through_its_own_endpoint(app, client, session):
    response = send(client, fixture("api_error_404.json"), path="/hooks/agora/api-errors")
    notification = session.get(Notification, response.json["id"])
    with app.test_request_context():
        outcome = replay(session, notification, "tester")
    assert outcome.body == {"status": "replayed", "id": notification.id, "failures": 0}
    assert len(failures(session)) == 1
