"""Smaller holes in the signed vendors (issue #17): SNS certificates only from SNS's own hosts
and with SNS's subject, a cache a flood cannot empty, and Agora keys that cannot collide."""

from __future__ import annotations

import json

import pytest

from receiver.models import Notification
from receiver.records import Rejection
from receiver.vendors.sns.provider import is_sns_url
from tests.helpers import FIXTURES
from tests.vendors.agora.kit import agora_headers
from tests.vendors.sns.kit import (
    CERT_URL,
    SNS_TOPIC,
    SnsSigner,
    message,
    send_signed,
    sns_provider,
)


@pytest.mark.parametrize(
    "host",
    [
        "sns.s3.amazonaws.com",
        "sns.s3-us-west-2.amazonaws.com",
        "sns.s3-accelerate.amazonaws.com",
        "sns.s3.dualstack.us-east-1.amazonaws.com",
        "sns.evil.amazonaws.com",
        "sns.us-east-1.amazonaws.com.evil.example",
    ],
)
def test_s3_and_other_hosts_are_not_sns(host):
    assert not is_sns_url(f"https://{host}/SimpleNotificationService-x.pem")


@pytest.mark.parametrize(
    "host",
    [
        "sns.us-east-1.amazonaws.com",
        "sns.eu-west-3.amazonaws.com",
        "sns.ap-southeast-4.amazonaws.com",
        "sns.us-gov-west-1.amazonaws.com",
        "sns.cn-north-1.amazonaws.com.cn",
    ],
)
def test_regional_sns_hosts_are_sns(host):
    assert is_sns_url(f"https://{host}/SimpleNotificationService-x.pem")


def test_a_certificate_that_is_not_sns_s_is_refused(client, sns_fetcher):
    impostor = SnsSigner(common_name="evil.example")
    sns_fetcher.pem = impostor.pem
    response = send_signed(client, impostor, message("alarm_putmedia_success_alarm.json"))
    assert response.status_code == 401
    assert response.json["message"] == "the signing certificate is not SNS's"


class CountingFetcher:
    def __init__(self, pem: bytes) -> None:
        self.pem, self.urls = pem, []

    def __call__(self, url: str) -> bytes:
        self.urls.append(url)
        return self.pem


def test_the_certificate_cache_keeps_what_is_used(sns_signer):
    fetcher = CountingFetcher(sns_signer.pem)
    provider = sns_provider(fetcher)
    provider._public_key(CERT_URL, SNS_TOPIC)
    for n in range(40):  # each from a topic of its own: only the cache is tested here
        other = CERT_URL.replace(".pem", f"-{n}.pem")
        provider._public_key(other, f"topic-{n}")
        provider._public_key(CERT_URL, SNS_TOPIC)  # the genuine one stays in use
    assert fetcher.urls.count(CERT_URL) == 1


def test_one_topic_s_messages_may_cause_only_a_few_certificate_fetches(sns_signer):
    fetcher = CountingFetcher(sns_signer.pem)
    provider = sns_provider(fetcher)
    for n in range(5):
        provider._public_key(CERT_URL.replace(".pem", f"-{n}.pem"), SNS_TOPIC)
    with pytest.raises(Rejection) as refused:
        provider._public_key(CERT_URL.replace(".pem", "-5.pem"), SNS_TOPIC)
    assert (refused.value.status, refused.value.auth) == (503, "unchecked")
    assert len(fetcher.urls) == 5
    provider._public_key(CERT_URL.replace(".pem", "-0.pem"), SNS_TOPIC)  # cached: no fetch


def test_agora_event_and_api_report_keys_cannot_collide(client, session):
    event = json.loads((FIXTURES / "agora" / "transcoder_started_110.json").read_text())
    event["noticeId"] = "api:req-42"
    body = json.dumps(event).encode()
    assert client.post("/hooks/agora", data=body, headers=agora_headers(body)).status_code == 200

    report = json.dumps({"status": 404, "taskId": "t-1", "requestId": "req-42"}).encode()
    response = client.post("/hooks/agora/api-errors", data=report, headers=agora_headers(report))
    assert response.status_code == 200 and response.json["status"] == "accepted"
    assert response.json["failures"] == 1
    keys = {n.dedup_key for n in session.query(Notification)}
    assert keys == {"agora:api:req-42", "agora-api:req-42"}
