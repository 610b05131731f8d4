"""The failures list: filters, keyset pages, the chart; the detail page and its actions."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qs

import pytest

from receiver.db import utcnow
from receiver.failures import Cursor, FailureFilters, failure_page
from receiver.models import Failure, Notification
from tests.admin.conftest import BASE_TIME, add_failure, basic, csrf_token
from tests.helpers import fixture_bytes, post

SVG = "{http://www.w3.org/2000/svg}"


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
        "backup copy",
        "open",
        'title="2026-11-01 12:00 UTC"',  # the absolute time of a relative one ("… days ago")
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
        ("q=ORDER-77", {"meta"}),  # the job's attributes (a caller's metadata)
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
        "meta": add_failure(session, job_attributes={"user_metadata": {"order": "order-7731"}}),
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


def chart_document(response) -> ET.Element:
    """The chart endpoint's answer, parsed as the XML document a browser would parse."""
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.get_data())
    assert root.tag == f"{SVG}svg"
    return root


def bar_titles(root: ET.Element) -> list[str]:
    return [rect.find(f"{SVG}title").text for rect in root.iter(f"{SVG}rect") if len(rect)]


def legend(root: ET.Element) -> dict[str, int]:
    """Category -> total, from the legend's text elements ("category <tspan>total</tspan>")."""
    group = root.find(f"{SVG}g")
    return {
        text.text.strip(): int(text.find(f"{SVG}tspan").text) for text in group.iter(f"{SVG}text")
    }


def test_chart_counts_failures_per_day_by_category(admin, session):
    add_failure(session, category="network", occurred_at=BASE_TIME)
    add_failure(session, category="network", occurred_at=BASE_TIME)
    add_failure(session, category="drm", occurred_at=BASE_TIME - timedelta(days=1))
    add_failure(session, category="drm", occurred_at=BASE_TIME - timedelta(days=30))  # outside
    root = chart_document(admin.get("/admin/failures/chart.svg?since=2026-10-25&until=2026-11-01"))
    assert sorted(bar_titles(root)) == ["2026-10-31: 1 drm", "2026-11-01: 2 network"]
    caption = root.find(f"{SVG}text[@id='caption']").text
    assert caption.endswith("2026-10-25 to 2026-11-01 (UTC) — 3 in all"), caption
    assert legend(root) == {"drm": 1, "network": 2}
    day_labels = [t.text for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "middle"]
    assert day_labels[0] == "Oct 25" and "Nov 01" in day_labels


def test_chart_of_a_long_range_says_it_is_truncated(admin):
    root = chart_document(admin.get("/admin/failures/chart.svg?since=2020-01-01&until=2026-11-01"))
    caption = root.find(f"{SVG}text[@id='caption']").text
    assert "2026-05-06 to 2026-11-01 (UTC), the last days of a longer range — 0 in all" in caption


def test_chart_applies_the_filters(admin, session):
    add_failure(session, vendor="lightflow", category="network", occurred_at=BASE_TIME)
    add_failure(session, vendor="zencoder", category="network", occurred_at=BASE_TIME)
    add_failure(session, vendor="zencoder", category="drm", occurred_at=BASE_TIME)
    add_failure(
        session, vendor="zencoder", category="drm", status="resolved", occurred_at=BASE_TIME
    )
    url = "/admin/failures/chart.svg?until=2026-11-01"
    assert legend(chart_document(admin.get(url))) == {"network": 2, "drm": 2}
    assert legend(chart_document(admin.get(f"{url}&vendor=zencoder"))) == {"network": 1, "drm": 2}
    only = admin.get(f"{url}&vendor=zencoder&category=drm&status=open")
    assert bar_titles(chart_document(only)) == ["2026-11-01: 1 drm"]


def test_chart_refuses_text_searches_and_invalid_filters(admin):
    assert admin.get("/admin/failures/chart.svg?q=network").status_code == 400
    assert admin.get("/admin/failures/chart.svg?since=yesterday").status_code == 400


def test_chart_requires_login(client):
    response = client.get("/admin/failures/chart.svg?vendor=zencoder")
    assert response.status_code == 302
    assert "/admin/login" in response.headers["Location"]
    assert client.get("/admin/failures/chart.svg", headers=basic("x", "wrong")).status_code == 401
    assert client.get("/admin/failures/chart.svg", headers=basic()).status_code == 200


def test_chart_may_be_embedded_by_the_admin_only_and_is_never_stored(admin, session):
    add_failure(session, category="network", occurred_at=BASE_TIME)
    url = "/admin/failures/chart.svg?until=2026-11-01"
    response = admin.get(url)
    assert response.headers["Content-Type"] == "image/svg+xml; charset=utf-8"
    assert (
        response.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'self'"
    )
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # Like every authenticated response (issue #17): a browser keeps no copy.
    assert response.headers["Cache-Control"] == "no-store"
    add_failure(session, category="network", occurred_at=BASE_TIME)
    assert bar_titles(chart_document(admin.get(url))) == ["2026-11-01: 2 network"]
    # The page that embeds it may embed objects but is itself never framed.
    page = admin.get("/admin/failures").headers
    assert "object-src 'self'" in page["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]
    assert page["X-Frame-Options"] == "DENY"
    assert page["Cache-Control"] == "no-store"


def chart_objects(html: str) -> list[dict[str, str]]:
    class Objects(HTMLParser):
        found: list[dict[str, str]] = []

        def handle_starttag(self, tag, attrs):
            if tag == "object":
                self.found.append(dict(attrs))

    parser = Objects()
    parser.found = []
    parser.feed(html)
    return parser.found


def test_list_embeds_the_chart_of_its_filters(admin, session):
    # The embedded chart covers the last 30 days, whatever day the test runs.
    for _ in range(3):
        add_failure(session, vendor="lightflow", category="network", occurred_at=utcnow())
    html = admin.get("/admin/failures?vendor=lightflow&category=network&limit=2").get_data(
        as_text=True
    )
    (embedded,) = chart_objects(html)
    assert embedded["type"] == "image/svg+xml"
    path, _, query = embedded["data"].partition("?")
    assert path == "/admin/failures/chart.svg"
    assert parse_qs(query) == {"vendor": ["lightflow"], "category": ["network"]}  # no limit
    assert legend(chart_document(admin.get(embedded["data"]))) == {"network": 3}
    assert "could not be shown" in html  # the fallback inside <object>
    # Later pages and text searches have no chart at all.
    next_page = re.search(r'href="([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
    assert chart_objects(admin.get(next_page).get_data(as_text=True)) == []
    searched = admin.get("/admin/failures?vendor=lightflow&q=message").get_data(as_text=True)
    assert chart_objects(searched) == [] and 'class="chart' not in searched


def test_detail_page_shows_catalog_outputs_and_raw_notification(admin, client, session):
    response = post(client, "zencoder", fixture_bytes("zencoder", "output_backup_server_used.json"))
    assert response.status_code == 202
    failure = session.query(Failure).filter_by(notification_id=response.json["id"]).one()
    html = admin.get(f"/admin/failures/{failure.id}").get_data(as_text=True)
    assert "UnableToResolveHostError" in html
    catalog = admin.application.extensions["catalog"]
    entry = catalog.lookup("zencoder", failure.code, backup_server=True)
    assert str(entry.action)[:40].replace("'", "&#39;") in html
    assert "Copy the file from the backup URL to its real destination before it expires" in (
        entry.action
    )
    # The seed's URL expired in 2011: said so, and no dead link offered as a download.
    assert "The backup copy expired" in html and "download it from the backup URL" not in html
    # primary_upload_error_link is a real link; the raw body is shown pretty-printed.
    assert 'href="https://app.zencoder.com/docs/errors/UnableToResolveHostError"' in html
    assert "&#34;backup_server_used&#34;: true" in html or "&#34;backup_server_used&#34;" in html
    assert "172151" in html  # job id


def test_detail_page_shows_the_jobs_attributes_escaped(admin, session):
    failure = add_failure(
        session, job_attributes={"user_metadata": {"order": "order-7731", "note": "<b>x</b>"}}
    )
    html = admin.get(f"/admin/failures/{failure.id}").get_data(as_text=True)
    assert "Job attributes" in html and "order-7731" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html


def test_detail_page_of_a_job_without_attributes_has_no_empty_section(admin, session):
    failure = add_failure(session)
    assert "Job attributes" not in admin.get(f"/admin/failures/{failure.id}").get_data(as_text=True)


def test_acknowledge_resolve_and_reopen_with_a_note(admin, session):
    failure = add_failure(session)
    url = f"/admin/failures/{failure.id}"
    steps = (("acknowledge", "acknowledged"), ("resolve", "resolved"), ("reopen", "open"))
    for action, status in steps:
        response = admin.post(
            "/admin/failures/actions",
            data={
                "id": failure.id,
                "action": action,
                "note": f"{action} because",
                "next": url,
                "csrf_token": csrf_token(admin, url),
            },
        )
        assert (response.status_code, response.location) == (302, url)
        session.refresh(failure)
        assert failure.status == status
        page = admin.get(url).get_data(as_text=True)
        assert f"1 failure {'reopened' if action == 'reopen' else status}." in page
        assert f"{action} because" in page  # the note, in the state history
    events = re.findall(r"<li>(.*?)</li>", page.partition("State history")[2], re.S)
    assert len(events) == 3 and "operator" in events[0] and "(admin)" in events[0]


def test_an_unknown_action_or_id_is_refused(admin, session):
    failure = add_failure(session)
    url = f"/admin/failures/{failure.id}"
    for data in ({"id": failure.id, "action": "delete"}, {"id": "x", "action": "resolve"}):
        response = admin.post(
            "/admin/failures/actions", data={**data, "csrf_token": csrf_token(admin, url)}
        )
        assert response.status_code == 400
    session.refresh(failure)
    assert failure.status == "open"


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


def test_missing_failure_is_404(admin):
    assert admin.get("/admin/failures/999999").status_code == 404


def count_ticks(root: ET.Element) -> list[str]:
    return [t.text for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "end"]


def test_chart_colours_the_top_categories_apart_and_the_rest_as_other(admin, session):
    # 11 categories, each with a different count (the 18 of the catalog would not fit a
    # colour-blind-safe palette: the top 9 get one each, the rest share "other").
    names = ["input", "credentials", "remote_not_found", "rate_limited", "remote_unavailable",
             "network", "upload", "publishing", "drm", "encoding", "stream"]  # fmt: skip
    for rank, category in enumerate(names):
        for n in range(len(names) - rank):
            add_failure(session, category=category, occurred_at=BASE_TIME - timedelta(hours=n))
    root = chart_document(admin.get("/admin/failures/chart.svg?until=2026-11-01"))
    fills = {
        link.find(f"{SVG}text").text.strip(): link.find(f"{SVG}rect").get("fill")
        for link in root.find(f"{SVG}g").iter(f"{SVG}a")
    }
    assert list(fills) == [*names[:9], "other"]  # most failures first
    assert len(set(fills.values())) == 10  # nine colours and the grey of "other"
    assert legend(root)["other"] == 2 + 1  # encoding 2, stream 1
    # Every bar's colour is its category's (or other's).
    by_title = {
        r.find(f"{SVG}title").text.split(" ", 2)[2]: r.get("fill")
        for r in root.iter(f"{SVG}rect")
        if len(r)
    }
    assert all(fills[name] == fill for name, fill in by_title.items())


def test_chart_bars_and_legend_open_the_filtered_list(admin, session):
    add_failure(session, vendor="lightflow", category="network", occurred_at=BASE_TIME)
    root = chart_document(admin.get("/admin/failures/chart.svg?vendor=lightflow&until=2026-11-01"))
    links = [(a.get("href"), a.get("target")) for a in root.iter(f"{SVG}a")]
    bar, entry = links
    assert bar == (
        "/admin/failures?vendor=lightflow&until=2026-11-01&since=2026-11-01&category=network",
        "_top",
    )
    assert entry[0] == (
        "/admin/failures?vendor=lightflow&until=2026-11-01&since=2026-10-03&category=network"
    )
    listed = admin.get(bar[0]).get_data(as_text=True)
    assert len(failure_ids(listed)) == 1


@pytest.mark.parametrize(
    ("per_day", "ticks"),
    [(0, ["0"]), (1, ["0", "1"]), (3, ["0", "1", "2", "3"]), (61, ["0", "20", "40", "60", "80"])],
)
def test_chart_ticks_are_whole_and_distinct(admin, session, per_day, ticks):
    for n in range(per_day):
        add_failure(session, category="network", occurred_at=BASE_TIME - timedelta(minutes=n))
    root = chart_document(admin.get("/admin/failures/chart.svg?until=2026-11-01"))
    assert count_ticks(root) == ticks
    empty = "No failures in this range." in "".join(root.itertext())
    assert empty == (per_day == 0)
