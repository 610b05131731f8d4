"""The on-call operator's morning in Chromium, on realistic data from all five senders
(``operator_data``): the grouped page -> a group -> a failure -> acknowledge (the group and its
failures change together) -> resolve (the local PagerDuty fake receives ``resolve``); a bulk
resolve from the landing page; the chart's bars open the filtered list; and no admin page
scrolls sideways at 1440 or 390 px, neither the page nor any table. Screenshots of every page
at both widths land in ``test-artifacts/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from receiver.alerts.rules import load_rules
from receiver.alerts.worker import build_worker
from receiver.db import get_database, utcnow
from receiver.models import AlertGroup, Failure, Notification
from tests.admin import test_browser
from tests.admin.conftest import ADMIN_PASSWORD, ADMIN_USER, empty_tables
from tests.admin.operator_data import operator_app, seed
from tests.alerts.conftest import RULES, ChannelServer, Clock, serve_channel
from tests.servers import serving_in_thread

ARTIFACTS = test_browser.ARTIFACTS
CHROMIUM, CHROMIUM_ARGS = test_browser.CHROMIUM, test_browser.CHROMIUM_ARGS
sync_playwright = test_browser.sync_playwright
WIDTHS = (1440, 390)


@pytest.fixture
def morning(database_url: str, tmp_path) -> Iterator[dict]:
    """The seeded app served on a free port, its alerts fired once to the local channel."""
    recorder = ChannelServer()
    channel = serve_channel(recorder)
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES.format(port=recorder.port))
    app = operator_app(database_url)
    app.extensions["alert_rules"] = load_rules(rules)
    seeded = seed(app)
    clock = Clock()
    clock.advance(seconds=31)
    build_worker(app, clock=clock, name="browser-worker").run_once()
    try:
        with serving_in_thread(app) as url:
            yield {"url": url, "app": app, "channel": recorder, **seeded}
    finally:
        channel.shutdown()
        empty_tables(app)


@pytest.fixture
def browser() -> Iterator:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def open_page(browser, base: str, width: int, log_in: bool = True):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.problems = []  # console errors include CSP violations: there must be none
    page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    if log_in:
        page.goto(f"{base}/admin/login")
        page.fill("input[name=username]", ADMIN_USER)
        page.fill("input[name=password]", ADMIN_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/admin/")
    return page


def group_row(page, text: str):
    return page.locator("table.groups tbody tr", has_text=text).first


def test_grouped_page_group_failure_acknowledge_resolve(morning, browser, backend):
    base, app = morning["url"], morning["app"]
    page = open_page(browser, base, 1440)

    # One row for the S3 outage (30 failures of 15 outputs), not 30 rows.
    outage = group_row(page, "UploadAccessDeniedError")
    assert "30" in outage.locator("td[data-label=Failures]").inner_text()
    assert outage.locator("td[data-label=Jobs]").inner_text().strip() == "15"
    assert "backup copies" in outage.inner_text() and "First save the output" in outage.inner_text()
    assert outage.locator("svg.trend rect").count() >= 1
    outage.locator("a.title").click()
    page.wait_for_url(f"**/admin/groups/{morning['outage_group']}")
    assert "Backup copies: save them before they expire" in page.content()
    page.locator("table.failures tbody tr a").first.click()
    page.wait_for_url("**/admin/failures/*")
    assert page.locator(".backup-callout h2").inner_text().startswith("Backup copy available until")

    # Back on the group: acknowledge it with a note; the group and its failures change together.
    page.locator(".crumbs a", has_text="#").click()
    page.fill("form.triage input[name=note]", "S3 keys rotated at 08:40, fixing the policy")
    page.locator("form.triage button", has_text="Acknowledge").click()
    assert "1 group acknowledged (30 failures with them)." in page.locator(".flash.ok").inner_text()
    assert page.locator(".headline .badge.st-acknowledged").is_visible()
    statuses = page.locator("table.failures td[data-label=Status]").all_inner_texts()
    assert statuses and {s.strip() for s in statuses} == {"acknowledged"}
    history = page.locator("ol.events").inner_text()
    assert ADMIN_USER in history and "S3 keys rotated at 08:40" in history
    page.screenshot(path=str(ARTIFACTS / f"group-acknowledged-{backend}.png"), full_page=True)

    # Resolve: PagerDuty (the local fake) gets "resolve" for the incident it opened.
    page.locator("form.triage button", has_text="Resolve").click()
    assert "1 group resolved (30 failures with them)." in page.locator(".flash.ok").inner_text()
    with get_database(app).sessionmaker() as session:
        group = session.get(AlertGroup, morning["outage_group"])
        assert group.state == "resolved"
        assert set(
            session.scalars(select(Failure.status).where(Failure.code == group.labels["code"]))
        ) == {"resolved"}
    clock = Clock()
    clock.now = utcnow() + timedelta(seconds=1)
    build_worker(app, clock=clock, name="browser-worker").run_once()
    events = [
        body
        for body in morning["channel"].delivered("/pd")
        if body["dedup_key"] == group.fingerprint
    ]
    assert [body["event_action"] for body in events] == ["trigger", "resolve"]
    assert page.problems == []


def test_bulk_resolve_from_the_landing_page(morning, browser, backend):
    page = open_page(browser, morning["url"], 1440)
    first, second = (group_row(page, text) for text in ("FAILURE_STOP", "PutMedia.Success"))
    first.locator("input[type=checkbox]").check()
    second.locator("input[type=checkbox]").check()
    page.fill("form.bulk input[name=note]", "Agora and the front door cam recovered")
    page.locator("form.bulk .bulk-bar button", has_text="Resolve").click()
    page.wait_for_url("**/admin/**")
    assert re.match(
        r"2 groups resolved \(\d+ failures with them\)\.", page.locator(".flash.ok").inner_text()
    )
    resolved = page.locator("table.groups tbody tr.triage-resolved").all_inner_texts()
    assert any("FAILURE_STOP" in row for row in resolved)
    assert any("PutMedia.Success" in row for row in resolved)
    page.screenshot(path=str(ARTIFACTS / f"groups-after-bulk-{backend}.png"), full_page=True)
    assert page.problems == []


def test_a_chart_bar_opens_the_failures_of_that_day_and_category(morning, browser):
    page = open_page(browser, morning["url"], 1440)
    page.goto(f"{morning['url']}/admin/failures")
    [chart] = [f for f in page.frames if urlsplit(f.url).path == "/admin/failures/chart.svg"]
    chart.wait_for_load_state()
    bar = chart.locator("svg > a").last  # today's top segment
    title = bar.locator("rect > title").text_content()
    day, number, category = re.fullmatch(r"(\S+): (\d+) (\S+)", title).groups()
    bar.locator("rect").click()
    page.wait_for_url("**/admin/failures?**")
    query = parse_qs(urlsplit(page.url).query)
    assert (query["since"], query["until"]) == ([day], [day])
    if category != "other":
        assert query["category"] == [category]
    assert page.locator("table.failures tbody tr").count() == int(number)
    assert page.problems == []


def admin_pages(morning, app) -> list[tuple[str, str]]:
    """Every kind of admin page, with the data that makes it long or wide."""
    with get_database(app).sessionmaker() as session:

        def failure(vendor: str, code: str | None = None) -> int:
            query = select(Failure.id).where(Failure.vendor == vendor)
            if code:
                query = query.where(Failure.code == code)
            return session.scalars(query.order_by(Failure.id.desc())).first()

        rejected = session.scalars(
            select(Notification.id).where(Notification.status == "rejected")
        ).first()
        kvs_group = session.scalars(
            select(AlertGroup.id).where(AlertGroup.labels["vendor"].as_string() == "kvs")
        ).first()
    return [
        ("groups", "/admin/"),
        ("groups-open-24h", "/admin/?state=open&period=24h&refresh=60"),
        ("group-outage", f"/admin/groups/{morning['outage_group']}"),
        ("group-kvs", f"/admin/groups/{kvs_group}"),
        ("failures", "/admin/failures"),
        ("failures-lightflow", "/admin/failures?vendor=lightflow&q=customer"),
        (
            "failure-zencoder-backup",
            f"/admin/failures/{failure('zencoder', 'UploadAccessDeniedError')}",
        ),
        ("failure-kvs", f"/admin/failures/{failure('kvs')}"),
        ("failure-lightflow", f"/admin/failures/{failure('lightflow', '2404')}"),
        ("failure-agora", f"/admin/failures/{failure('agora')}"),
        ("failure-cloudwatch", f"/admin/failures/{failure('cloudwatch')}"),
        ("backups", "/admin/backups"),
        ("rejected", "/admin/notifications/rejected"),
        ("notification", f"/admin/notifications/{rejected}"),
        ("silences", "/admin/silences"),
    ]


#: Elements that overflow sideways, or scroll sideways in their own box: none may, but a <pre>
#: of a raw body (it scrolls within its own box by design).
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const problems = [];
  if (document.documentElement.scrollWidth > width) {
    problems.push(`page ${document.documentElement.scrollWidth}px wide in ${width}px`);
  }
  for (const el of document.querySelectorAll('main *')) {
    if (el.closest('pre') || el.closest('details:not([open])')) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    const label = `${el.tagName.toLowerCase()}.${el.className || ''}`;
    if (box.right > width + 0.5 || box.left < -0.5) {
      problems.push(`${label} spans ${Math.round(box.left)}..${Math.round(box.right)}px`);
    }
    if ((el.tagName === 'TABLE' || el.matches('.table-wrap')) && el.scrollWidth > el.clientWidth + 1) {
      problems.push(`${label} scrolls: ${el.scrollWidth}px in ${el.clientWidth}px`);
    }
  }
  return problems.slice(0, 12);
}"""


def test_no_admin_page_scrolls_sideways_at_1440_or_390_px(morning, browser, backend):
    ARTIFACTS.mkdir(exist_ok=True)
    base = morning["url"]
    pages = admin_pages(morning, morning["app"])
    for width in WIDTHS:
        page = open_page(browser, base, width)
        # A silence, so its page has a row; made through the group page's form.
        page.goto(f"{base}/admin/groups/{morning['acknowledged_group']}")
        page.fill("input[name=reason]", "Zencoder ticket 48213: encoder fleet being replaced")
        page.click("button:has-text('Silence alerts')")
        for name, path in pages:
            response = page.goto(f"{base}{path}")
            assert response.status == 200, (path, response.status)
            page.screenshot(path=str(ARTIFACTS / f"{name}-{width}-{backend}.png"), full_page=True)
            problems = page.evaluate(OVERFLOW)
            assert problems == [], (width, path, problems)
        assert page.problems == [], width
        page.context.close()
    login = open_page(browser, base, 390, log_in=False)
    login.goto(f"{base}/admin/login")
    login.screenshot(path=str(ARTIFACTS / f"login-390-{backend}.png"), full_page=True)
    assert login.evaluate(OVERFLOW) == []


def test_on_a_phone_rows_are_cards_and_the_nav_folds(morning, browser):
    page = open_page(browser, morning["url"], 390)
    assert not page.locator("header nav.wide").is_visible()
    assert page.locator("details.menu summary").is_visible()
    assert not page.locator("details.menu nav a", has_text="Backup copies").is_visible()
    page.locator("details.menu summary").click()
    page.locator("details.menu nav a", has_text="Backup copies").click()
    page.wait_for_url("**/admin/backups")
    # "Log out" stays readable: light text on the dark header.
    color = page.locator("header .logout button").evaluate("b => getComputedStyle(b).color")
    assert min(int(n) for n in re.findall(r"\d+", color)[:3]) > 180, color
    # A group is a card: its cells stacked, each labelled, none of the table's header shown.
    page.goto(f"{morning['url']}/admin/")
    row = page.locator("table.groups tbody tr").first
    assert row.evaluate("r => getComputedStyle(r).display") == "block"
    head = page.locator("table.groups thead").bounding_box()  # kept for screen readers only
    assert head["width"] <= 1 and head["height"] <= 1
    label = row.locator("td[data-label=Failures]").evaluate(
        "td => getComputedStyle(td, '::before').content"
    )
    assert label == '"Failures"'
    box = row.bounding_box()
    assert box["width"] <= 390 and box["height"] < 450
