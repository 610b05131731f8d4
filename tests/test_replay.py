"""Replaying a stored notification, as the admin and the CLI do: only what was authenticated.

Token vendors (Zencoder, LightFlow) never have their token stored, so only a notification whose
token was right when it came can be replayed; a 401 is evidence, never input (issue #17).
"""

from __future__ import annotations

import json

from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import func, select

from receiver.cli import main
from receiver.models import Failure, Notification, ReplayEvent
from receiver.replay import eligibility, preview, replay
from tests.helpers import FIXTURES, fixture_bytes, post

PHISHING = "https://evil.example/reset-your-password"


def failure_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Failure))


def forged_zencoder_body() -> bytes:
    payload = json.loads(fixture_bytes("zencoder", "output_failed.json"))
    payload["output"]["error_message"] = f"Your account is locked: {PHISHING}"
    payload["output"]["error_link"] = PHISHING
    return json.dumps(payload).encode()


def run_cli(app, *args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app), input=input)


def test_a_post_without_token_is_never_replayed_and_the_genuine_one_still_gets_in(
    app, client, session
):
    body = forged_zencoder_body()
    forged = post(client, "zencoder", body, headers={})
    assert forged.status_code == 401
    notification = session.get(Notification, forged.json["id"])
    assert notification.auth == "failed"

    allowed = eligibility(notification, app.extensions["providers"])
    assert not allowed.allowed and allowed.reason == "token_not_verified"
    with app.test_request_context():
        outcome = replay(session, notification, "operator")
    assert outcome.status == 409 and outcome.body["reason"] == "token_not_verified"
    assert notification.status == "rejected" and failure_count(session) == 0
    [event] = session.scalars(select(ReplayEvent)).all()
    assert (event.actor, event.outcome, event.failures_created) == ("operator", "refused", 0)

    # The same body with the token is the vendor's own: stored, not "a duplicate".
    genuine = post(client, "zencoder", body)
    assert genuine.status_code == 202 and genuine.json["status"] == "accepted"


def test_an_authenticated_refusal_replays_once_the_cause_is_fixed(
    app, client, session, monkeypatch
):
    payload = json.loads((FIXTURES / "lightflow" / "asset_error_2404.json").read_text())
    payload["status"] = None  # rejected: status is required
    response = post(client, "lightflow", json.dumps(payload).encode())
    assert response.status_code == 422
    notification = session.get(Notification, response.json["id"])
    assert (notification.auth, notification.reason_code) == ("passed", "invalid")

    with app.test_request_context():
        outcome = replay(session, notification, "operator")
    assert outcome.status == 422
    assert notification.status == "rejected" and notification.replayed_at is not None

    # "Fix the schema": accept a missing status by patching the stored body's interpretation.
    from receiver.vendors.lightflow.provider import LightFlowProvider

    original_validate = LightFlowProvider.validate
    monkeypatch.setattr(
        LightFlowProvider,
        "validate",
        lambda self, data: original_validate(self, {**data, "status": "error"}),
    )
    with app.test_request_context():
        dry_run = preview(session, notification)
        assert dry_run.outcome == "replay" and dry_run.needs_confirmation
        assert [f["code"] for f in dry_run.new_failures] == ["2404"]
        assert failure_count(session) == 0  # a dry run stores nothing
        outcome = replay(session, notification, "operator")
    assert outcome.status == 200 and outcome.body["status"] == "replayed"
    assert notification.status == "stored" and notification.reason_code is None
    assert failure_count(session) == 1
    outcomes = [e.outcome for e in session.scalars(select(ReplayEvent).order_by(ReplayEvent.id))]
    assert outcomes == ["rejected", "replayed"]


def test_replaying_a_stored_notification_changes_nothing(app, client, session):
    response = post(client, "zencoder", (FIXTURES / "zencoder" / "output_failed.json").read_bytes())
    notification = session.get(Notification, response.json["id"])
    with app.test_request_context():
        assert not preview(session, notification).needs_confirmation  # nothing new
        outcome = replay(session, notification, "operator")
    assert outcome.body == {"status": "replayed", "id": notification.id, "failures": 0}
    assert failure_count(session) == 1


def test_replayed_rejection_that_duplicates_a_stored_one_points_at_it(app, client, session):
    body = (FIXTURES / "lightflow" / "asset_error_2503.json").read_bytes()
    stored = post(client, "lightflow", body).json["id"]
    refused = post(client, "lightflow", body, content_type="application/x-unknown")
    assert refused.status_code == 415  # authenticated, refused for its content type
    notification = session.get(Notification, refused.json["id"])
    notification.content_type = "application/json"  # "the cause is fixed"
    with app.test_request_context():
        outcome = replay(session, notification, "operator")
    assert outcome.body == {"status": "duplicate", "id": stored}
    assert notification.status == "rejected"


def test_replay_command_refuses_forgeries_and_reports_them_by_reason(app, client, session):
    forged = [
        post(
            client, "lightflow", fixture_bytes("lightflow", "asset_error_2503.json"), headers={}
        ).json["id"]
        for _ in range(2)
    ]  # 401: no token
    payload = json.loads(fixture_bytes("lightflow", "asset_error_2404.json"))
    payload["status"] = None
    invalid = post(client, "lightflow", json.dumps(payload).encode()).json["id"]  # 422

    result = run_cli(app, "replay", "--rejected-since", "1h", "--vendor", "lightflow")
    assert result.exit_code == 0, result.output
    assert "refused (never replayed): 2 token_not_verified" in result.output
    assert "would replay 1 notification" in result.output
    assert failure_count(session) == 0
    for notification_id in forged:
        assert session.get(Notification, notification_id).status == "rejected"
    assert session.get(Notification, invalid).replayed_at is not None


def test_replay_command_asks_before_creating_failures(app, client, session, monkeypatch):
    payload = json.loads(fixture_bytes("lightflow", "asset_error_2404.json"))
    payload["status"] = None
    invalid = post(client, "lightflow", json.dumps(payload).encode()).json["id"]
    from receiver.vendors.lightflow.provider import LightFlowProvider

    original_validate = LightFlowProvider.validate
    monkeypatch.setattr(
        LightFlowProvider,
        "validate",
        lambda self, data: original_validate(self, {**data, "status": "error"}),
    )

    declined = run_cli(app, "replay", str(invalid), "999999", input="n\n")
    assert declined.exit_code == 1  # aborted
    assert "not found: 999999" in declined.output
    assert f"#{invalid}: 2404 (remote_not_found, error)" in declined.output
    assert "Replay 1 notification, creating 1 failure?" in declined.output
    assert failure_count(session) == 0

    accepted = run_cli(app, "replay", str(invalid), "--yes")
    assert accepted.exit_code == 0, accepted.output
    assert "done: 1 replayed" in accepted.output
    assert failure_count(session) == 1
    [event] = session.scalars(select(ReplayEvent).where(ReplayEvent.outcome == "replayed")).all()
    assert event.actor.startswith("cli:") and event.failures_created == 1


def test_replay_command_needs_ids_or_since(app):
    assert run_cli(app, "replay").exit_code == 2
