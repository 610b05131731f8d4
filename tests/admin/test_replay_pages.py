"""The admin's side of replay: the button only where replay is possible (else why not), the
confirmation of a replay that would create failures, bulk replay from the rejected page, and
the record of who replayed what."""

from __future__ import annotations

import json
import re

from sqlalchemy import func, select

from receiver.models import Failure, Notification, ReplayEvent
from tests.admin.conftest import ADMIN_USER, csrf_token
from tests.helpers import fixture_bytes, post


def failure_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Failure))


def unauthenticated(client, vendor="lightflow", name="asset_error_2404.json") -> int:
    response = post(client, vendor, fixture_bytes(vendor, name), headers={})
    assert response.status_code == 401
    return response.json["id"]


def invalid_but_authenticated(client, monkeypatch=None) -> int:
    """A LightFlow callback refused by the schema (422): replayable once the schema accepts it."""
    payload = json.loads(fixture_bytes("lightflow", "asset_error_2404.json"))
    payload["status"] = None
    response = post(client, "lightflow", json.dumps(payload).encode())
    assert response.status_code == 422
    return response.json["id"]


def accept_missing_status(monkeypatch) -> None:
    """'The schema was fixed': a missing status is read as error."""
    from receiver.vendors.lightflow.provider import LightFlowProvider

    original = LightFlowProvider.validate
    monkeypatch.setattr(
        LightFlowProvider,
        "validate",
        lambda self, data: original(self, {**data, "status": "error"}),
    )


def test_unauthenticated_notification_has_no_replay_button_and_says_why(admin, client, session):
    forged = unauthenticated(client)
    url = f"/admin/notifications/{forged}"
    html = admin.get(url).get_data(as_text=True)
    assert f'action="{url}/replay"' not in html
    assert "Cannot be replayed:" in html and "tokens are never stored" in html

    # A hand-made POST is refused, and the attempt is on record.
    response = admin.post(f"{url}/replay", data={"csrf_token": csrf_token(admin, url)})
    assert response.status_code == 302
    assert session.get(Notification, forged).status == "rejected"
    assert failure_count(session) == 0
    html = admin.get(url).get_data(as_text=True)
    assert "was refused (409)" in html
    replays = html.split("<h2>Replays</h2>")[1].split("</table>")[0]
    assert f"<div>{ADMIN_USER}</div>" in replays and '">refused</span>' in replays


def test_replay_that_creates_failures_asks_first(admin, client, session, monkeypatch):
    notification_id = invalid_but_authenticated(client)
    accept_missing_status(monkeypatch)
    url = f"/admin/notifications/{notification_id}"
    token = csrf_token(admin, url)

    first = admin.post(f"{url}/replay", data={"csrf_token": token})
    assert first.status_code == 200  # the confirmation page, nothing stored yet
    html = first.get_data(as_text=True)
    assert "This would create <strong>1 failure</strong>" in html
    assert "2404" in html and 'name="confirm" value="yes"' in html
    assert failure_count(session) == 0
    assert session.scalar(select(func.count()).select_from(ReplayEvent)) == 0

    second = admin.post(f"{url}/replay", data={"csrf_token": token, "confirm": "yes"})
    assert second.status_code == 302
    assert failure_count(session) == 1
    page = admin.get(url).get_data(as_text=True)
    assert f"Replayed notification {notification_id}: replayed, 1 new failure." in page
    [event] = session.scalars(select(ReplayEvent)).all()
    assert (event.actor, event.outcome, event.failures_created) == (ADMIN_USER, "replayed", 1)


def test_confirmation_needs_its_csrf_token(admin, client, session, monkeypatch):
    notification_id = invalid_but_authenticated(client)
    accept_missing_status(monkeypatch)
    response = admin.post(f"/admin/notifications/{notification_id}/replay", data={"confirm": "yes"})
    assert response.status_code == 400
    assert failure_count(session) == 0


def test_rejected_page_groups_by_vendor_and_reason(admin, client):
    for _ in range(3):
        unauthenticated(client)
    invalid_but_authenticated(client)
    html = admin.get("/admin/notifications/rejected").get_data(as_text=True)
    assert re.search(
        '<strong class="count">3 \u00d7</strong> lightflow <span[^>]*>unauthorized', html
    )
    assert "token rotated?" in html
    assert re.search('<strong class="count">1 \u00d7</strong> lightflow <span[^>]*>invalid', html)

    only = admin.get("/admin/notifications/rejected?vendor=lightflow&reason=invalid")
    rows = only.get_data(as_text=True).split("<tbody>")[1]
    assert rows.count("<tr>") == 1 and "status" in rows


def test_rejected_page_offers_checkboxes_only_for_replayable_rows(admin, client):
    forged = unauthenticated(client)
    replayable = invalid_but_authenticated(client)
    html = admin.get("/admin/notifications/rejected").get_data(as_text=True)
    assert f'name="id" value="{replayable}"' in html
    assert f'name="id" value="{forged}"' not in html
    assert "not replayable: token not verified" in html


def test_bulk_replay_replays_the_replayable_and_counts_the_refused(
    admin, client, session, monkeypatch
):
    forged = unauthenticated(client)
    replayable = [invalid_but_authenticated(client) for _ in range(2)]
    accept_missing_status(monkeypatch)
    token = csrf_token(admin, "/admin/notifications/rejected")
    ids = [str(forged), *map(str, replayable)]

    ask = admin.post("/admin/notifications/replay", data={"csrf_token": token, "id": ids})
    assert ask.status_code == 200 and "Replay 2 notifications?" in ask.get_data(as_text=True)
    done = admin.post(
        "/admin/notifications/replay", data={"csrf_token": token, "id": ids, "confirm": "yes"}
    )
    assert done.status_code == 302
    flashed = admin.get("/admin/notifications/rejected").get_data(as_text=True)
    assert (
        "Replay: 2 replayed (1 duplicate, 1 replayed); 1 refused (1 token not verified)." in flashed
    ), re.findall("flash[^<]*", flashed)
    assert session.get(Notification, forged).status == "rejected"
    assert failure_count(session) == 1  # both describe the same asset failure


def test_rejected_page_never_loads_whole_bodies(admin, client, session):
    body = json.dumps({"uuid": "x" * 300_000}).encode()
    response = post(client, "lightflow", body, headers={"X-Receiver-Token": "wrong" * 4})
    stored = session.get(Notification, response.json["id"])
    assert len(stored.body) == 4096 and stored.body_size == len(body)
    html = admin.get("/admin/notifications/rejected").get_data(as_text=True)
    assert "x" * 110 in html and "x" * 111 not in html  # 120 bytes: {"uuid": "xx…
    assert f"4096 of {len(body)} bytes kept" in html
