"""The alert history is visible: `GET /api/alerts` and `receiver alerts …` tell what was sent."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from receiver.alerts.cli import alerts
from receiver.models import AlertGroup, Silence
from tests.alerts.test_delivery import post_failures

PASSWORD = "history-admin-password-0123"


@pytest.fixture
def delivered(client, session, channel, worker, clock):
    """One group whose webhook failed once and then went through; PagerDuty took it at once."""
    post_failures(client, 3)
    channel.script["/hook"] = [500]
    clock.advance(seconds=31)
    worker.run_once()
    clock.advance(minutes=1)
    worker.run_once()
    return session.scalars(select(AlertGroup)).one()


@pytest.fixture
def admin(app, monkeypatch):
    settings = replace(app.extensions["settings"], admin_password=PASSWORD)
    monkeypatch.setitem(app.extensions, "settings", settings)
    token = base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_api_lists_groups_and_their_notifications(client, delivered, admin):
    assert client.get("/api/alerts").status_code == 401

    response = client.get("/api/alerts", headers=admin)
    assert response.status_code == 200
    [group] = response.json
    assert group["id"] == delivered.id
    assert (group["state"], group["failure_count"]) == ("firing", 3)
    assert group["labels"] == {"vendor": "lightflow", "category": "credentials", "code": "2007"}
    sent = {(n["channel"], n["kind"], n["status"], n["attempts"]) for n in group["notifications"]}
    assert ("hook", "firing", "sent", 2) in sent
    assert ("pd", "firing", "sent", 1) in sent
    assert {n["kind"] for n in group["notifications"] if n["status"] == "pending"} == {"repeat"}

    assert client.get("/api/alerts?state=resolved", headers=admin).json == []
    assert client.get("/api/alerts?state=nonsense", headers=admin).status_code == 422


def test_api_shows_every_delivery_attempt(client, delivered, admin):
    detail = client.get(f"/api/alerts/{delivered.id}", headers=admin).json
    assert len(detail["failure_ids"]) == 3
    hook = next(n for n in detail["notifications"] if n["channel"] == "hook" and n["sent_at"])
    assert [a["outcome"] for a in hook["attempts_made"]] == ["error", "ok"]
    assert "500" in hook["attempts_made"][0]["error"]
    assert hook["title"].startswith("[FIRING] lightflow credentials 2007")
    assert client.get("/api/alerts/999999", headers=admin).status_code == 404


def test_api_lists_active_silences(client, session, admin, clock):
    session.add(
        Silence(
            matchers={"vendor": ["zencoder"]},
            author="ops",
            reason="vendor outage",
            starts_at=clock.now - timedelta(hours=2),
            ends_at=clock.now + timedelta(hours=1),
        )
    )
    session.add(
        Silence(
            matchers={"vendor": ["lightflow"]},
            author="ops",
            reason="over",
            starts_at=clock.now - timedelta(hours=2),
            ends_at=clock.now - timedelta(hours=1),
        )
    )
    session.commit()
    [active] = client.get("/api/alerts/silences", headers=admin).json
    assert active["reason"] == "vendor outage"
    assert len(client.get("/api/alerts/silences?all=true", headers=admin).json) == 2


def test_cli_lists_and_shows(app, session, delivered, rules, channel):
    runner = app.test_cli_runner()
    listed = runner.invoke(alerts, ["list"])
    assert listed.exit_code == 0, listed.output
    assert f"#{delivered.id} firing" in listed.output
    assert "-> hook       sent       attempts 2" in listed.output

    shown = json.loads(runner.invoke(alerts, ["show", str(delivered.id)]).output)
    assert shown["fingerprint"] == delivered.fingerprint

    as_json = json.loads(runner.invoke(alerts, ["list", "--json"]).output)
    assert as_json[0]["id"] == delivered.id


def test_cli_silences(app, session):
    runner = app.test_cli_runner()
    made = runner.invoke(
        alerts,
        [
            "silence",
            "--match",
            "category=upload",
            "--match",
            "vendor=zen*",
            "--for",
            "30m",
            "--author",
            "me",
            "--reason",
            "maintenance",
        ],
    )
    assert made.exit_code == 0, made.output
    silence = session.scalars(select(Silence)).one()
    assert silence.matchers == {"category": ["upload"], "vendor": ["zen*"]}
    assert timedelta(minutes=29) < silence.ends_at - silence.starts_at <= timedelta(minutes=30)
    assert "category=upload vendor=zen*" in runner.invoke(alerts, ["silences"]).output
    assert runner.invoke(alerts, ["unsilence", str(silence.id)]).exit_code == 0
    assert runner.invoke(alerts, ["silences"]).output.strip() == "no silences"
    bad = runner.invoke(
        alerts, ["silence", "--match", "colour=red", "--author", "a", "--reason", "r"]
    )
    assert bad.exit_code == 2 and "FIELD=PATTERN" in bad.output


def test_cli_shows_the_rules(app, rules):
    output = app.test_cli_runner().invoke(alerts, ["rules"]).output
    assert "- transient: category=rate_limited|remote_unavailable|network -> hook" in output
    assert "more than 5 in 0:10:00" in output
    assert "- info: severity=info -> (none: drop)" in output
