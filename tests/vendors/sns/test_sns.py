"""Amazon SNS: signatures, certificates, topics and subscription confirmation (the CloudWatch
alarm fixtures are the messages it carries here; what an alarm means is in
``tests/vendors/cloudwatch/``)."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from receiver.models import Job, Notification
from receiver.vendors.sns.provider import fetch_from_sns, is_sns_url
from tests.helpers import stored_failures
from tests.vendors.sns.kit import (
    CERT_URL,
    SNS_TOPIC,
    message,
    send,
    send_signed,
    sns_body,
)


def test_duplicate_message_id_is_200(client, session, sns_signer, sns_fetcher):
    msg = message("alarm_putmedia_success_alarm.json")
    first = send_signed(client, sns_signer, msg)
    again = send_signed(client, sns_signer, msg)
    assert again.status_code == 200
    assert again.json == {"status": "duplicate", "id": first.json["id"]}
    assert len(stored_failures(session)) == 1


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
    assert stored_failures(session) == []


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


def test_message_no_vendor_claims_is_kept_without_a_failure(
    client, session, sns_signer, sns_fetcher
):
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
