"""The failures list: filters, keyset pages, the chart; the detail page and its actions."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from receiver.admin.query import Cursor, FailureFilters, failure_page
from receiver.models import Failure, Notification
from tests.admin.conftest import BASE_TIME, add_failure, csrf_token
from tests.helpers import fixture_bytes, post


def failure_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/admin/failures/(\d+)"', html)]


def test_list_shows_the_operator_columns(admin, session):
    failure = add_failure(
        session,
        vendor="zencoder",
        job_external_id="48213390",
        label="mp4-1080p",
        code="UnableToResolveHostError",
        code_name="unable_to_resolve_host",
        category="upload",
        severity="warning",
        retryable="backoff",
        message="There was a problem resolving the host",
        backup_server_used=True,
        occurred_at=BASE_TIME,
    )
    html = admin.get("/admin/failures").get_data(as_text=True)
    assert failure_ids(html) == [failure.id]
    for text in (
        "48213390",
        "mp4-1080p",
        "UnableToResolveHostError",
        "unable_to_resolve_host",
        "upload",
        "warning",
        "backoff",
        "There was a problem resolving the host",
        "backup",
        "open",
        "2026-11-01 12:00:00",
    ):
        assert text in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("vendor=lightflow", {"lf"}),
        ("category=network", {"net"}),
        ("severity=critical", {"crit"}),
        ("code=2404", {"lf"}),
        ("status=resolved", {"done"}),
        ("since=2026-10-20&until=2026-10-20", {"old"}),
        ("until=2026-10-25", {"old"}),
        ("q=SPECIAL-JOB", {"net"}),  # job id, case-insensitive substring
        ("q=needle", {"crit"}),  # message
        ("q=hls-720", {"done"}),  # output label
        ("q=out-xyz", {"lf"}),  # output id
        ("q=100%25", {"pct"}),  # LIKE wildcards are literal
        ("vendor=zencoder&category=network&q=special", {"net"}),
        ("vendor=lightflow&category=network", set()),
    ],
)
def test_filters_combine_and_stay_in_the_links(admin, session, query, expected):
    rows = {
        "lf": add_failure(session, vendor="lightflow", code="2404", file_external_id="out-xyz"),
        "net": add_failure(session, category="network", job_external_id="special-job-1"),
        "crit": add_failure(session, severity="critical", message="a needle in here"),
        "done": add_failure(session, status="resolved", label="hls-720p"),
        "old": add_failure(session, occurred_at=BASE_TIME - timedelta(days=12)),
        "pct": add_failure(session, message="disk 100% full"),
        "plain": add_failure(session, message="100 percent"),
    }
    response = admin.get(f"/admin/failures?{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert set(failure_ids(html)) == {rows[name].id for name in expected}
    # The CSV link carries the same filters.
    csv_link = re.search(r'href="(/admin/failures\.csv[^"]*)"', html).group(1)
    assert admin.get(csv_link.replace("&amp;", "&")).get_data(as_text=True).count("\n") == (
        len(expected) + 1
    )


def test_invalid_filters_are_shown_not_crashed_on(admin):
    response = admin.get("/admin/failures?severity=apocalyptic&since=yesterday")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "severity" in html and "since" in html


def test_keyset_pages_return_every_row_exactly_once(admin, session):
    # Ties on occurred_at (several failures in the same second) must not lose or repeat rows.
    created = []
    for n in range(23):
        created.append(add_failure(session, occurred_at=BASE_TIME - timedelta(seconds=n // 4)))
    seen: list[int] = []
    url = "/admin/failures?limit=5"
    pages = 0
    while url:
        html = admin.get(url).get_data(as_text=True)
        seen += failure_ids(html)
        pages += 1
        match = re.search(r'href="([^"]+)" rel="next"', html)
        url = match.group(1).replace("&amp;", "&") if match else None
    assert pages == 5
    assert len(seen) == len(set(seen)) == 23
    expected = sorted(created, key=lambda f: (f.occurred_at, f.id), reverse=True)
    assert seen == [f.id for f in expected]


def test_keyset_pages_with_filters_through_the_query_layer(session):
    wanted = {add_failure(session, category="drm", occurred_at=BASE_TIME).id for _ in range(7)}
    for _ in range(5):
        add_failure(session, category="network", occurred_at=BASE_TIME)
    seen, cursor = [], None
    while True:
        page = failure_page(session, FailureFilters(category="drm"), cursor, 3)
        seen += [row.id for row in page.rows]
        if page.next_cursor is None:
            break
        cursor = Cursor.decode(page.next_cursor.encode())
    assert sorted(seen) == sorted(wanted) and len(seen) == 7


@pytest.mark.parametrize("cursor", ["garbage", "bm90LWEtY3Vyc29y", "MjAyNi0xMS0wMXwx"])
def test_a_forged_cursor_is_a_400(admin, cursor):
    assert admin.get(f"/admin/failures?cursor={cursor}").status_code == 400


def test_chart_counts_failures_per_day_by_category(admin, session):
    add_failure(session, category="network", occurred_at=BASE_TIME)
    add_failure(session, category="network", occurred_at=BASE_TIME)
    add_failure(session, category="drm", occurred_at=BASE_TIME - timedelta(days=1))
    html = admin.get("/admin/failures?since=2026-10-25&until=2026-11-01").get_data(as_text=True)
    assert "<svg" in html
    assert "2026-11-01: 2 network" in html
    assert "2026-10-31: 1 drm" in html
    assert "3 in all" in html


def test_detail_page_shows_catalog_outputs_and_raw_notification(admin, client, session):
    response = post(client, "zencoder", fixture_bytes("zencoder", "output_backup_server_used.json"))
    assert response.status_code == 202
    failure = session.query(Failure).filter_by(notification_id=response.json["id"]).one()
    html = admin.get(f"/admin/failures/{failure.id}").get_data(as_text=True)
    assert "UnableToResolveHostError" in html
    entry = admin.application.extensions["catalog"].lookup("zencoder", failure.code)
    assert str(entry.action)[:40].replace("'", "&#39;") in html
    # primary_upload_error_link is a real link; the raw body is shown pretty-printed.
    assert 'href="https://app.zencoder.com/docs/errors/UnableToResolveHostError"' in html
    assert "&#34;backup_server_used&#34;: true" in html or "&#34;backup_server_used&#34;" in html
    assert "172151" in html  # job id


def test_acknowledge_and_resolve(admin, session):
    failure = add_failure(session)
    url = f"/admin/failures/{failure.id}"
    for status in ("acknowledged", "resolved", "open"):
        response = admin.post(
            f"{url}/status", data={"status": status, "csrf_token": csrf_token(admin, url)}
        )
        assert response.status_code == 302
        session.refresh(failure)
        assert failure.status == status
        assert f"is now {status}" in admin.get(url).get_data(as_text=True)


def test_unknown_status_is_refused(admin, session):
    failure = add_failure(session)
    url = f"/admin/failures/{failure.id}"
    response = admin.post(
        f"{url}/status", data={"status": "deleted", "csrf_token": csrf_token(admin, url)}
    )
    assert response.status_code == 400


def test_replay_from_the_detail_page(admin, client, session):
    response = post(client, "zencoder", fixture_bytes("zencoder", "output_failed.json"))
    notification = session.get(Notification, response.json["id"])
    failure = session.query(Failure).filter_by(notification_id=notification.id).one()
    url = f"/admin/failures/{failure.id}"
    response = admin.post(f"{url}/replay", data={"csrf_token": csrf_token(admin, url)})
    assert response.status_code == 302
    session.refresh(notification)
    assert notification.replayed_at is not None
    assert f"Replayed notification {notification.id}: replayed." in admin.get(url).get_data(
        as_text=True
    )


def test_rejected_page_lists_and_replays(admin, client, session):
    body = fixture_bytes("lightflow", "asset_error_2404.json")
    rejected = post(client, "lightflow", body, headers={}).json["id"]  # 401: no token
    html = admin.get("/admin/notifications/rejected").get_data(as_text=True)
    assert f'/admin/notifications/{rejected}"' in html
    assert "missing credentials" in html
    url = f"/admin/notifications/{rejected}"
    response = admin.post(f"{url}/replay", data={"csrf_token": csrf_token(admin, url)})
    assert response.status_code == 302
    notification = session.get(Notification, rejected)
    session.refresh(notification)
    assert notification.status == "stored"  # authentication is not repeated on replay
    assert session.query(Failure).filter_by(notification_id=rejected).count() == 1


def test_missing_failure_is_404(admin):
    assert admin.get("/admin/failures/999999").status_code == 404
