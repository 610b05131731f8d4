"""``receiver groups …``, ``receiver failures …`` and ``receiver backups``: the triage model and
the backup deadlines from the shell, through the same functions as the admin and the API."""

from __future__ import annotations

import getpass
import json
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from receiver.alerts.triage_cli import failures, groups
from receiver.cli import backups_command, db
from receiver.db import utcnow
from receiver.models import AlertGroup, Failure, TriageEvent
from tests.admin.conftest import add_failure, basic
from tests.alerts.test_delivery import post_failures
from tests.helpers import FIXTURES, post


def test_groups_list_show_and_json(app, client, session, monkeypatch):
    post_failures(client, 2, ended=utcnow() - timedelta(minutes=3))
    runner = app.test_cli_runner()
    listed = runner.invoke(groups, ["list"])
    assert listed.exit_code == 0, listed.output
    group_id = session.scalars(select(AlertGroup.id)).one()
    first = listed.output.splitlines()[0]
    assert first.startswith(f"#{group_id:<5} open") and "lightflow credentials 2007" in first
    assert "2 failures (2 in 24 h) in 2 jobs, last 3 min ago" in first
    assert "what to do: Fix the storage credentials" in listed.output

    as_json = json.loads(runner.invoke(groups, ["list", "--json"]).output)
    api = app.test_client().get("/api/groups", headers=admin_basic(app, monkeypatch))
    api = api.json["items"]
    assert as_json == api  # the same shape as the API's

    shown = json.loads(runner.invoke(groups, ["show", str(group_id)]).output)
    assert shown["id"] == group_id and shown["events"] == []
    assert runner.invoke(groups, ["show", "999999"]).exit_code == 1
    assert runner.invoke(groups, ["list", "--state", "firing"]).exit_code == 2
    assert "no groups match" in runner.invoke(groups, ["list", "--vendor", "agora"]).output


def admin_basic(app, monkeypatch) -> dict[str, str]:
    """This app has no admin account: give it one for this test."""
    settings = replace(
        app.extensions["settings"], admin_user="cli-test", admin_password="cli-test-password-0123"
    )
    monkeypatch.setitem(app.extensions, "settings", settings)
    return basic("cli-test", "cli-test-password-0123")


def test_groups_ack_resolve_reopen_with_who_and_why(app, client, session):
    post_failures(client, 2)
    group_id = session.scalars(select(AlertGroup.id)).one()
    runner = app.test_cli_runner()
    acked = runner.invoke(groups, ["ack", str(group_id), "--by", "oncall", "--note", "on it"])
    assert acked.exit_code == 0, acked.output
    assert acked.output.strip() == "1 group acknowledged (2 failures with them)"
    session.expire_all()
    group = session.get(AlertGroup, group_id)
    assert (group.state, group.acknowledged_by) == ("acknowledged", "oncall")
    again = runner.invoke(groups, ["ack", str(group_id), "--by", "x"])
    assert again.exit_code == 1 and "not open" in again.output

    assert runner.invoke(groups, ["resolve", str(group_id)]).exit_code == 0
    assert runner.invoke(groups, ["reopen", str(group_id), "--note", "again"]).exit_code == 0
    events = session.scalars(
        select(TriageEvent).where(TriageEvent.failure_id.is_(None)).order_by(TriageEvent.id)
    ).all()
    assert [(e.action, e.actor, e.via, e.note) for e in events] == [
        ("acknowledge", "oncall", "cli", "on it"),
        ("resolve", getpass.getuser(), "cli", None),  # without --by: the OS user
        ("reopen", getpass.getuser(), "cli", "again"),
    ]


def test_failures_resolve_and_the_group_follows(app, client, session):
    post_failures(client, 2)
    ids = [str(i) for i in session.scalars(select(Failure.id).order_by(Failure.id))]
    runner = app.test_cli_runner()
    done = runner.invoke(failures, ["resolve", *ids, "--by", "oncall"])
    assert done.output.strip() == "2 failures resolved (1 group with them)"
    assert session.scalars(select(AlertGroup.state)).one() == "resolved"
    assert runner.invoke(failures, ["ack", "999999"]).exit_code == 1


def test_backfill_groups_failures_stored_before_grouping(app, session):
    add_failure(session, fingerprint="before:1")
    add_failure(session, fingerprint="before:2", status="resolved", code="Other")
    session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(groups, ["backfill"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "grouped 2 failure(s) into 2 group(s)"
    assert sorted(session.scalars(select(AlertGroup.state))) == ["pending", "resolved"]
    assert (
        runner.invoke(groups, ["backfill"]).output.strip() == "grouped 0 failure(s) into 0 group(s)"
    )


def test_db_upgrade_groups_what_an_older_version_stored(app, session):
    """An upgraded receiver's landing page shows what it had stored, with no command to know."""
    add_failure(session, fingerprint="older:1")
    session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(db, ["upgrade"])
    assert result.exit_code == 0, result.output
    assert "grouped 1 stored failure(s) into 1 group(s)" in result.output
    assert session.scalars(select(AlertGroup.state)).one() == "pending"
    assert "grouped" not in runner.invoke(db, ["upgrade"]).output  # nothing left: silent


def test_backups_lists_deadlines_soonest_first(app, client, session):
    now = utcnow()
    template = json.loads((FIXTURES / "zencoder" / "output_backup_server_used.json").read_text())
    deadlines = {
        "1": now + timedelta(hours=5),
        "2": now + timedelta(hours=1),
        "3": now - timedelta(hours=2),
    }
    for n, expires in deadlines.items():
        body = json.loads(json.dumps(template))
        body["job"]["id"], body["output"]["id"] = f"9{n}", f"8{n}"
        body["output"]["url"] = (
            f"https://zencoder-backup.s3.amazonaws.com/o/{n}.mp4?Signature=x"
            f"&Expires={int(expires.timestamp())}"
        )
        assert post(client, "zencoder", json.dumps(body).encode()).status_code == 202
    runner = app.test_cli_runner()
    text = runner.invoke(backups_command, []).output.splitlines()
    assert (
        text[0].startswith("until ") and "job 92 output 82" in text[0] and "(in 59 min)" in text[0]
    )
    assert text[1].strip().startswith("https://zencoder-backup.s3.amazonaws.com/o/2.mp4")
    assert "job 91 output 81" in text[2]
    assert text[-1].startswith("EXPIRED 2 h ago") and "job 93" in text[-1]

    soon = json.loads(runner.invoke(backups_command, ["--expiring-within", "6h", "--json"]).output)
    assert [c["output_id"] for c in soon] == ["82", "81"]
    assert set(soon[0]) >= {"job_id", "output_id", "url", "expires_at"}
    assert soon[0]["expires_at"] == deadlines["2"].replace(microsecond=0).isoformat().replace(
        "+00:00", "Z"
    )
    within_hour = runner.invoke(backups_command, ["--expiring-within", "30m"])
    assert within_hour.output.strip() == "no backup copies expiring within 30m"
    assert runner.invoke(backups_command, ["--expiring-within", "soon"]).exit_code == 2
