"""Replaying signed vendors' notifications: every replay verifies the stored body and signature
headers again with today's secret, certificate and topic list; a failed signature is never
replayed; a KVS report refused only for its timestamp is, with the window waived on record."""

from __future__ import annotations

import json
import time

from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import func, select

from receiver.cli import main
from receiver.models import Failure, Notification, ReplayEvent
from receiver.replay import eligibility, preview, replay
from receiver.vendors import default_catalog
from receiver.vendors.agora.provider import AgoraProvider
from receiver.vendors.kvs.provider import KvsProvider
from tests.helpers import FIXTURES
from tests.vendors.agora.kit import agora_headers
from tests.vendors.kvs.kit import kvs_headers
from tests.vendors.sns.kit import SNS_TOPIC, message, send, send_signed, sns_body, sns_provider
from tests.vendors.sns.test_sns import confirmation

OTHER_KVS_SECRET = "whsec_b3RoZXItc2VjcmV0LW9mLTMyLWJ5dGVzLi4uLi4uLi4="


def failure_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Failure))


def do_replay(app, session, notification_id: int):
    notification = session.get(Notification, notification_id)
    with app.test_request_context():
        return replay(session, notification, "operator")


def last_event(session) -> ReplayEvent:
    return session.scalars(select(ReplayEvent).order_by(ReplayEvent.id.desc())).first()


def kvs_report() -> bytes:
    return (FIXTURES / "kvs" / "report_ack_stream_read_error.json").read_bytes()


def test_agora_replay_verifies_the_stored_signature_with_todays_secret(
    app, client, session, monkeypatch
):
    body = (FIXTURES / "agora" / "transcoder_status_failure_stop_112.json").read_bytes()
    stored = client.post("/hooks/agora", data=body, headers=agora_headers(body)).json["id"]
    assert do_replay(app, session, stored).body["status"] == "replayed"
    assert "verified again" in last_event(session).detail

    monkeypatch.setitem(
        app.extensions["providers"], "agora", AgoraProvider("a-rotated-agora-secret-0123")
    )
    outcome = do_replay(app, session, stored)
    assert outcome.status == 409 and outcome.body["reason"] == "not_verified_again"
    assert last_event(session).outcome == "refused"


def test_agora_post_with_a_bad_signature_is_never_replayed(app, client, session):
    body = (FIXTURES / "agora" / "transcoder_status_failure_stop_112.json").read_bytes()
    headers = {**agora_headers(body), "Agora-Signature-V2": "00" * 32}
    refused = client.post("/hooks/agora", data=body, headers=headers)
    assert refused.status_code == 401
    notification = session.get(Notification, refused.json["id"])
    assert not eligibility(notification, app.extensions["providers"]).allowed
    assert do_replay(app, session, notification.id).body["reason"] == "failed_authentication"
    assert failure_count(session) == 0


def test_kvs_report_refused_only_for_its_timestamp_is_replayed_with_the_window_waived(
    app, client, session
):
    body = kvs_report()
    late = client.post("/hooks/kvs", data=body, headers=kvs_headers(body, at=time.time() - 900))
    assert late.status_code == 401
    notification = session.get(Notification, late.json["id"])
    assert notification.auth == "outside_window"
    assert "the signature itself verifies" in notification.reason

    outcome = do_replay(app, session, notification.id)
    assert outcome.body["status"] == "replayed" and outcome.body["failures"] == 1
    event = last_event(session)
    assert "waived" in event.detail and event.failures_created == 1


def test_kvs_report_with_an_old_timestamp_and_a_bad_signature_is_never_replayed(
    app, client, session
):
    body = kvs_report()
    headers = kvs_headers(body, at=time.time() - 900, secret=OTHER_KVS_SECRET)
    refused = client.post("/hooks/kvs", data=body, headers=headers)
    notification = session.get(Notification, refused.json["id"])
    assert notification.auth == "failed"
    assert do_replay(app, session, notification.id).body["reason"] == "failed_authentication"
    assert failure_count(session) == 0


def test_kvs_replay_judges_the_timestamp_against_receipt_and_today_s_secret(
    app, client, session, monkeypatch
):
    body = kvs_report()
    stored = client.post("/hooks/kvs", data=body, headers=kvs_headers(body)).json["id"]
    notification = session.get(Notification, stored)
    notification.received_at = notification.received_at.replace(year=2025)  # a replay is later
    outcome = do_replay(app, session, stored)
    assert outcome.status == 409 and "not within 5 min of receipt" in outcome.body["message"]

    notification.received_at = notification.received_at.replace(year=time.gmtime().tm_year)
    assert do_replay(app, session, stored).body["status"] == "replayed"
    monkeypatch.setitem(
        app.extensions["providers"], "kvs", KvsProvider(OTHER_KVS_SECRET, default_catalog())
    )
    assert do_replay(app, session, stored).body["reason"] == "not_verified_again"


def test_sns_message_from_a_topic_not_allowed_with_a_bogus_signature_stays_out(
    app, client, session, sns_signer, sns_fetcher
):
    alarm = {**message("alarm_putmedia_success_alarm.json"), "TopicArn": SNS_TOPIC + "-theirs"}
    forged = {**sns_signer.sign(alarm), "Signature": "Zm9yZ2Vk"}
    refused = send(client, sns_body(forged), message_id=alarm["MessageId"])
    assert refused.status_code == 403

    result = CliRunner().invoke(
        main, ["replay", "--rejected-since", "1h", "--yes"], obj=ScriptInfo(create_app=lambda: app)
    )
    assert result.exit_code == 0, result.output
    assert "refused (never replayed): 1 failed_authentication" in result.output
    assert failure_count(session) == 0
    assert session.get(Notification, refused.json["id"]).status == "rejected"


def test_sns_replay_checks_the_topic_list_of_today(
    app, client, session, sns_signer, sns_fetcher, monkeypatch
):
    stored = send_signed(client, sns_signer, message("alarm_putmedia_success_alarm.json"))
    assert stored.status_code == 202
    monkeypatch.setitem(
        app.extensions["providers"],
        "sns",
        sns_provider(sns_fetcher, ["arn:aws:sns:eu-west-1:123456789012:another-topic"]),
    )
    outcome = do_replay(app, session, stored.json["id"])
    assert outcome.body["reason"] == "not_verified_again"
    assert "topic not allowed" in outcome.body["message"]


def test_failed_sns_confirmation_is_replayable_and_a_dry_run_confirms_nothing(
    app, client, session, sns_signer, sns_fetcher, subscribe_server
):
    base_url, hits = subscribe_server
    msg = confirmation(base_url)
    refused = send_signed(client, sns_signer, {**msg, "SubscribeURL": "http://127.0.0.1:1/x"})
    assert refused.status_code == 503 and "replay it" in refused.json["message"]
    notification = session.get(Notification, refused.json["id"])
    assert notification.auth == "passed"

    # The subscription's fetch works again: a dry run still confirms nothing; a replay does.
    body = json.loads(notification.body)
    body["SubscribeURL"] = msg["SubscribeURL"]
    notification.body = sns_body(sns_signer.sign(body))
    with app.test_request_context():
        dry_run = preview(session, notification)
    assert dry_run.outcome == "replay" and hits == []
    assert do_replay(app, session, notification.id).body["status"] == "replayed"
    assert len(hits) == 1
