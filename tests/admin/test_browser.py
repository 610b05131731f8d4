"""The admin in a real browser: Debian's Chromium driven by Playwright against a served app.

The app is served by Werkzeug in a thread on 127.0.0.1 with committed data (like
``committing_app``), so the browser sees exactly what an operator would. Screenshots of the list
and detail pages land in ``test-artifacts/``.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from receiver import create_app
from receiver.db import get_database
from tests.admin.conftest import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    add_failure,
    admin_settings,
    empty_tables,
)
from tests.helpers import post
from tests.servers import serving_in_thread
from tests.vendors.kits import fixture_files

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright

if not CHROMIUM.exists():
    reason = (
        "browser tests need Debian's Chromium at /usr/bin/chromium: "
        "`make browser` or `sudo apt-get install -y chromium`"
    )
    if os.environ.get("RECEIVER_BROWSER_REQUIRED"):
        raise RuntimeError(reason)  # CI installs it (make test); never skip there
    pytest.skip(reason, allow_module_level=True)


@pytest.fixture
def served(database_url: str) -> Iterator[str]:
    """The admin served on a free port, with every fixture notification (and a rejection) stored."""
    app = create_app(admin_settings(database_url))
    client = app.test_client()
    for vendor in ("zencoder", "lightflow"):
        for path in fixture_files(vendor, (".json",)):
            assert post(client, vendor, path.read_bytes()).status_code in (200, 202), path
    rejected = post(client, "lightflow", b'{"uuid": "no-status"}')
    assert rejected.status_code == 422
    seed_recent_failures(app)
    try:
        with serving_in_thread(app) as url:
            yield url
    finally:
        empty_tables(app)


def seed_recent_failures(app, count: int = 60) -> None:
    """Failures over the last two weeks with real catalog codes, so the chart has days to draw."""
    catalog = app.extensions["catalog"]
    entries = [e for vendor in ("zencoder", "lightflow") for e in catalog.entries(vendor)]
    now = datetime.now(UTC)
    with get_database(app).sessionmaker() as session:
        for n in range(count):
            entry = entries[(n * 7) % len(entries)]
            add_failure(
                session,
                vendor=entry.vendor,
                code=entry.code,
                code_name=entry.name,
                category=entry.category,
                severity=entry.severity,
                retryable=entry.retryable,
                message=entry.description,
                occurred_at=now - timedelta(hours=n * 5 + n % 3),
                fingerprint=f"browser:{n}",
            )
        session.commit()


@pytest.fixture
def page(backend: str) -> Iterator:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.problems = []  # console errors include CSP violations: there must be none
        page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
        page.on("pageerror", lambda e: page.problems.append(str(e)))
        yield page
        context.close()
        browser.close()


def test_operator_logs_in_filters_opens_replays_and_downloads(served, page, backend, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)

    page.goto(f"{served}/admin/failures")
    assert "/admin/login" in page.url
    page.fill("input[name=username]", ADMIN_USER)
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/failures")
    assert page.locator("table.failures tbody tr").count() > 10
    assert_chart_drawn(page)
    page.screenshot(path=str(ARTIFACTS / f"failures-list-{backend}.png"), full_page=True)

    # Filter: LightFlow network-side errors, kept in the URL.
    page.select_option("select[name=vendor]", "lightflow")
    page.fill("input[name=q]", "HTTP 404")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**vendor=lightflow**")
    rows = page.locator("table.failures tbody tr")
    assert rows.count() == 1
    assert "lightflow" in rows.first.inner_text() and "2404" in rows.first.inner_text()

    assert page.locator("figure.chart object").count() == 0  # no chart for text searches

    # The detail page: catalog entry, the asset, the raw notification.
    page.select_option("select[name=vendor]", "zencoder")
    page.fill("input[name=q]", "48213390")  # the job of fixtures/zencoder/output_failed.json
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**vendor=zencoder**")
    page.locator("table.failures tbody tr a").first.click()
    page.wait_for_url("**/admin/failures/*")
    assert page.locator("h2", has_text="What it means").is_visible()
    assert page.locator("pre.body").inner_text().lstrip().startswith("{")
    page.screenshot(path=str(ARTIFACTS / f"failure-detail-{backend}.png"), full_page=True)

    page.click("button:has-text('Replay notification')")
    assert page.locator(".flash.ok").inner_text().endswith(": replayed.")
    page.click("button:has-text('Acknowledge')")
    assert "1 failure acknowledged." in page.locator(".flash.ok").inner_text()
    assert page.locator(".headline .badge.st-acknowledged").is_visible()

    # The CSV of a filtered list is a download with the same rows.
    page.goto(f"{served}/admin/failures?vendor=lightflow")
    listed = page.locator("table.failures tbody tr").count()
    with page.expect_download() as download_info:
        page.click("a:has-text('CSV')")
    download = download_info.value
    assert download.suggested_filename.startswith("failures-")
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert len(rows) == listed and {row["vendor"] for row in rows} == {"lightflow"}

    # Rejected notifications, and their replay.
    page.click("nav.wide >> text=Rejected")
    page.wait_for_url("**/admin/notifications/rejected")
    assert "status" in page.locator("table.rejected tbody tr").first.inner_text()
    page.screenshot(path=str(ARTIFACTS / f"rejected-{backend}.png"), full_page=True)
    page.locator("table.rejected button:has-text('Replay')").first.click()
    assert "refused (422)" in page.locator(".flash.error").inner_text()

    assert page.problems == []


def assert_chart_drawn(page) -> None:
    """The chart's <object> loaded its SVG document (the CSP and framing headers let it), the
    bars are drawn with their tooltips, and the object takes the chart's own aspect ratio rather
    than the default 300x150."""
    embedded = page.locator("figure.chart object")
    # Playwright's content_frame() and frame_locator() only follow <iframe>/<frame>, so find the
    # object's document among the page's frames and check it is that object's.
    charts = [f for f in page.frames if urlsplit(f.url).path == "/admin/failures/chart.svg"]
    assert len(charts) == 1, f"no chart document (blocked?) in {[f.url for f in page.frames]}"
    chart = charts[0]
    assert chart.frame_element().evaluate("owner => owner.tagName") == "OBJECT"
    assert chart.frame_element().get_attribute("data") == embedded.get_attribute("data")
    chart.wait_for_load_state()
    bars = chart.locator("svg > a > rect")
    assert bars.count() > 0 and bars.first.is_visible()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d: \d+ \w+", bars.first.locator("title").text_content())
    assert "in all" in chart.locator("#caption").text_content()
    assert "could not be shown" not in embedded.inner_text()  # not the fallback
    box = embedded.bounding_box()
    width, height = (float(n) for n in chart.locator("svg").get_attribute("viewBox").split()[2:])
    assert box["width"] > 800 and abs(box["height"] - box["width"] * height / width) < 2, box
