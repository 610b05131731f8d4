"""The alert pages in Chromium: an operator opens a firing group, silences and acknowledges it,
then expires the silence; no CSP violation or script error on the way. Screenshots of the
list, a group and the silences land in ``test-artifacts/``.

Uses the browser set-up of ``test_browser`` (which skips without Chromium); data is committed
through real ingest with rules whose channel is a local HTTP server, and one worker round.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from receiver import create_app
from receiver.alerts.rules import load_rules
from receiver.alerts.worker import build_worker
from receiver.db import get_database
from receiver.models import AlertNotification
from tests.admin import test_browser
from tests.admin.conftest import ADMIN_PASSWORD, ADMIN_USER, admin_settings, empty_tables
from tests.alerts.conftest import RULES, ChannelServer, Clock, serve_channel
from tests.helpers import FIXTURES, post
from tests.servers import serving_in_thread
from tests.vendors.kits import fixture_files

ARTIFACTS = test_browser.ARTIFACTS
page = test_browser.page  # the Chromium page fixture


@pytest.fixture
def served(database_url: str, tmp_path) -> Iterator[str]:
    recorder = ChannelServer()
    channel = serve_channel(recorder)
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES.format(port=recorder.port))
    app = create_app(admin_settings(database_url))
    app.extensions["alert_rules"] = load_rules(rules)
    client = app.test_client()
    for vendor in ("zencoder", "lightflow"):
        for path in fixture_files(vendor, (".json",)):
            assert post(client, vendor, path.read_bytes()).status_code in (200, 202), path
    template = json.loads((FIXTURES / "lightflow" / "asset_error_2007.json").read_text())
    for number in range(5):
        body = {**template, "uuid": f"browser-{number}"}
        assert post(client, "lightflow", json.dumps(body).encode()).status_code == 202
    with get_database(app).sessionmaker() as session:
        waiting = session.scalar(
            select(func.count())
            .select_from(AlertNotification)
            .where(AlertNotification.channel == "hook")
        )
    recorder.script["/hook"] = [500] * waiting  # every webhook fails once, then goes through
    clock = Clock()
    clock.advance(seconds=31)
    build_worker(app, clock=clock, name="browser-worker").run_once()
    clock.advance(minutes=1)
    build_worker(app, clock=clock, name="browser-worker").run_once()
    try:
        with serving_in_thread(app) as url:
            yield url
    finally:
        channel.shutdown()
        empty_tables(app)


def test_operator_silences_acknowledges_and_unsilences_a_group(served, page, backend):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{served}/admin/login")
    page.fill("input[name=username]", ADMIN_USER)
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")
    assert page.locator("table.groups tbody tr").count() > 5

    page.click("nav.tabs >> text=Open")
    page.wait_for_url("**state=open")
    row = page.locator("table.groups tbody tr", has_text="credentials").filter(has_text="2007")
    row.locator("a.title").click()
    page.wait_for_url("**/admin/groups/*")
    attempts = page.locator("table.attempts tbody tr")
    assert attempts.count() == 3  # hook: error then ok; pd: ok
    assert page.locator("table.attempts .st-error").count() == 1
    page.screenshot(path=str(ARTIFACTS / f"alert-detail-{backend}.png"), full_page=True)

    page.fill("input[name=duration]", "4h")
    page.fill("input[name=reason]", "LightFlow credentials being rotated")
    page.click("button:has-text('Silence')")
    assert "mutes this group's labels" in page.locator(".flash").inner_text()
    assert page.locator(".headline .badge.st-silenced").is_visible()
    assert "LightFlow credentials being rotated" in page.locator("dl.fields").last.inner_text()

    page.locator("form.triage button:has-text('Acknowledge')").click()
    assert "acknowledged" in page.locator(".flash.ok").inner_text()
    assert page.locator(".headline .badge.st-acknowledged").is_visible()
    assert ADMIN_USER in page.locator("ol.events").inner_text()

    page.click("nav.wide >> text=Silences")
    page.wait_for_url("**/admin/silences")
    assert ADMIN_USER in page.locator("table.silences tbody tr").first.inner_text()
    page.screenshot(path=str(ARTIFACTS / f"silences-{backend}.png"), full_page=True)
    page.click("button:has-text('Expire now')")
    assert "expired" in page.locator(".flash.ok").inner_text()
    assert page.locator("table.silences .st-expired").count() == 1

    assert page.problems == []
