"""Amazon SNS: signed CloudWatch alarm notifications and subscription confirmation."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from receiver.models import AlertGroup, Failure, Job, Notification, TriageEvent
from receiver.providers.sns import fetch_from_sns, is_sns_url
from tests.helpers import FIXTURES
from tests.providers.signing import CERT_URL, SNS_TOPIC, sns_body


def message(name: str) -> dict:
    return json.loads((FIXTURES / "sns" / name).read_text())


def send(client, body: bytes, message_type: str = "Notification", message_id: str = "m"):
    # SNS posts JSON as text/plain.
    return client.post(
        "/hooks/sns",
        data=body,
        headers={
            "Content-Type": "text/plain; charset=UTF-8",
            "x-amz-sns-message-type": message_type,
            "x-amz-sns-message-id": message_id,
            "x-amz-sns-topic-arn": SNS_TOPIC,
        },
    )


def send_signed(client, signer, msg: dict, version: str = "1"):
    return send(client, sns_body(signer.sign(msg, version)), msg["Type"], msg["MessageId"])


def alarm_message(name: str, **changes) -> dict:
    msg = message(name)
    alarm = json.loads(msg["Message"])
    alarm.update(changes)
    msg["Message"] = json.dumps(alarm)
    return msg


def failures(session) -> list[Failure]:
    return list(
        session.execute(
            select(Failure).order_by(Failure.id).execution_options(populate_existing=True)
        ).scalars()
    )


def alarm_job(session) -> Job:
    return session.execute(select(Job).execution_options(populate_existing=True)).scalar_one()


@pytest.mark.parametrize("version", ["1", "2"])
def test_alarm_is_a_classified_failure(client, session, sns_signer, sns_fetcher, version):
    response = send_signed(
        client, sns_signer, message("alarm_putmedia_success_alarm.json"), version
    )
    assert response.status_code == 202 and response.json["failures"] == 1
    [failure] = failures(session)
    assert (failure.vendor, failure.code, failure.category, failure.status) == (
        "cloudwatch",
        "PutMedia.Success",
        "stream",
        "open",
    )
    assert failure.details["dimensions"] == {"StreamName": "front-door-cam"}
    assert failure.message.startswith("Threshold Crossed")
    assert session.get(Notification, response.json["id"]).vendor == "sns"
    job = alarm_job(session)
    assert (job.kind, job.state) == ("alarm", "ALARM")
    assert job.external_id.startswith("arn:aws:cloudwatch:")


def test_ok_resolves_the_alarms_open_failures(client, session, sns_signer, sns_fetcher):
    send_signed(client, sns_signer, message("alarm_putmedia_success_alarm.json"))
    response = send_signed(client, sns_signer, message("alarm_putmedia_success_ok.json"), "2")
    assert response.status_code == 202 and response.json["failures"] == 0
    [failure] = failures(session)
    assert failure.status == "resolved"
    assert alarm_job(session).state == "OK"


def test_ok_resolves_the_alarms_group_too_as_the_receiver(client, session, sns_signer, sns_fetcher):
    send_signed(client, sns_signer, message("alarm_putmedia_success_alarm.json"))
    [group] = session.scalars(select(AlertGroup)).all()
    assert group.state == "pending"  # grouped though no channel is configured here
    send_signed(client, sns_signer, message("alarm_putmedia_success_ok.json"))
    session.refresh(group)
    assert (group.state, group.resolved_by) == ("resolved", None)
    events = session.scalars(select(TriageEvent).order_by(TriageEvent.id)).all()
    assert [(e.actor, e.action, bool(e.failure_id), bool(e.group_id)) for e in events] == [
        ("receiver", "resolve", True, False),  # the failure, because the vendor said so
        ("receiver", "resolve", False, True),  # its group, because that was its last one
    ]
    assert events[0].note.startswith("the vendor reported it back to normal at 2024-06-10 06:45")
    assert events[1].cause_id == events[0].id


def test_late_ok_does_not_resolve_a_newer_alarm(client, session, sns_signer, sns_fetcher):
    newer = alarm_message(
        "alarm_putmedia_success_alarm.json", StateChangeTime="2024-06-10T07:00:00.000+0000"
    )
    send_signed(client, sns_signer, newer)
    send_signed(client, sns_signer, message("alarm_putmedia_success_ok.json"))  # 06:45
    [failure] = failures(session)
    assert failure.status == "open"
    assert alarm_job(session).state == "ALARM"


def test_duplicate_message_id_is_200(client, session, sns_signer, sns_fetcher):
    msg = message("alarm_putmedia_success_alarm.json")
    first = send_signed(client, sns_signer, msg)
    again = send_signed(client, sns_signer, msg)
    assert again.status_code == 200
    assert again.json == {"status": "duplicate", "id": first.json["id"]}
    assert len(failures(session)) == 1


def test_certificate_is_fetched_once(client, sns_signer, sns_fetcher):
    send_signed(client, sns_signer, message("alarm_putmedia_success_alarm.json"))
    send_signed(client, sns_signer, message("alarm_putmedia_success_ok.json"))
    assert sns_fetcher.urls == [CERT_URL]


@pytest.mark.parametrize(
    "forge",
    [
        lambda m: {**m, "Signature": "AAAA" + m["Signature"][4:]},
        lambda m: {**m, "Message": m["Message"].replace("ALARM", "OK")},
        lambda m: {**m, "Subject": "something else"},
        lambda m: {k: v for k, v in m.items() if k != "Signature"},
        lambda m: {**m, "Signature": "not base64!"},
        lambda m: {**m, "SignatureVersion": "3"},
        lambda m: {**m, "SignatureVersion": "2"},  # signed as SHA1, claimed SHA256
    ],
)
def test_forged_or_missing_signature_is_401_and_kept(
    client, session, sns_signer, sns_fetcher, forge
):
    signed = sns_signer.sign(message("alarm_putmedia_success_alarm.json"))
    response = send(client, sns_body(forge(signed)))
    assert response.status_code == 401
    stored = session.get(Notification, response.json["id"])
    assert (stored.status, stored.auth) == ("rejected", "failed")
    assert failures(session) == []


@pytest.mark.parametrize(
    "url",
    [
        "http://sns.eu-west-1.amazonaws.com/cert.pem",
        "https://sns.eu-west-1.amazonaws.com.evil.example/cert.pem",
        "https://evil.example/sns.eu-west-1.amazonaws.com/cert.pem",
        "https://sns.eu-west-1.amazonaws.com@evil.example/cert.pem",
        "https://user@sns.eu-west-1.amazonaws.com/cert.pem",
        "https://sns.eu-west-1.amazonaws.com:8443/cert.pem",
        "https://s3.amazonaws.com/cert.pem",
        "https://sns.amazonaws.com/cert.pem",
        "file:///etc/passwd",
        "",
    ],
)
def test_certificate_only_from_sns_hosts(client, sns_signer, sns_fetcher, url):
    assert not is_sns_url(url)
    signed = sns_signer.sign(message("alarm_putmedia_success_alarm.json"))
    response = send(client, sns_body({**signed, "SigningCertURL": url}))
    assert response.status_code == 401
    assert sns_fetcher.urls == []  # refused before any fetch
    with pytest.raises(ValueError):
        fetch_from_sns(url)  # the production fetcher refuses it too, without network


@pytest.mark.parametrize(
    "url",
    [
        "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem",
        "https://sns.us-gov-west-1.amazonaws.com:443/SimpleNotificationService-abc.pem",
    ],
)
def test_sns_hosts_are_trusted(url):
    assert is_sns_url(url)


def test_topic_not_allowed_is_403(client, session, sns_signer, sns_fetcher):
    msg = {**message("alarm_putmedia_success_alarm.json"), "TopicArn": SNS_TOPIC + "-other"}
    response = send_signed(client, sns_signer, msg)
    assert response.status_code == 403
    assert sns_fetcher.urls == []
    assert session.get(Notification, response.json["id"]).status == "rejected"


def test_malformed_body_is_400_and_kept(client, session, sns_fetcher):
    response = send(client, b"{not json")
    assert response.status_code == 400
    assert session.get(Notification, response.json["id"]).status == "rejected"


def test_invalid_alarm_is_422_and_kept(client, session, sns_signer, sns_fetcher):
    msg = alarm_message("alarm_putmedia_success_alarm.json", NewStateValue="ON_FIRE")
    response = send_signed(client, sns_signer, msg)
    assert response.status_code == 422
    assert "NewStateValue" in response.json["errors"]["Message"]
    stored = session.get(Notification, response.json["id"])
    assert (stored.status, stored.auth) == ("rejected", "passed")


def test_plain_notification_is_kept_without_a_failure(client, session, sns_signer, sns_fetcher):
    msg = {**message("alarm_putmedia_success_alarm.json"), "Message": "hello from the console"}
    response = send_signed(client, sns_signer, msg)
    assert response.status_code == 202 and response.json["failures"] == 0
    assert session.execute(select(Job)).first() is None


# --- subscription confirmation ----------------------------------------------------------------


def confirmation(base_url: str) -> dict:
    msg = message("subscription_confirmation.json")
    query = msg["SubscribeURL"].split("?", 1)[1]
    return {**msg, "SubscribeURL": f"{base_url}/?{query}"}


def test_subscription_is_confirmed_by_fetching_subscribe_url(
    client, session, sns_signer, sns_fetcher, subscribe_server
):
    base_url, hits = subscribe_server
    response = send_signed(client, sns_signer, confirmation(base_url), "2")
    assert response.status_code == 202
    [path] = hits
    assert "Action=ConfirmSubscription" in path and "Token=2336412f" in path
    assert session.get(Notification, response.json["id"]).status == "stored"


def test_subscription_to_another_topic_is_not_confirmed(
    client, sns_signer, sns_fetcher, subscribe_server
):
    base_url, hits = subscribe_server
    msg = {**confirmation(base_url), "TopicArn": "arn:aws:sns:eu-west-1:999999999999:theirs"}
    assert send_signed(client, sns_signer, msg).status_code == 403
    assert hits == []


def test_forged_subscription_is_not_confirmed(client, sns_signer, sns_fetcher, subscribe_server):
    base_url, hits = subscribe_server
    signed = sns_signer.sign(confirmation(base_url))
    forged = {**signed, "SubscribeURL": signed["SubscribeURL"] + "&extra=1"}
    assert send(client, sns_body(forged), "SubscriptionConfirmation").status_code == 401
    assert hits == []


def test_failed_confirmation_is_503_and_kept_for_replay(client, session, sns_signer, sns_fetcher):
    # Nothing listens on the port of a server that was just closed.
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()
    response = send_signed(client, sns_signer, confirmation(f"http://127.0.0.1:{port}"))
    assert response.status_code == 503
    assert session.get(Notification, response.json["id"]).status == "rejected"
