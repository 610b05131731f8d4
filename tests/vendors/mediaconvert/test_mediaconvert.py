"""MediaConvert job state changes by both ways in: an EventBridge API destination to
``/hooks/mediaconvert`` and an EventBridge rule's SNS topic to ``/hooks/sns``. The same event
is the same job, failures and dedup key either way; states move forward only by the event's
time; ERROR is a failure, warnings are failures of severity ``warning``."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from sqlalchemy import select

from receiver.models import Failure, Job, Notification
from tests.helpers import FIXTURES, stored_failures
from tests.vendors.mediaconvert.kit import TOKEN
from tests.vendors.sns.kit import message, send_signed
from tests.vendors.test_golden import describe

SNS_FIXTURE = "sns_error_1010.json"
TOKEN_HEADER = {"X-Receiver-Token": TOKEN}


def event(name: str, **detail: Any) -> dict[str, Any]:
    """A fixture's event, with ``detail`` fields changed."""
    loaded = json.loads((FIXTURES / "mediaconvert" / name).read_text())
    return {**loaded, "detail": {**loaded["detail"], **detail}}


def carried_event() -> dict[str, Any]:
    """The event the SNS fixture carries."""
    return json.loads(message(SNS_FIXTURE)["Message"])


def post_event(client, body: dict[str, Any], headers: dict[str, str] | None = None):
    return client.post(
        "/hooks/mediaconvert",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json; charset=utf-8", **(headers or TOKEN_HEADER)},
    )


def via_sns(client, sns_signer, body: dict[str, Any], message_id: str = "m-1"):
    envelope = {**message(SNS_FIXTURE), "Message": json.dumps(body), "MessageId": message_id}
    return send_signed(client, sns_signer, envelope, "2")


def the_job(session, job_id: str) -> Job:
    statement = select(Job).where(Job.vendor == "mediaconvert", Job.external_id == job_id)
    return session.execute(statement.execution_options(populate_existing=True)).scalar_one()


# --- both paths ---------------------------------------------------------------------------------


def test_the_api_destination_stores_what_the_sns_path_stores(client, session):
    """Path 1 against the SNS fixture's golden file (written by path 2): the same jobs and
    failures, and the same dedup key."""
    response = post_event(client, carried_event())
    assert response.status_code == 202, response.json
    observed = describe(session, "mediaconvert", response.status_code, response.json)
    via_sns_golden = json.loads(
        (FIXTURES / "mediaconvert" / "sns_error_1010.expected.json").read_text()
    )
    assert observed["jobs"] == via_sns_golden["jobs"]
    assert observed["failures"] == via_sns_golden["failures"]
    assert observed["notification"]["dedup_key"] == via_sns_golden["notification"]["dedup_key"]
    assert observed["notification"]["vendor"] == "mediaconvert"


@pytest.mark.parametrize("first", ["api-destination", "sns"])
def test_one_event_by_both_paths_is_stored_once(client, session, sns_signer, sns_fetcher, first):
    sends = {
        "api-destination": lambda: post_event(client, carried_event()),
        "sns": lambda: via_sns(client, sns_signer, carried_event()),
    }
    second = next(path for path in sends if path != first)
    assert sends[first]().status_code == 202
    repeat = sends[second]()
    assert (repeat.status_code, repeat.json["status"]) == (200, "duplicate")
    [failure] = stored_failures(session)
    assert (failure.vendor, failure.code, failure.category) == ("mediaconvert", "1010", "input")
    stored = session.scalars(select(Notification).where(Notification.status == "stored")).all()
    assert len(stored) == 1


def test_the_sns_path_keeps_the_carriers_notification_and_the_vendors_job(
    client, session, sns_signer, sns_fetcher
):
    response = via_sns(client, sns_signer, carried_event())
    assert response.status_code == 202 and response.json["failures"] == 1
    assert session.get(Notification, response.json["id"]).vendor == "sns"
    job = the_job(session, "1718007331050-a1b2c3")
    assert job.attributes["user_metadata"] == {"order": "order-7731", "asset": "trailer-42"}
    assert (job.attributes["region"], job.state) == ("eu-west-1", "ERROR")


def test_an_invalid_mediaconvert_event_via_sns_is_422_and_kept(
    client, session, sns_signer, sns_fetcher
):
    response = via_sns(client, sns_signer, event("progressing.json", timestamp="yesterday"))
    assert response.status_code == 422
    assert "timestamp" in response.json["errors"]["Message"]["detail"]
    assert session.get(Notification, response.json["id"]).status == "rejected"
    assert session.scalars(select(Job)).all() == []


def test_another_services_event_via_sns_is_not_claimed(client, session, sns_signer, sns_fetcher):
    other = {**carried_event(), "source": "aws.s3", "detail-type": "Object Created"}
    response = via_sns(client, sns_signer, other)
    assert response.status_code == 202 and response.json["failures"] == 0
    assert session.scalars(select(Job)).all() == []


# --- authentication ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        TOKEN_HEADER,  # the connection's API-key header
        {"Authorization": "Basic " + base64.b64encode(f"eventbridge:{TOKEN}".encode()).decode()},
    ],
    ids=["api-key-header", "basic-auth"],
)
def test_eventbridge_connections_authenticate(client, session, headers):
    response = post_event(client, event("error_1040_aws_example.json"), headers)
    assert response.status_code == 202
    assert [f.code for f in stored_failures(session)] == ["1040"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Receiver-Token": TOKEN + "x"}, {"X-Receiver-Token": "zencoder-test-token-0123456789"}],
    ids=["none", "wrong", "another-vendors"],
)
def test_without_the_token_nothing_becomes_a_job_or_failure(client, session, headers):
    response = client.post(
        "/hooks/mediaconvert",
        data=(FIXTURES / "mediaconvert" / "error_1040_aws_example.json").read_bytes(),
        headers={"Content-Type": "application/json", **headers},
    )
    assert response.status_code == 401
    assert session.scalars(select(Job)).all() == [] and stored_failures(session) == []


def test_an_event_of_another_service_is_422(client, session):
    response = post_event(client, {**carried_event(), "source": "aws.s3"})
    assert response.status_code == 422
    assert "source" in response.json["errors"]


@pytest.mark.parametrize(
    "detail",
    [
        {"timestamp": -1},
        {"timestamp": 1e30},
        {"timestamp": True},
        {"jobId": ""},
        {"status": ""},
        {"status": "X" * 65},
        {"errorCode": "12ab"},
        {"errorCode": 2**40},
        {"userMetadata": {f"k{n}": "v" for n in range(101)}},
        {"userMetadata": {"k": "nul\x00"}},
        {"warnings": [{"code": "x", "count": 1}]},
    ],
    ids=lambda detail: next(iter(detail)),
)
def test_what_cannot_be_stored_is_a_field_error(client, session, detail):
    response = post_event(client, event("error_1040_aws_example.json", **detail))
    assert response.status_code == 422, response.json
    assert next(iter(detail)) in response.json["errors"]["detail"]


# --- states and failures ------------------------------------------------------------------------


def test_a_late_progressing_never_undoes_complete(client, session):
    assert post_event(client, event("complete_with_warning.json")).status_code == 202
    late = event("input_information.json")  # 49 ms before COMPLETE, delivered after it
    assert post_event(client, late).status_code == 202
    later_still = {**event("progressing.json", jobId="1671476818694-phptj0"), "id": "late-2"}
    later_still["detail"]["timestamp"] += 10**8  # even one timed a day after it
    assert post_event(client, later_still).status_code == 202
    job = the_job(session, "1671476818694-phptj0")
    assert (job.state, job.attributes["last_event"]) == ("COMPLETE", "COMPLETE")


def test_a_status_update_after_error_leaves_the_job_in_error(client, session):
    post_event(client, event("error_1040_aws_example.json"))
    update = {**event("status_update.json", jobId="1515368087458-qnoxtd"), "id": "after-error"}
    assert post_event(client, update).status_code == 202
    assert the_job(session, "1515368087458-qnoxtd").state == "ERROR"


def test_non_final_events_move_forward_by_their_time(client, session):
    post_event(client, event("status_update.json"))  # 19:21:21
    post_event(client, event("progressing.json"))  # 19:20:21, delivered late
    job = the_job(session, "1671477617078-2886ye")
    assert (job.state, job.attributes["last_event"]) == ("PROGRESSING", "STATUS_UPDATE")
    assert job.attributes["percent_complete"] == 7


def test_a_resent_event_is_a_duplicate(client, session):
    assert post_event(client, event("error_1040_aws_example.json")).status_code == 202
    again = post_event(client, event("error_1040_aws_example.json"))
    assert (again.status_code, again.json["status"]) == (200, "duplicate")
    assert len(stored_failures(session)) == 1


def test_error_is_a_failure_coded_by_its_error_code(client, session):
    post_event(client, event("error_1040_aws_example.json"))
    [failure] = stored_failures(session)
    assert (failure.code, failure.code_name, failure.category, failure.severity) == (
        "1040",
        "Settings Error",
        "configuration",
        "error",
    )
    assert failure.message == "Example error message"


def test_warnings_are_failures_of_severity_warning_once_per_code_and_job(client, session):
    warned = event("new_warning_270000.json", jobId="1671476818694-phptj0", warningCode="230004")
    assert post_event(client, warned).json["failures"] == 1
    # COMPLETE counts the same warning: the failure is known, not a second one.
    assert post_event(client, event("complete_with_warning.json")).json["failures"] == 0
    [failure] = stored_failures(session)
    assert (failure.code, failure.severity, failure.category) == ("230004", "warning", "input")


def test_a_complete_event_records_each_warning_it_counts(client, session):
    counted = event("complete_with_warning.json", warnings=[
        {"code": 230004, "count": 1}, {"code": 270000, "count": 12}, {"code": "270000", "count": 1}
    ])  # fmt: skip
    assert post_event(client, counted).json["failures"] == 2
    failures = {f.code: f for f in stored_failures(session)}
    assert set(failures) == {"230004", "270000"}
    assert {f.severity for f in failures.values()} == {"warning"}
    assert failures["270000"].message == ("occurred 12 times in the job (COMPLETE's count)")


@pytest.mark.parametrize(
    ("field", "code", "severity"),
    [
        ("errorCode", 1888, "error"),
        ("errorCode", 3777, "error"),
        ("warningCode", "555555", "warning"),
    ],
)
def test_unlisted_codes_are_stored_as_unknown_in_their_range(
    client, session, field, code, severity
):
    name = "error_1040_aws_example.json" if field == "errorCode" else "new_warning_270000.json"
    assert post_event(client, event(name, **{field: code})).status_code == 202
    [failure] = stored_failures(session)
    assert (failure.code, failure.category, failure.severity) == (str(code), "unknown", severity)


def test_an_error_without_a_code_is_still_a_failure(client, session):
    body = event("error_1040_aws_example.json")
    del body["detail"]["errorCode"]
    assert post_event(client, body).status_code == 202
    [failure] = session.scalars(select(Failure)).all()
    assert (failure.code, failure.category) == ("ERROR", "unknown")


def test_queue_hop_keeps_both_queues(client, session):
    post_event(client, event("queue_hop.json"))
    job = the_job(session, "1515368087458-h0pp3d")
    assert job.state == "SUBMITTED"
    assert job.attributes["previous_queue"].endswith(":queues/Alternate")
