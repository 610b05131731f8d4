"""``/api/groups``, the triage actions on groups and failures, and ``/api/backups``: the same
model as the admin's buttons, for scripts (HTTP Basic)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import select

from receiver.db import utcnow
from receiver.models import AlertGroup, Failure, TriageEvent
from tests.admin.conftest import ADMIN_USER, basic, log_in
from tests.alerts.test_delivery import post_failures
from tests.helpers import FIXTURES, post


def test_groups_are_listed_with_their_counts_and_filters(client, session):
    ended = utcnow() - timedelta(minutes=10)
    post_failures(client, 3, ended=ended)
    post_failures(client, 1, code=2404, prefix="missing")
    response = client.get("/api/groups", headers=basic())
    assert response.status_code == 200
    body = response.json
    assert body["counts"] == {"open": 2, "acknowledged": 0, "resolved": 0}
    credentials, missing = body["items"]
    assert credentials["labels"] == {
        "vendor": "lightflow",
        "category": "credentials",
        "code": "2007",
    }
    assert (credentials["state"], credentials["alert_state"]) == ("open", "pending")
    assert (credentials["failure_count"], credentials["failures_last_24h"]) == (3, 3)
    assert credentials["job_count"] == 3 and sum(credentials["trend_24h"]) == 3
    assert len(credentials["trend_24h"]) == 24
    first_hour = datetime.fromisoformat(credentials["trend_start"])
    hour = int((ended.replace(microsecond=0) - first_hour).total_seconds() // 3600)
    assert credentials["trend_24h"][hour] == 3  # the hour they occurred in
    assert credentials["action"].startswith("Fix the storage credentials")
    assert credentials["severity"] == "critical" and missing["labels"]["code"] == "2404"
    assert credentials["last_occurred_at"].endswith("+00:00")

    only = client.get("/api/groups?category=remote_not_found", headers=basic()).json["items"]
    assert [g["labels"]["code"] for g in only] == ["2404"]
    assert client.get("/api/groups?state=firing", headers=basic()).status_code == 422
    paged = client.get("/api/groups?limit=1", headers=basic()).json
    assert len(paged["items"]) == 1 and paged["next_page"] == 2
    assert client.get("/api/groups").status_code == 401


def test_a_group_in_detail_has_its_history(client, session):
    post_failures(client, 2)
    group_id = session.scalars(select(AlertGroup.id)).one()
    acted = client.post(
        f"/api/groups/{group_id}/acknowledge", json={"note": "ticket 12"}, headers=basic()
    )
    assert acted.status_code == 200, acted.json
    assert acted.json["summary"] == "1 group acknowledged (2 failures with them)"
    detail = client.get(f"/api/groups/{group_id}", headers=basic()).json
    assert detail["state"] == "acknowledged" and detail["acknowledged_by"] == ADMIN_USER
    [event] = detail["events"]
    assert (event["actor"], event["via"], event["note"], event["failure_count"]) == (
        ADMIN_USER, "api", "ticket 12", 2,
    )  # fmt: skip
    assert client.get("/api/groups/999999", headers=basic()).status_code == 404


def test_actions_on_one_answer_404_409_and_need_basic_credentials(client, session):
    post_failures(client, 1)
    group_id = session.scalars(select(AlertGroup.id)).one()
    assert client.post("/api/groups/999999/resolve", json={}, headers=basic()).status_code == 404
    assert (
        client.post(f"/api/groups/{group_id}/reopen", json={}, headers=basic()).status_code == 409
    )
    assert client.post(f"/api/groups/{group_id}/delete", json={}, headers=basic()).status_code in (
        404, 405,
    )  # fmt: skip
    # A logged-in browser's cookie alone does not change state here (no CSRF token on the API).
    log_in(client)
    refused = client.post(f"/api/groups/{group_id}/resolve", json={})
    assert refused.status_code == 401
    assert session.scalars(select(AlertGroup.state)).one() == "pending"
    assert client.get(f"/api/groups/{group_id}").status_code == 200  # reading is fine


def test_bulk_actions_on_failures_and_groups(client, session):
    post_failures(client, 3)
    ids = session.scalars(select(Failure.id).order_by(Failure.id)).all()
    resolved = client.post(
        "/api/failures/actions",
        json={"action": "resolve", "ids": ids, "note": "re-run"},
        headers=basic(),
    )
    assert resolved.status_code == 200
    assert resolved.json["changed"] == ids and len(resolved.json["groups_changed"]) == 1
    group_id = resolved.json["groups_changed"][0]
    assert session.get(AlertGroup, group_id).state == "resolved"
    notes = session.scalars(select(TriageEvent.note).where(TriageEvent.failure_id.in_(ids)))
    assert list(notes) == ["re-run"] * 3

    reopened = client.post(
        "/api/groups/actions", json={"action": "reopen", "ids": [group_id]}, headers=basic()
    )
    assert reopened.json["changed"] == [group_id]
    one = client.post(f"/api/failures/{ids[0]}/acknowledge", json={}, headers=basic())
    assert one.status_code == 409  # reopening the group did not reopen what it had not resolved
    for bad in ({"action": "delete", "ids": ids}, {"action": "resolve", "ids": []},
                {"action": "resolve", "ids": ["1"]}, {"action": "resolve"}):  # fmt: skip
        assert client.post("/api/failures/actions", json=bad, headers=basic()).status_code == 422


def test_backups_api_lists_deadlines(client, session):
    now = utcnow()
    body = json.loads((FIXTURES / "zencoder" / "output_backup_server_used.json").read_text())
    body["output"]["url"] += "&Expires=" + str(int((now + timedelta(hours=5)).timestamp()))
    body["output"]["url"] = body["output"]["url"].replace("Expires=1317237305&", "")
    assert post(client, "zencoder", json.dumps(body).encode()).status_code == 202
    [copy] = client.get("/api/backups", headers=basic()).json
    assert (copy["job_id"], copy["output_id"], copy["expired"]) == ("172151", "235314", False)
    assert copy["expires_at"].endswith("Z") and copy["url"].startswith("https://zencoder-live")
    assert client.get("/api/backups?expiring_within_hours=4", headers=basic()).json == []
    assert len(client.get("/api/backups?expiring_within_hours=6", headers=basic()).json) == 1


def test_the_openapi_document_describes_the_triage_api(client):
    paths = client.get("/openapi.json").json["paths"]
    for path in ("/api/groups", "/api/groups/{group_id}", "/api/groups/actions",
                 "/api/failures/actions", "/api/backups"):  # fmt: skip
        assert path in paths, path
    assert "post" in paths["/api/groups/{group_id}/{action}"]
