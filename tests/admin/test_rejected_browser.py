"""The rejected-notifications page in a real browser, at a desktop's and a phone's width: groups
by vendor and reason, rows, bulk replay with its confirmation, and no sideways scrolling.
Screenshots go to test-artifacts/."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import update

from receiver import create_app
from receiver.db import get_database
from receiver.models import Notification
from tests.admin.conftest import ADMIN_PASSWORD, ADMIN_USER, admin_settings, empty_tables
from tests.admin.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, sync_playwright
from tests.helpers import fixture_bytes, post
from tests.servers import serving_in_thread

WIDTHS = {"desktop": 1440, "phone": 390}
LONG_ID = "c3a6d9e2-4f5b-4c7d-8e1f-2a3b4c5d6e7f" * 3


@pytest.fixture
def served(database_url: str) -> Iterator[str]:
    """Rejections an operator meets: a rotated token (many 401s), and a sender that labelled
    its JSON text/plain (415s) for a while: stored as JSON now, so their replay creates failures."""
    app = create_app(admin_settings(database_url))
    client = app.test_client()
    for n in range(7):
        body = json.loads(fixture_bytes("zencoder", "output_failed.json"))
        body["job"]["id"] = f"{LONG_ID}-{n}"
        assert post(client, "zencoder", json.dumps(body).encode(), headers={}).status_code == 401
    for n in range(2):
        payload = json.loads(fixture_bytes("lightflow", "asset_error_2404.json"))
        payload["uuid"] = f"{LONG_ID}-{n}"
        body = json.dumps(payload).encode()
        refused = post(client, "lightflow", body, content_type="text/plain")
        assert refused.status_code == 415
        with get_database(app).engine.begin() as connection:
            connection.execute(
                update(Notification)
                .where(Notification.id == refused.json["id"])
                .values(content_type="application/json")
            )
    try:
        with serving_in_thread(app) as url:
            yield url
    finally:
        empty_tables(app)


def no_sideways_scroll(page) -> None:
    overflow = page.evaluate(
        """() => {
          // This page's content; the shared header's layout is the admin layout's (#18).
          const wide = [];
          const main = document.querySelector('main');
          if (main.scrollWidth > main.clientWidth) wide.push(`main ${main.scrollWidth}`);
          for (const el of main.querySelectorAll('table, .table-wrap, .card')) {
            if (el.scrollWidth > el.clientWidth + 1) wide.push(`${el.className} ${el.scrollWidth}`);
          }
          return wide;
        }"""
    )
    assert overflow == [], overflow


@pytest.mark.parametrize("device", WIDTHS)
def test_rejected_page_groups_replays_and_fits(served, backend, device):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": WIDTHS[device], "height": 900})
        page.set_default_timeout(10_000)
        problems: list[str] = []
        page.on("console", lambda m: m.type == "error" and problems.append(m.text))
        page.goto(f"{served}/admin/notifications/rejected")
        page.fill("input[name=username]", ADMIN_USER)
        page.fill("input[name=password]", ADMIN_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/admin/notifications/rejected")

        groups = page.locator("ul.groups li")
        assert groups.count() == 2
        assert "7 \u00d7 zencoder unauthorized" in groups.nth(1).inner_text()
        assert "token rotated?" in groups.nth(1).inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"rejected-{device}-{backend}.png"), full_page=True)
        page.screenshot(path=str(ARTIFACTS / f"rejected-{device}-top-{backend}.png"))
        no_sideways_scroll(page)

        # The 401s are evidence: no checkbox, and the row says why.
        page.click("ul.groups li >> text=zencoder")
        page.wait_for_url("**reason=unauthorized**")
        assert page.locator("table.rejected tbody tr").count() == 7
        assert page.locator("input[name=id]").count() == 0
        assert "not replayable: token not verified" in page.locator("td.replay").first.inner_text()

        # The 422s can be replayed together; a replay that would create failures asks first.
        page.click("ul.groups li >> text=lightflow")
        page.wait_for_url("**reason=unsupported_media_type**")
        for box in page.locator("input[name=id]").all():
            box.check()
        page.click("button:has-text('Replay selected')")
        assert page.locator("h1").inner_text() == "Replay 2 notifications?"
        no_sideways_scroll(page)
        page.screenshot(
            path=str(ARTIFACTS / f"replay-confirm-{device}-{backend}.png"), full_page=True
        )
        assert "This would create 2 failures" in page.locator("main").inner_text()
        page.click("button:has-text('Replay and create 2 failures')")
        page.wait_for_url("**/admin/notifications/rejected")
        assert "Replay: 2 replayed (2 replayed)." in page.locator(".flash.ok").inner_text()

        page.locator("td a").first.click()
        page.wait_for_url("**/admin/notifications/*")
        no_sideways_scroll(page)
        page.screenshot(
            path=str(ARTIFACTS / f"notification-{device}-{backend}.png"), full_page=True
        )
        assert problems == []
        browser.close()
