"""The inputs the fuzz suite found answered with a 5xx, kept as fixed examples: a property run
may or may not draw them again, these always run."""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
from io import BytesIO

import pytest

from tests.conftest import rolled_back
from tests.fuzz.attempts import Attempt
from tests.fuzz.strategies import deep_nesting, dumps
from tests.fuzz.test_hostile_input import exchange
from tests.helpers import FIXTURES, TOKENS
from tests.vendors.agora.kit import agora_signature
from tests.vendors.kvs.kit import kvs_signature
from tests.vendors.sns.kit import CERT_URL, SNS_SIGNER, sns_provider


def fixture(vendor: str, name: str) -> dict:
    return json.loads((FIXTURES / vendor / name).read_bytes())


ALARM_ENVELOPE = fixture("cloudwatch", "alarm_putmedia_success_alarm.json")


def signed_alarm(**changes) -> bytes:
    alarm = {**json.loads(ALARM_ENVELOPE["Message"]), **changes}
    return dumps(SNS_SIGNER.sign({**ALARM_ENVELOPE, "Message": json.dumps(alarm)}))


def sns(body: bytes, authentic: bool = True) -> Attempt:
    return Attempt("/hooks/sns", body, {}, authentic=authentic, how="regression")


@pytest.mark.parametrize("field", ["Type", "TopicArn", "SignatureVersion"])
def test_sns_envelope_field_of_the_wrong_type_is_refused(shared_app, field):
    body = dumps({**SNS_SIGNER.sign(ALARM_ENVELOPE), field: ["a list"]})
    assert exchange(shared_app, "sns", sns(body, authentic=False), {}) in (401, 403)


def test_sns_alarm_message_nested_past_the_parser_is_not_an_alarm(shared_app):
    body = dumps(
        SNS_SIGNER.sign({**ALARM_ENVELOPE, "Message": deep_nesting(100_000, "array").text})
    )
    assert exchange(shared_app, "sns", sns(body), {}) == 202


def test_sns_alarm_after_2088_outranks_nothing_but_is_stored(shared_app):
    # Seconds since 2020 past 2**31: the 32-bit rank column refused it on PostgreSQL.
    assert (
        exchange(shared_app, "sns", sns(signed_alarm(StateChangeTime="2100-01-01T00:00:00Z")), {})
        == 202
    )


def test_sns_certificate_sns_never_published_is_a_forgery_not_an_outage(shared_app):
    forged = {**SNS_SIGNER.sign(ALARM_ENVELOPE), "SigningCertURL": CERT_URL + ".other.pem"}
    assert exchange(shared_app, "sns", sns(dumps(forged), authentic=False), {}) == 401


def test_sns_certificate_host_failing_is_still_503(shared_app, monkeypatch):
    def unavailable(url: str) -> bytes:
        raise urllib.error.HTTPError(url, 503, "Slow Down", None, BytesIO())  # type: ignore[arg-type]

    monkeypatch.setitem(shared_app.extensions["providers"], "sns", sns_provider(unavailable))
    with rolled_back(shared_app):
        response = shared_app.test_client().post("/hooks/sns", data=signed_alarm())
    assert response.status_code == 503  # SNS itself failing: retry later


# A time at the very start or end of the calendar whose offset has no UTC equivalent.
EDGE_TIMES = ["0001-01-01T00:00:00+00:01", "9999-12-31T23:59:59-14:00"]


@pytest.mark.parametrize("when", EDGE_TIMES)
def test_times_without_a_utc_equivalent_are_422_everywhere(shared_app, when):
    lightflow = dumps({**fixture("lightflow", "asset_error_1003.json"), "endDate": when})
    api_error = dumps({**fixture("agora", "api_error_404.json"), "occurredAt": when})
    kvs = dumps({**fixture("kvs", "report_integer_status.json"), "occurredAt": when})
    now = int(time.time())
    attempts = {
        "lightflow": Attempt(
            "/hooks/lightflow", lightflow, {"X-Receiver-Token": TOKENS["lightflow"]}
        ),
        "agora/api-errors": Attempt(
            "/hooks/agora/api-errors",
            api_error,
            {"Agora-Signature-V2": agora_signature(api_error, hashlib.sha256)},
        ),
        "kvs": Attempt(
            "/hooks/kvs",
            kvs,
            {
                "webhook-id": "msg_edge",
                "webhook-timestamp": str(now),
                "webhook-signature": kvs_signature("msg_edge", now, kvs),
            },
        ),
        "sns": sns(signed_alarm(StateChangeTime=when)),
    }
    for endpoint, attempt in attempts.items():
        attempt.authentic = True
        assert exchange(shared_app, endpoint, attempt, {}) == 422, endpoint
