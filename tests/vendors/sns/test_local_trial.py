"""SNS in a local trial: the stand-in's key signs, and only ``receiver run`` on a loopback
address trusts it (``receiver/vendors/sns/local.py``). The whole path runs: signature,
certificate checks, topic, subscription confirmation, the CloudWatch alarm it carries."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from receiver import create_app
from receiver.db import get_database, get_session
from receiver.models import Notification
from receiver.settings import SettingsError
from receiver.vendors import BY_NAME, Start
from receiver.vendors.sns import EXAMPLE_TOPIC
from receiver.vendors.sns.local import CERTIFICATE_URL, new_key
from tests.conftest import make_settings, rolled_back
from tests.helpers import stored_failures
from tests.vendors.kits import endpoint_fixtures

LOCAL_KEY = new_key()
TRIAL_SETTINGS = {
    "RECEIVER_SNS_TOPIC_ARNS": EXAMPLE_TOPIC,
    "RECEIVER_SNS_LOCAL_SIGNING_KEY": LOCAL_KEY,
}


def fixture(name: str) -> bytes:
    return next(p for p in endpoint_fixtures("sns") if p.name == name).read_bytes()


@pytest.fixture
def app_started_as(database_url) -> Iterator[Callable[..., Flask]]:
    """``app_started_as(start, settings)``: the app as that start builds it."""
    built: list[Flask] = []

    def build(start: Start, settings: dict[str, str] = TRIAL_SETTINGS) -> Flask:
        app = create_app(make_settings(database_url, settings), start=start)
        app.config["TESTING"] = True
        built.append(app)
        return app

    yield build
    for app in built:
        get_database(app).engine.dispose()


def post_signed(sender: Flask, receiver: Flask, name: str):
    """``name`` signed as ``sender``'s settings sign it, posted to ``receiver``."""
    body, headers = sender.extensions["providers"]["sns"].sender_request(fixture(name))
    return receiver.test_client().post("/hooks/sns", data=body, headers=headers)


def test_a_local_trial_confirms_the_subscription_and_takes_the_alarm(app_started_as, caplog):
    trial = app_started_as(Start.LOCAL_TRIAL)
    caplog.set_level(logging.INFO, logger="receiver.vendors.sns")
    with rolled_back(trial):
        confirmed = post_signed(trial, trial, "subscription_confirmation.json")
        alarm = post_signed(trial, trial, "alarm_putmedia_success_alarm.json")
        with trial.app_context():
            session = get_session()
            assert session.get(Notification, confirmed.json["id"]).auth == "passed"
            [failure] = stored_failures(session)
    assert confirmed.status_code == 202, confirmed.json
    assert "local SNS stand-in answered https://sns.local-trial.invalid/" in caplog.text
    assert f"confirmed the SNS subscription to {EXAMPLE_TOPIC}" in caplog.text
    assert alarm.status_code == 202 and alarm.json["failures"] == 1
    assert (failure.vendor, failure.code) == ("cloudwatch", "PutMedia.Success")


def test_the_alarms_ok_sent_after_it_resolves_it(app_started_as):
    """The README's SNS trial: ALARM, then OK a few seconds later (a command takes more than
    one), each sent as if it happened then."""
    trial = app_started_as(Start.LOCAL_TRIAL)
    dates = BY_NAME["cloudwatch"].fixture_dates
    now = datetime.now(UTC)
    with rolled_back(trial), trial.app_context():
        for name, sent in (
            ("alarm_putmedia_success_alarm.json", now),
            ("alarm_putmedia_success_ok.json", now + timedelta(seconds=2)),
        ):
            moved = dates.moved(fixture(name), sent)
            body, headers = trial.extensions["providers"]["sns"].sender_request(moved)
            answer = trial.test_client().post("/hooks/sns", data=body, headers=headers)
            assert answer.status_code == 202, answer.json
        [failure] = stored_failures(get_session())
        assert failure.status == "resolved"


@pytest.mark.parametrize(
    "settings", [TRIAL_SETTINGS, {"RECEIVER_SNS_LOCAL_SIGNING_KEY": LOCAL_KEY}]
)
def test_a_server_start_with_the_local_key_refuses_to_start(app_started_as, settings):
    """gunicorn ``wsgi:app`` and ``receiver run`` on a public address (the subprocess runs of
    both: ``tests/test_serve.py``), with SNS enabled or not."""
    with pytest.raises(SettingsError) as refused:
        app_started_as(Start.SERVER, settings)
    message = str(refused.value)
    assert message.startswith("RECEIVER_SNS_LOCAL_SIGNING_KEY is set, but only `receiver run`")
    assert "\n" not in message and LOCAL_KEY not in message


@pytest.mark.parametrize("start", [Start.COMMAND, Start.SERVER])
def test_nothing_but_a_local_trial_trusts_the_stand_in(app_started_as, start):
    """Another command (a worker, a CLI replay) signs but does not trust; a server without the
    key refuses the stand-in's certificate URL without fetching it."""
    trial = app_started_as(Start.LOCAL_TRIAL)
    receiving = app_started_as(
        start,
        TRIAL_SETTINGS if start is Start.COMMAND else {"RECEIVER_SNS_TOPIC_ARNS": EXAMPLE_TOPIC},
    )
    with rolled_back(receiving):
        refused = post_signed(trial, receiving, "alarm_putmedia_success_alarm.json")
        with receiving.app_context():
            assert stored_failures(get_session()) == []
    assert refused.status_code == 401
    assert refused.json["message"] == (
        "SigningCertURL is not an https://sns.<region>.amazonaws.com URL"
    )


def test_the_stand_in_signs_as_sns_does(app_started_as):
    body, headers = (
        app_started_as(Start.COMMAND)
        .extensions["providers"]["sns"]
        .sender_request(fixture("subscription_confirmation.json"))
    )
    message = json.loads(body)
    assert message["SigningCertURL"] == CERTIFICATE_URL and message["SignatureVersion"] == "2"
    assert message["SubscribeURL"].startswith(
        "https://sns.local-trial.invalid/?Action=ConfirmSubscription&TopicArn="
    )
    assert headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert headers["Content-Type"].startswith("text/plain")


def test_without_the_key_send_test_says_how_to_try_sns(app_started_as):
    app = app_started_as(Start.COMMAND, {"RECEIVER_SNS_TOPIC_ARNS": EXAMPLE_TOPIC})
    with pytest.raises(NotImplementedError, match="RECEIVER_SNS_LOCAL_SIGNING_KEY"):
        app.extensions["providers"]["sns"].sender_request(fixture("subscription_confirmation.json"))
