"""The admin's alert pages: groups, their messages and delivery attempts, the actions on them,
silences; login and CSRF as on every admin page; vendor text in group labels stays inert.

Groups come from real ingest with test rules whose channel is a local HTTP server (the one the
alert tests use), and the worker runs on a test clock, so what the pages show is what the
pipeline wrote.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from receiver.alerts.groups import silence_group
from receiver.alerts.rules import RuleSet, load_rules
from receiver.alerts.worker import Worker, build_worker
from receiver.db import utcnow
from receiver.models import AlertGroup, AlertNotification, Failure, Silence
from tests.admin.conftest import ADMIN_USER, BASE_TIME, add_failure, csrf_token
from tests.admin.test_xss import assert_inert, zencoder_payload
from tests.alerts.conftest import RULES, ChannelServer, Clock, serve_channel
from tests.alerts.test_delivery import post_failures
from tests.helpers import post

SCRIPT_TAG = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def channel() -> Iterator[ChannelServer]:
    recorder = ChannelServer()
    server = serve_channel(recorder)
    yield recorder
    server.shutdown()


@pytest.fixture
def rules(app, channel, tmp_path, monkeypatch) -> RuleSet:
    channel.reset()
    path = tmp_path / "rules.toml"
    path.write_text(RULES.format(port=channel.port))
    loaded = load_rules(path)
    monkeypatch.setitem(app.extensions, "alert_rules", loaded)
    return loaded


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def worker(app, rules, clock) -> Worker:
    return build_worker(app, clock=clock, name="admin-test-worker")


@pytest.fixture
def group(client, session, rules) -> AlertGroup:
    """A firing group: three LightFlow credential failures (rule "everything": hook + pd)."""
    post_failures(client, 3)
    return refreshed(session)


def refreshed(session) -> AlertGroup:
    [found] = session.scalars(select(AlertGroup)).all()
    session.refresh(found)
    return found


def post_form(admin, path: str, page: str, **data: str):
    return admin.post(path, data={"csrf_token": csrf_token(admin, page), **data})


# -- login and CSRF -------------------------------------------------------------------------------


def test_pages_require_login(client, group):
    for path in ("/admin/alerts", f"/admin/alerts/{group.id}", "/admin/silences"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/admin/login?next=")


@pytest.mark.parametrize("action", ["acknowledge", "resolve", "silence"])
def test_actions_refuse_anonymous_posts(client, session, group, action):
    # A token from the login page, so only the missing login can be what refuses it.
    token = csrf_token(client)
    response = client.post(
        f"/admin/alerts/{group.id}/{action}",
        data={"csrf_token": token, "duration": "2h", "reason": "nope"},
    )
    assert response.status_code == 401
    assert refreshed(session).state == "firing"
    assert session.scalars(select(Silence)).all() == []


@pytest.mark.parametrize("action", ["acknowledge", "resolve", "silence"])
def test_a_post_without_csrf_token_is_refused(admin, session, group, action):
    response = admin.post(
        f"/admin/alerts/{group.id}/{action}", data={"duration": "2h", "reason": "no token"}
    )
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    found = refreshed(session)
    assert (found.state, found.acknowledged_by, found.resolved_by) == ("firing", None, None)
    assert session.scalars(select(Silence)).all() == []


def test_expiring_a_silence_needs_the_csrf_token(admin, session, group):
    silence = silence_group(session, group.id, "ops", "outage", utcnow() + timedelta(hours=1))
    session.commit()
    assert admin.post(f"/admin/silences/{silence.id}/expire").status_code == 400
    session.refresh(silence)
    assert silence.ends_at > utcnow()


# -- the list --------------------------------------------------------------------------------------


def add_group(session, number: int, state: str, **labels: str) -> AlertGroup:
    seen = BASE_TIME - timedelta(minutes=number)
    group = AlertGroup(
        fingerprint=f"{number:064d}",
        rule="everything",
        labels={"vendor": "zencoder", "category": "encoding", "code": f"E{number}", **labels},
        state=state,
        failure_count=number,
        notified_count=0,
        reopened_count=0,
        first_seen_at=seen - timedelta(hours=1),
        last_seen_at=seen,
    )
    session.add(group)
    session.flush()
    return group


def group_links(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/admin/alerts/(\d+)"', html)]


def test_list_shows_groups_newest_first_filtered_by_state_and_paged(admin, session):
    made = {
        n: add_group(session, n, state)
        for n, state in enumerate(["firing", "resolved", "firing", "silenced", "firing"], 1)
    }
    session.commit()
    html = admin.get("/admin/alerts").get_data(as_text=True)
    assert group_links(html) == [made[n].id for n in (1, 2, 3, 4, 5)]
    for text in ("E1", "zencoder", "encoding", "everything", "2026-11-01 11:59:00"):
        assert text in html

    firing = admin.get("/admin/alerts?state=firing&limit=2").get_data(as_text=True)
    assert group_links(firing) == [made[1].id, made[3].id]
    assert 'firing <span class="count">3</span>' in firing
    next_url = re.search(r'href="([^"]+)" rel="next"', firing).group(1).replace("&amp;", "&")
    assert "state=firing" in next_url
    # the page size is the default on the next page; the cursor alone carries the position
    assert group_links(admin.get(next_url).get_data(as_text=True)) == [made[5].id]

    assert admin.get("/admin/alerts?state=nonsense").status_code == 400
    assert admin.get("/admin/alerts?cursor=garbage").status_code == 400


# -- the detail page and its actions --------------------------------------------------------------


def test_detail_lists_failures_notifications_and_every_delivery_attempt(
    admin, session, group, channel, worker, clock
):
    channel.script["/hook"] = [500]  # the webhook fails once, then takes the message
    clock.advance(seconds=31)
    worker.run_once()
    clock.advance(minutes=1)
    worker.run_once()

    html = admin.get(f"/admin/alerts/{group.id}").get_data(as_text=True)
    failure_ids = session.scalars(select(Failure.id)).all()
    assert len(failure_ids) == 3
    for failure_id in failure_ids:
        assert f'href="/admin/failures/{failure_id}"' in html
    notifications = section(html, "Notifications")
    assert notifications.count("st-sent") == 2  # hook and pd
    assert "[FIRING] lightflow credentials 2007" in notifications
    attempts = section(html, "Delivery attempts")
    rows = re.findall(r"<tr>(.*?)</tr>", attempts.partition("<tbody>")[2], re.S)
    assert len(rows) == 3  # hook: error then ok; pd: ok
    failed = [row for row in rows if "st-error" in row]
    assert len(failed) == 1 and "hook" in failed[0] and "error=500" in failed[0]
    [paged] = [row for row in rows if "<td>pd</td>" in row]
    assert "st-ok" in paged and '<td class="num">202</td>' in paged  # PagerDuty's answer
    assert "admin-test-worker" in attempts
    assert 'href="/admin/failures?vendor=lightflow&amp;category=credentials&amp;code=2007"' in html


def section(html: str, heading: str) -> str:
    start = html.index(f"<h2>{heading}</h2>")
    return html[start : html.index("</section>", start)]


def test_acknowledge_is_recorded_with_the_operator(admin, session, group):
    page = f"/admin/alerts/{group.id}"
    response = post_form(admin, f"{page}/acknowledge", page)
    assert response.status_code == 302
    found = refreshed(session)
    assert (found.state, found.acknowledged_by) == ("acknowledged", ADMIN_USER)
    waiting = session.scalars(select(AlertNotification.status)).all()
    assert set(waiting) == {"cancelled"}  # withdrawn: someone is on it
    html = admin.get(page).get_data(as_text=True)
    assert "acknowledged: no more repeats" in html
    assert f"UTC by {ADMIN_USER}" in html
    assert "/acknowledge" not in html  # nothing left to acknowledge

    again = post_form(admin, f"{page}/acknowledge", page)
    assert "nothing to acknowledge" in admin.get(again.headers["Location"]).get_data(as_text=True)


def test_resolve_is_recorded_with_the_operator(admin, session, group):
    page = f"/admin/alerts/{group.id}"
    assert post_form(admin, f"{page}/resolve", page).status_code == 302
    found = refreshed(session)
    assert (found.state, found.resolved_by) == ("resolved", ADMIN_USER)
    assert found.resolved_at is not None
    html = admin.get(page).get_data(as_text=True)
    assert f"by {ADMIN_USER}" in html
    assert "/resolve" not in html and "/acknowledge" not in html
    assert admin.get("/admin/alerts?state=resolved").get_data(as_text=True).count(page) == 1


def test_silence_mutes_the_group_and_names_its_author(admin, session, group, worker, clock):
    page = f"/admin/alerts/{group.id}"
    response = post_form(admin, f"{page}/silence", page, duration="2h", reason="vendor outage")
    assert response.status_code == 302
    found = refreshed(session)
    [silence] = session.scalars(select(Silence)).all()
    assert (silence.author, silence.reason) == (ADMIN_USER, "vendor outage")
    assert silence.matchers == {
        "vendor": ["lightflow"],
        "category": ["credentials"],
        "code": ["2007"],
    }
    assert silence.ends_at - silence.starts_at == timedelta(hours=2)
    assert (found.state, found.silenced_until) == ("silenced", silence.ends_at)

    html = admin.get(page).get_data(as_text=True)
    assert f"by {ADMIN_USER}: vendor outage" in html
    listed = admin.get("/admin/silences").get_data(as_text=True)
    assert "st-active" in listed and ADMIN_USER in listed and "vendor outage" in listed

    # The waiting messages are suppressed when due, not sent.
    clock.advance(seconds=31)
    worker.run_once()
    statuses = set(session.scalars(select(AlertNotification.status)))
    assert statuses == {"suppressed"}

    # Expire it: the group wakes up on the worker's next pass and tells what it held back.
    expire = post_form(admin, f"/admin/silences/{silence.id}/expire", "/admin/silences")
    assert expire.status_code == 302
    session.refresh(silence)
    assert silence.ends_at <= utcnow()
    assert "st-expired" in admin.get("/admin/silences").get_data(as_text=True)
    clock.now = utcnow() + timedelta(seconds=1)
    worker.run_once()
    assert refreshed(session).state == "firing"


@pytest.mark.parametrize(
    ("duration", "reason", "error"),
    [
        ("forever", "outage", "Not a valid duration"),
        ("0m", "outage", "more than 0"),
        ("31d", "outage", "at most 30 days"),
        ("2h", "", "This field is required"),
    ],
)
def test_an_invalid_silence_is_refused_with_the_reason(
    admin, session, group, duration, reason, error
):
    page = f"/admin/alerts/{group.id}"
    response = post_form(admin, f"{page}/silence", page, duration=duration, reason=reason)
    assert response.status_code == 400
    assert error in response.get_data(as_text=True)
    assert session.scalars(select(Silence)).all() == []
    assert refreshed(session).state == "firing"


def test_a_group_silence_matches_its_labels_literally(session):
    starred = add_group(session, 1, "firing", code="E*")
    other = add_group(session, 2, "firing", code="E2-other")
    silence = silence_group(session, starred.id, "ops", "glob", utcnow() + timedelta(hours=1))
    session.flush()
    session.refresh(starred)
    session.refresh(other)
    assert silence.matchers["code"] == ["E[*]"]
    assert (starred.state, other.state) == ("silenced", "firing")


def test_unknown_ids_are_404(admin):
    assert admin.get("/admin/alerts/987654").status_code == 404
    page = "/admin/silences"
    assert post_form(admin, "/admin/alerts/987654/acknowledge", page).status_code == 404
    assert post_form(admin, "/admin/silences/987654/expire", page).status_code == 404


# -- the failure page and vendor text -------------------------------------------------------------


def test_failure_page_links_its_alert_group(admin, session, group):
    failure_id = session.scalars(select(Failure.id)).first()
    html = admin.get(f"/admin/failures/{failure_id}").get_data(as_text=True)
    assert f'href="/admin/alerts/{group.id}"' in html
    assert '<span class="badge st-firing">firing</span>' in html


def test_failure_outside_any_group_says_so(admin, session):
    failure = add_failure(session)
    html = admin.get(f"/admin/failures/{failure.id}").get_data(as_text=True)
    assert "no alert rule routes this failure" in html


def test_vendor_text_in_labels_and_messages_is_inert(admin, client, session, rules, worker, clock):
    response = post(client, "zencoder", zencoder_payload())
    assert response.status_code == 202, response.json
    # The vendor's error class became the group's code label.
    [group] = [g for g in session.scalars(select(AlertGroup)) if SCRIPT_TAG in g.labels["code"]]
    clock.advance(seconds=31)
    worker.run_once()  # notification titles, bodies and attempts quote the vendor text too
    page = f"/admin/alerts/{group.id}"
    post_form(admin, f"{page}/silence", page, duration="1h", reason=SCRIPT_TAG)
    failure_id = session.scalars(select(Failure.id)).first()

    for path in (
        "/admin/alerts",
        page,
        "/admin/silences",
        f"/admin/failures/{failure_id}",
    ):
        html = admin.get(path).get_data(as_text=True)
        assert_inert(html, shown=SCRIPT_TAG)
    assert "<script>" not in admin.get(page).get_data(as_text=True)
