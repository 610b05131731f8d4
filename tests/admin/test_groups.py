"""The admin's landing page (groups), a group's page with its failures, state history, alert
messages and delivery attempts, the triage actions (one or several, with a note) and silences;
login and CSRF as on every admin page; vendor text in group labels stays inert.

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
from receiver.models import AlertGroup, AlertNotification, Failure, Silence, TriageEvent
from tests.admin.conftest import ADMIN_USER, add_failure, csrf_token
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


def post_form(admin, path: str, page: str, **data: object):
    return admin.post(path, data={"csrf_token": csrf_token(admin, page), **data})


# -- login and CSRF -------------------------------------------------------------------------------


def test_pages_require_login(client, group):
    for path in ("/admin/", f"/admin/groups/{group.id}", "/admin/silences", "/admin/backups"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/admin/login?next=")


def action_post(action: str, group_id: int) -> tuple[str, dict[str, object]]:
    if action == "silence":
        return f"/admin/groups/{group_id}/silence", {"duration": "2h", "reason": "nope"}
    return "/admin/groups/actions", {"id": group_id, "action": action}


@pytest.mark.parametrize("action", ["acknowledge", "resolve", "silence"])
def test_actions_refuse_anonymous_posts(client, session, group, action):
    # A token from the login page, so only the missing login can be what refuses it.
    path, data = action_post(action, group.id)
    response = client.post(path, data={"csrf_token": csrf_token(client), **data})
    assert response.status_code == 401
    assert refreshed(session).state == "firing"
    assert session.scalars(select(Silence)).all() == []


@pytest.mark.parametrize("action", ["acknowledge", "resolve", "silence"])
def test_a_post_without_csrf_token_is_refused(admin, session, group, action):
    path, data = action_post(action, group.id)
    response = admin.post(path, data=data)
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    found = refreshed(session)
    assert (found.state, found.acknowledged_by, found.resolved_by) == ("firing", None, None)
    assert session.scalars(select(Silence)).all() == []
    assert session.scalars(select(Failure.status)).all() == ["open"] * 3


def test_expiring_a_silence_needs_the_csrf_token(admin, session, group):
    silence = silence_group(session, group.id, "ops", "outage", utcnow() + timedelta(hours=1))
    session.commit()
    assert admin.post(f"/admin/silences/{silence.id}/expire").status_code == 400
    session.refresh(silence)
    assert silence.ends_at > utcnow()


# -- the landing page: groups ---------------------------------------------------------------------


def add_group(session, number: int, state: str, **labels: str) -> AlertGroup:
    """A group as the triage model keeps it (counts on the row), ``number`` minutes old."""
    seen = utcnow() - timedelta(minutes=number)
    group = AlertGroup(
        fingerprint=f"{number:064d}",
        rule="everything",
        labels={"vendor": "zencoder", "category": "encoding", "code": f"E{number}", **labels},
        state=state,
        severity="critical" if number == 3 else "error",
        failure_count=number,
        job_count=number,
        notified_count=0,
        reopened_count=0,
        first_seen_at=seen - timedelta(hours=1),
        last_seen_at=seen,
        first_occurred_at=seen - timedelta(hours=1),
        last_occurred_at=seen,
    )
    session.add(group)
    session.flush()
    return group


def group_links(html: str) -> list[int]:
    return list(dict.fromkeys(int(n) for n in re.findall(r'href="/admin/groups/(\d+)"', html)))


def test_landing_page_lists_open_groups_first_then_the_most_recent(admin, session):
    made = {
        n: add_group(session, n, state)
        for n, state in enumerate(["resolved", "firing", "acknowledged", "pending", "silenced"], 1)
    }
    session.commit()
    html = admin.get("/admin/").get_data(as_text=True)
    # open (firing 2, pending 4, silenced 5) by recency, then acknowledged, then resolved
    assert group_links(html) == [made[n].id for n in (2, 4, 5, 3, 1)]
    assert "3 open · 1 acknowledged · 1 resolved" in html
    for text in ("E2", "zencoder", "encoding", "alerting", "silenced", "min ago"):
        assert text in html
    assert re.search(r'<time datetime="[^"]+" title="\d{4}-\d\d-\d\d \d\d:\d\d UTC">', html)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("state=open", [2, 4, 5, 6]),
        ("state=acknowledged", [3]),
        ("severity=critical", [3]),
        ("vendor=lightflow", [6]),
        ("category=network", [6]),
        ("period=1h", [2, 4, 5, 3, 1]),
        ("period=24h", [2, 4, 5, 6, 3, 1]),
        ("q=E4", [4]),
        ("q=lightflow", [6]),
        ("vendor=zencoder&state=open&period=1h", [2, 4, 5]),
    ],
)
def test_landing_page_filters_are_kept_in_the_url(admin, session, query, expected):
    made = {
        n: add_group(session, n, state)
        for n, state in enumerate(["resolved", "firing", "acknowledged", "pending", "silenced"], 1)
    }
    made[6] = add_group(session, 300, "firing", vendor="lightflow", category="network")
    session.commit()
    html = admin.get(f"/admin/?{query}").get_data(as_text=True)
    assert group_links(html) == [made[n].id for n in expected]
    for pair in query.split("&"):
        _name, value = pair.split("=")
        assert f'value="{value}"' in html  # the filter form shows what is applied


def test_landing_page_pages_and_refuses_invalid_filters(admin, session):
    made = [add_group(session, n, "firing") for n in range(1, 6)]
    session.commit()
    first = admin.get("/admin/?state=open&limit=2").get_data(as_text=True)
    assert group_links(first) == [made[0].id, made[1].id]
    next_url = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert "state=open" in next_url and "page=2" in next_url
    assert group_links(admin.get(next_url).get_data(as_text=True)) == [made[2].id, made[3].id]
    for bad in ("state=firing", "severity=loud", "period=2h", "page=0"):
        response = admin.get(f"/admin/?{bad}")
        assert response.status_code == 400, bad
        assert "Invalid filters" in response.get_data(as_text=True)


def test_landing_page_shows_counts_jobs_trend_and_the_catalogs_action(admin, client, session):
    post_failures(client, 3, ended=utcnow() - timedelta(minutes=5))
    html = admin.get("/admin/").get_data(as_text=True)
    row = re.search(r'<tr class="triage-open">(.*?)</tr>', html, re.S).group(1)
    entry = admin.application.extensions["catalog"].lookup("lightflow", "2007")
    assert entry.action[:60] in row.replace("&#39;", "'")
    assert "<strong>3</strong>" in row and "3 in 24 h" in row
    assert re.search(r'data-label="Jobs"[^>]*>3</td>', row)
    bars = re.findall(r"<rect [^>]*><title>(.*?)</title></rect>", row)
    assert len(bars) == 1 and bars[0].endswith(" UTC, 3 failures")  # one hour, three failures


def test_every_failure_is_grouped_even_without_any_alert_channel(admin, client, session):
    # The packaged rules with no channel configured (a new install): nothing can be sent...
    post_failures(client, 2)
    [found] = session.scalars(select(AlertGroup)).all()
    assert (found.rule, found.state, found.failure_count) == ("act-now", "pending", 2)
    assert session.scalars(select(AlertNotification)).all() == []
    # ...and yet the operator sees what is failing.
    html = admin.get("/admin/").get_data(as_text=True)
    assert group_links(html) == [found.id]
    page = admin.get(f"/admin/groups/{found.id}").get_data(as_text=True)
    assert "alerts: not alerted" in page and "Nothing was sent about this group" in page


def test_opt_in_auto_refresh_for_wall_screens(admin, session):
    add_group(session, 1, "firing")
    session.commit()
    assert "http-equiv" not in admin.get("/admin/").get_data(as_text=True)
    html = admin.get("/admin/?state=open&refresh=60").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="60">' in html
    assert 'name="refresh" value="60"' in html  # filtering keeps refreshing
    assert "http-equiv" not in admin.get("/admin/?refresh=1").get_data(as_text=True)  # not offered
    # The policy forbids scripts, not a meta refresh (no directive governs it).
    assert "script-src" not in admin.get("/admin/").headers["Content-Security-Policy"]


def test_the_old_alert_pages_lead_to_the_groups(admin, session):
    group = add_group(session, 1, "firing")
    session.commit()
    assert admin.get("/admin/alerts?state=firing").location == "/admin/?state=open"
    assert admin.get(f"/admin/alerts/{group.id}").location == f"/admin/groups/{group.id}"


# -- a group's page and its actions ---------------------------------------------------------------


def test_group_page_lists_failures_notifications_and_every_delivery_attempt(
    admin, session, group, channel, worker, clock
):
    channel.script["/hook"] = [500]  # the webhook fails once, then takes the message
    clock.advance(seconds=31)
    worker.run_once()
    clock.advance(minutes=1)
    worker.run_once()

    html = admin.get(f"/admin/groups/{group.id}").get_data(as_text=True)
    failure_ids = session.scalars(select(Failure.id)).all()
    assert len(failure_ids) == 3
    for failure_id in failure_ids:
        assert f'href="/admin/failures/{failure_id}"' in html
    notifications = section(html, "Alert messages")
    assert notifications.count("st-sent") == 2  # hook and pd
    assert "[FIRING] lightflow credentials 2007" in notifications
    attempts = section(html, "Delivery attempts")
    rows = re.findall(r"<tr>(.*?)</tr>", attempts.partition("<tbody>")[2], re.S)
    assert len(rows) == 3  # hook: error then ok; pd: ok
    failed = [row for row in rows if "st-error" in row]
    assert len(failed) == 1 and "hook" in failed[0] and "error=500" in failed[0]
    [paged] = [row for row in rows if ">pd</td>" in row]
    assert "st-ok" in paged and ">202</td>" in paged  # PagerDuty's answer
    assert "admin-test-worker" in attempts
    assert "Storage credentials" in section(html, "What it means")
    assert f'href="/admin/failures?group={group.id}"' not in html  # all 3 shown: no "all" link


def section(html: str, heading: str) -> str:
    start = html.index(f"<h2>{heading}")
    return html[start : html.index("</section>", start)]


def group_action(admin, group_id: int, action: str, note: str = "", *ids: int):
    page = f"/admin/groups/{group_id}"
    return post_form(
        admin, "/admin/groups/actions", page, id=ids or group_id, action=action, note=note,
        next=page,
    )  # fmt: skip


def test_acknowledging_a_group_acknowledges_its_failures_and_records_who(admin, session, group):
    response = group_action(admin, group.id, "acknowledge", "looking at the LightFlow keys")
    assert (response.status_code, response.location) == (302, f"/admin/groups/{group.id}")
    found = refreshed(session)
    assert (found.state, found.acknowledged_by) == ("acknowledged", ADMIN_USER)
    assert session.scalars(select(Failure.status)).all() == ["acknowledged"] * 3
    waiting = session.scalars(select(AlertNotification.status)).all()
    assert set(waiting) == {"cancelled"}  # withdrawn: someone is on it
    html = admin.get(f"/admin/groups/{group.id}").get_data(as_text=True)
    assert "1 group acknowledged (3 failures with them)." in html
    history = section(html, "State history")
    assert (
        ADMIN_USER in history
        and "(admin)" in history
        and "acknowledged it and 3 failures" in history
    )
    assert "looking at the LightFlow keys" in history
    # The failure shows its own change, made with the group, with the same note.
    failure_id = session.scalars(select(Failure.id)).first()
    failure_page = admin.get(f"/admin/failures/{failure_id}").get_data(as_text=True)
    assert f'with <a href="/admin/groups/{group.id}">group #{group.id}</a>' in failure_page
    assert "looking at the LightFlow keys" in failure_page

    again = group_action(admin, group.id, "acknowledge")
    flashed = admin.get(again.location).get_data(as_text=True)
    assert "0 groups acknowledged; 1 not open (already acknowledged or resolved)." in flashed


def test_resolving_a_group_resolves_its_failures_and_pages_resolve(
    admin, session, group, channel, worker, clock
):
    clock.advance(seconds=31)
    worker.run_once()  # it fired: PagerDuty has an incident open
    assert group_action(admin, group.id, "resolve", "keys rotated").status_code == 302
    found = refreshed(session)
    assert (found.state, found.resolved_by) == ("resolved", ADMIN_USER)
    assert session.scalars(select(Failure.status)).all() == ["resolved"] * 3
    clock.now = utcnow() + timedelta(seconds=1)
    worker.run_once()
    assert channel.delivered("/pd")[-1]["event_action"] == "resolve"
    html = admin.get("/admin/?state=resolved").get_data(as_text=True)
    assert group_links(html) == [group.id]


def test_resolving_the_last_open_failure_resolves_the_group(
    admin, session, group, channel, worker, clock
):
    clock.advance(seconds=31)
    worker.run_once()
    ids = session.scalars(select(Failure.id).order_by(Failure.id)).all()
    page = f"/admin/groups/{group.id}"
    post_form(admin, "/admin/failures/actions", page, id=ids[:2], action="resolve", next=page)
    assert refreshed(session).state == "firing"  # one failure still open
    response = post_form(
        admin, "/admin/failures/actions", page, id=ids[2], action="resolve", next=page
    )
    assert "1 failure resolved (1 group with them)." in admin.get(response.location).get_data(
        as_text=True
    )
    assert refreshed(session).state == "resolved"
    history = section(admin.get(page).get_data(as_text=True), "State history")
    assert "its last open failure was resolved" in history
    clock.now = utcnow() + timedelta(seconds=1)
    worker.run_once()
    assert channel.delivered("/pd")[-1]["event_action"] == "resolve"


def test_reopening_a_group_reopens_what_its_resolution_closed(admin, session, group):
    ids = session.scalars(select(Failure.id).order_by(Failure.id)).all()
    page = f"/admin/groups/{group.id}"
    post_form(admin, "/admin/failures/actions", page, id=ids[0], action="resolve", next=page)
    group_action(admin, group.id, "resolve")
    assert group_action(admin, group.id, "reopen", "not fixed after all").status_code == 302
    assert refreshed(session).state == "pending"  # open, and nobody alerted since
    statuses = dict(session.execute(select(Failure.id, Failure.status)).all())
    # The failure resolved on its own before stays resolved; the group's two come back.
    assert statuses == {ids[0]: "resolved", ids[1]: "open", ids[2]: "open"}


def test_a_new_failure_reopens_a_resolved_group_as_a_regression(admin, client, session, group):
    group_action(admin, group.id, "resolve")
    post_failures(client, 1, prefix="again")
    found = refreshed(session)
    assert (found.state, found.reopened_count) == ("firing", 1)
    html = admin.get(f"/admin/groups/{group.id}").get_data(as_text=True)
    history = section(html, "State history")
    assert "receiver" in history and "(regression)" in history
    assert "regression" in admin.get("/admin/").get_data(as_text=True)


def test_several_groups_at_once_with_one_note(admin, session):
    made = [add_group(session, n, "firing") for n in (1, 2, 3)]
    session.commit()
    response = post_form(
        admin, "/admin/groups/actions", "/admin/", id=[made[0].id, made[2].id],
        action="acknowledge", note="vendor incident 4411", next="/admin/?state=open",
    )  # fmt: skip
    assert response.location == "/admin/?state=open"
    states = dict(session.execute(select(AlertGroup.id, AlertGroup.state)).all())
    assert states == {made[0].id: "acknowledged", made[1].id: "firing", made[2].id: "acknowledged"}
    notes = session.scalars(select(TriageEvent.note).where(TriageEvent.group_id.is_not(None)))
    assert list(notes) == ["vendor incident 4411"] * 2
    nothing = post_form(admin, "/admin/groups/actions", "/admin/", action="resolve")
    assert "Tick at least one group first." in admin.get(nothing.location).get_data(as_text=True)
    assert (
        post_form(admin, "/admin/groups/actions", "/admin/", id="x", action="resolve").status_code
        == 400
    )
    assert (
        post_form(
            admin, "/admin/groups/actions", "/admin/", id=made[1].id, action="delete"
        ).status_code
        == 400
    )


def test_silence_mutes_the_group_and_names_its_author(admin, session, group, worker, clock):
    page = f"/admin/groups/{group.id}"
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
    page = f"/admin/groups/{group.id}"
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


def test_unknown_ids_are_404_or_said_so(admin):
    assert admin.get("/admin/groups/987654").status_code == 404
    page = "/admin/silences"
    assert post_form(admin, "/admin/groups/987654/silence", page).status_code == 404
    assert post_form(admin, "/admin/silences/987654/expire", page).status_code == 404
    missing = post_form(admin, "/admin/groups/actions", page, id=987654, action="resolve")
    assert "1 not found" in admin.get(missing.location).get_data(as_text=True)


# -- the failure page and vendor text -------------------------------------------------------------


def test_failure_page_links_its_group(admin, session, group):
    failure_id = session.scalars(select(Failure.id)).first()
    html = admin.get(f"/admin/failures/{failure_id}").get_data(as_text=True)
    assert f'href="/admin/groups/{group.id}"' in html
    assert '<span class="badge st-open">open</span>' in html


def test_failure_outside_any_group_says_how_to_group_it(admin, session):
    failure = add_failure(session)  # written straight to the table, as before every failure was
    html = admin.get(f"/admin/failures/{failure.id}").get_data(as_text=True)
    assert "receiver groups backfill" in html


def test_vendor_text_in_labels_and_messages_is_inert(admin, client, session, rules, worker, clock):
    response = post(client, "zencoder", zencoder_payload())
    assert response.status_code == 202, response.json
    # The vendor's error class became the group's code label.
    [group] = [g for g in session.scalars(select(AlertGroup)) if SCRIPT_TAG in g.labels["code"]]
    clock.advance(seconds=31)
    worker.run_once()  # notification titles, bodies and attempts quote the vendor text too
    page = f"/admin/groups/{group.id}"
    post_form(admin, f"{page}/silence", page, duration="1h", reason=SCRIPT_TAG)
    group_action(admin, group.id, "acknowledge", SCRIPT_TAG)  # the note is shown too
    failure_id = session.scalars(select(Failure.id)).first()

    for path in (
        "/admin/",
        f"/admin/?q={SCRIPT_TAG}",
        page,
        "/admin/silences",
        f"/admin/failures/{failure_id}",
    ):
        html = admin.get(path).get_data(as_text=True)
        assert_inert(html, shown=SCRIPT_TAG)
    assert "<script>" not in admin.get(page).get_data(as_text=True)


def test_search_finds_a_group_by_a_job_id_or_the_catalogs_words(admin, client, session):
    post_failures(client, 2, prefix="tenant-42-asset")
    post_failures(client, 1, code=2404, prefix="other")
    credentials, missing = session.scalars(select(AlertGroup.id).order_by(AlertGroup.id)).all()
    assert group_links(admin.get("/admin/?q=tenant-42-asset-2007-1").get_data(as_text=True)) == [
        credentials
    ]
    # "storage credentials" is in the catalog's description of LightFlow 2007, not in a label.
    assert group_links(admin.get("/admin/?q=Storage credentials").get_data(as_text=True)) == [
        credentials
    ]
    # Two characters match labels and the catalog, not ids (no index could find those).
    assert group_links(admin.get("/admin/?q=42").get_data(as_text=True)) == []
    html = admin.get("/admin/?q=other-2404").get_data(as_text=True)
    assert group_links(html) == [missing]
    assert 'href="/admin/failures?q=other-2404"' in html  # and the messages, in the failures list
