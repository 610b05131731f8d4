"""A MediaConvert failure where the operator looks: the admin's list and failure page, the CSV
export, the JSON API and an alert, all through the generic code (nothing in them knows
MediaConvert); the caller's userMetadata is shown and found by the text search."""

from __future__ import annotations

import csv
import io
import json

import pytest
from flask import Flask

from receiver import create_app
from tests.admin.conftest import ADMIN_PASSWORD, ADMIN_USER, GENEROUS_LIMIT, admin, basic
from tests.alerts.conftest import channel, channel_session, clock, rules, rules_path, worker
from tests.conftest import make_settings
from tests.helpers import stored_failures
from tests.vendors.kits import environment, install
from tests.vendors.mediaconvert.test_mediaconvert import carried_event, post_event

# The admin's and the alert tests' fixtures, reused as they are.
__all__ = ["admin", "channel", "channel_session", "clock", "rules", "rules_path", "worker"]

ORDER = "order-7731"  # the caller's id, in the event's userMetadata


@pytest.fixture(scope="module")
def shared_app(database_url: str) -> Flask:
    """Every vendor as the tests enable them, and the admin."""
    settings = make_settings(
        database_url,
        environment(),
        admin_user=ADMIN_USER,
        admin_password=ADMIN_PASSWORD,
        admin_login_limit=GENEROUS_LIMIT,
    )
    app = create_app(settings)
    app.config["TESTING"] = True
    return install(app)


@pytest.fixture
def failure_id(client, session) -> int:
    response = post_event(client, carried_event())
    assert response.status_code == 202, response.json
    [failure] = stored_failures(session)
    return failure.id


def test_the_admin_lists_it_and_finds_it_by_the_callers_metadata(admin, failure_id):
    for query in ("vendor=mediaconvert", f"q={ORDER}", "q=TRAILER-42"):
        html = admin.get(f"/admin/failures?{query}").get_data(as_text=True)
        assert f'href="/admin/failures/{failure_id}"' in html, query
        assert "1010" in html and "File access error" in html
    missing = admin.get("/admin/failures?q=order-0000").get_data(as_text=True)
    assert f'href="/admin/failures/{failure_id}"' not in missing


def test_the_failure_page_shows_the_catalog_entry_and_the_job_metadata(admin, failure_id):
    html = admin.get(f"/admin/failures/{failure_id}").get_data(as_text=True)
    for text in (
        "mediaconvert 1010",
        "File access error",
        "1718007331050-a1b2c3",  # the job
        "Job attributes",
        ORDER,
        "eu-west-1",
        "https://docs.aws.amazon.com/mediaconvert/latest/ug/mediaconvert_error_codes.html#1010",
    ):
        assert text in html, text


def test_the_csv_export_has_it(admin, failure_id):
    text = admin.get(f"/admin/failures.csv?q={ORDER}").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["vendor"], r["code"], r["category"]) for r in rows] == [
        ("mediaconvert", "1010", "input")
    ]


def test_the_api_has_it(client, failure_id):
    listing = client.get(
        "/api/failures", query_string={"vendor": "mediaconvert", "q": ORDER}, headers=basic()
    )
    assert listing.status_code == 200
    [item] = listing.json["items"]
    assert (item["id"], item["code"], item["job_id"]) == (
        failure_id,
        "1010",
        "1718007331050-a1b2c3",
    )
    detail = client.get(f"/api/failures/{failure_id}", headers=basic()).json
    assert json.dumps(detail).count("File access error") >= 1


def test_an_alert_says_what_failed_and_what_to_do(client, session, channel, worker, clock, rules):
    assert post_event(client, carried_event()).status_code == 202
    clock.advance(seconds=31)
    worker.run_once()
    [hook] = channel.delivered("/hook")
    assert hook["title"].startswith("[FIRING] mediaconvert input 1010: 1 failure in 1 job")
    assert "What to do:" in hook["message"]
    assert "job's IAM role can read it" in hook["message"]
    assert "<" not in hook["title"]  # plain text
