"""Replaying a stored notification through the pipeline, as the admin and CLI do."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from receiver.ingest import replay
from receiver.models import Failure, Notification
from tests.helpers import FIXTURES, post


def test_rejected_notification_replays_into_stored_once_the_cause_is_fixed(
    app, client, session, monkeypatch
):
    payload = json.loads((FIXTURES / "lightflow" / "asset_error_2404.json").read_text())
    payload["assetError"]["code"] = "2404"  # a string: accepted by the schema (coerced)
    payload["status"] = None  # rejected: status is required
    response = post(client, "lightflow", json.dumps(payload).encode())
    assert response.status_code == 422
    notification = session.get(Notification, response.json["id"])

    # Replaying the same bytes fails the same way, and says so.
    with app.test_request_context():
        outcome = replay(session, notification)
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
        outcome = replay(session, notification)
    assert outcome.status == 200 and outcome.body["status"] == "replayed"
    assert notification.status == "stored" and notification.dedup_key
    assert session.scalar(select(func.count()).select_from(Failure)) == 1


def test_replaying_a_stored_notification_changes_nothing(app, client, session):
    response = post(client, "zencoder", (FIXTURES / "zencoder" / "output_failed.json").read_bytes())
    notification = session.get(Notification, response.json["id"])
    with app.test_request_context():
        outcome = replay(session, notification)
    assert outcome.body == {"status": "replayed", "id": notification.id, "failures": 0}
    assert session.scalar(select(func.count()).select_from(Failure)) == 1


def test_replayed_rejection_that_duplicates_a_stored_one_points_at_it(app, client, session):
    body = (FIXTURES / "lightflow" / "asset_error_2503.json").read_bytes()
    stored = post(client, "lightflow", body).json["id"]
    rejected = post(client, "lightflow", body, headers={}).json["id"]  # 401: no token
    notification = session.get(Notification, rejected)
    with app.test_request_context():
        outcome = replay(session, notification)
    assert outcome.body == {"status": "duplicate", "id": stored}
    assert notification.status == "rejected"


def run_cli(app, *args: str):
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from receiver.cli import main

    return CliRunner().invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))


def test_replay_command_by_id_and_rejected_since(app, client, session):
    body = (FIXTURES / "lightflow" / "asset_error_2503.json").read_bytes()
    rejected = [post(client, "lightflow", body, headers={}).json["id"] for _ in range(2)]  # 401s
    stored = post(
        client, "lightflow", (FIXTURES / "lightflow" / "asset_ready.json").read_bytes()
    ).json["id"]

    result = run_cli(app, "replay", str(rejected[0]), str(stored), "999999")
    assert result.exit_code == 0, result.output
    assert "1 not found" in result.output and "2 replayed" in result.output
    assert session.get(Notification, rejected[0]).status == "stored"

    # The second rejected copy is now a duplicate of the first, which replay says.
    result = run_cli(app, "replay", "--rejected-since", "1h", "--vendor", "lightflow")
    assert result.exit_code == 0, result.output
    assert "1 duplicate" in result.output


def test_replay_command_needs_ids_or_since(app):
    assert run_cli(app, "replay").exit_code == 2
