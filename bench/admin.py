"""Admin server times on a filled database (see bench/generate.py): the grouped landing page and
a group's page, the failures list, its chart and the CSV export.

    python -m bench.admin --database-url postgresql://postgres@127.0.0.1/bench

Requests go through the real app in-process (Werkzeug test client, HTTP Basic), so the figures
are server time without network. Each page is timed cold (first request) and warm (median of
the next five); the chart (``/admin/failures/chart.svg``, its own request since the page stopped
waiting for it) is timed the same way, apart from the HTML. The CSV export runs in a child
process that reports its own peak RSS.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from receiver import create_app
from receiver.settings import Settings, database_url

USER, PASSWORD = "bench", "bench-admin-password-0123456789"
AUTH = {"Authorization": "Basic YmVuY2g6YmVuY2gtYWRtaW4tcGFzc3dvcmQtMDEyMzQ1Njc4OQ=="}


def make_app(url: str) -> Any:
    return create_app(
        Settings(
            database_url=database_url("DATABASE_URL", url),
            secret_key="bench-secret-key-0123456789abcdef",
            vendor_values={"RECEIVER_ZENCODER_TOKEN": "bench-zencoder-token-0123456789"},
            admin_user=USER,
            admin_password=PASSWORD,
            admin_login_limit="100000 per minute",
        )
    )


def timed(client: Any, path: str, repeat: int = 5) -> dict[str, float]:
    def once() -> float:
        start = time.perf_counter()
        response = client.get(path, headers=AUTH)
        response.get_data()
        elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, (path, response.status_code, response.get_data()[:300])
        return elapsed

    cold = once()
    warm = [once() for _ in range(repeat)]
    return {"cold_ms": round(cold, 1), "warm_median_ms": round(statistics.median(warm), 1)}


def cursor_for_page(client: Any, page: int, limit: int = 50) -> tuple[str, float]:
    """Walk the API to the cursor that opens ``page``; returns it and the walk's time."""
    cursor, start = None, time.perf_counter()
    for _ in range(page - 1):
        query = f"/api/failures?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        cursor = client.get(query, headers=AUTH).json["next_cursor"]
    return cursor, (time.perf_counter() - start) * 1000


def export_child(url: str, via: str, since: str | None = None) -> None:
    """In a fresh process: export every row (or those since a day), then print rows, seconds and
    peak RSS."""
    app = make_app(url)
    start = time.perf_counter()
    lines = 0
    if via == "web":
        path = "/admin/failures.csv" + (f"?since={since}" if since else "")
        response = app.test_client().get(path, headers=AUTH, buffered=False)
        for chunk in response.response:
            lines += chunk.count(b"\n")
        response.close()
    else:
        from receiver.admin.export import csv_lines
        from receiver.db import get_session
        from receiver.failures import FailureFilters

        with app.app_context(), open("/dev/null", "wb") as sink:
            filters = FailureFilters(since=date.fromisoformat(since) if since else None)
            for chunk in csv_lines(get_session(), filters):
                sink.write(chunk)
                lines += chunk.count(b"\n")
    seconds = time.perf_counter() - start
    peak_kib = peak_rss_kib()
    print(
        json.dumps(
            {
                "rows": lines - 1,
                "seconds": round(seconds, 1),
                "peak_rss_mib": round(peak_kib / 1024, 1),
            }
        )
    )


def peak_rss_kib() -> int:
    """This process's own peak RSS: VmHWM, which exec starts afresh.

    Not ``getrusage().ru_maxrss``: Linux carries the high-water mark of the process that
    exec'd over into it, so a child of the bench reported the bench's own peak (186 MiB right
    after generating a million rows in-process) instead of the export's.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def query_baseline(app: Any, path: str, repeat: int = 5) -> float:
    """The same page's SQL alone (same filters, cursor and limit), median ms: the floor."""
    from werkzeug.datastructures import MultiDict

    from receiver.db import get_session
    from receiver.failures import failure_page, load_query

    args = MultiDict([pair.split("=", 1) for pair in path.partition("?")[2].split("&") if pair])
    times = []
    with app.test_request_context():
        filters, cursor, limit = load_query(args)
        session = get_session()
        for _ in range(repeat + 1):
            start = time.perf_counter()
            failure_page(session, filters, cursor, limit)
            times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times[1:]), 1)


def groups_baseline(app: Any, path: str, repeat: int = 5) -> float:
    """The grouped page's queries alone (groups, their 24 h counts and trends), median ms."""
    from receiver.alerts.overview import group_page, load_group_query
    from receiver.db import get_session, utcnow

    args = dict(pair.split("=", 1) for pair in path.partition("?")[2].split("&") if pair)
    times = []
    with app.test_request_context():
        filters, page, limit = load_group_query(args)
        session = get_session()
        for _ in range(repeat + 1):
            start = time.perf_counter()
            group_page(session, app.extensions["catalog"], filters, utcnow(), page, limit)
            times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times[1:]), 1)


def group_figures(app: Any, client: Any) -> dict[str, Any]:
    """The landing page (groups) and the biggest group's page, HTML and API, with the SQL floor."""
    from sqlalchemy import select

    from receiver.db import get_database
    from receiver.models import AlertGroup

    with get_database(app).sessionmaker() as session:
        biggest = session.scalar(
            select(AlertGroup.id).order_by(AlertGroup.failure_count.desc()).limit(1)
        )
    pages = {
        "landing page (all groups)": "/admin/",
        "open, failing in the last 24 h": "/admin/?state=open&period=24h",
        "vendor + severity": "/admin/?vendor=zencoder&severity=error",
        "free text, job id": "/admin/?q=40012345",
        "free text, an id fragment in 10k jobs": "/admin/?q=4001",
    }
    figures: dict[str, Any] = {}
    for name, path in pages.items():
        html = timed(client, path)
        api = timed(client, path.replace("/admin/", "/api/groups"))
        figures[name] = {
            "html_cold_ms": html["cold_ms"],
            "html_warm_median_ms": html["warm_median_ms"],
            "api_warm_median_ms": api["warm_median_ms"],
            "sql_only_ms": groups_baseline(app, path),
        }
    page = timed(client, f"/admin/groups/{biggest}")
    figures["the biggest group's page"] = {
        "html_cold_ms": page["cold_ms"],
        "html_warm_median_ms": page["warm_median_ms"],
    }
    return figures


def psql_copy_baseline(url: str, since: str | None = None) -> dict[str, float]:
    """psql's \\copy of the same columns and order: the fastest a CSV of these rows can be made."""
    from sqlalchemy.dialects import postgresql

    from receiver.failures import FailureFilters, select_newest_first

    statement = select_newest_first(
        FailureFilters(since=date.fromisoformat(since) if since else None)
    )
    sql = str(
        statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    )
    plain_url = url.replace("postgresql+psycopg://", "postgresql://")
    start = time.perf_counter()
    with open("/dev/null", "wb") as sink:
        subprocess.run(
            ["psql", plain_url, "-q", "-c", f"\\copy ({' '.join(sql.split())}) TO STDOUT WITH CSV HEADER"],
            stdout=sink, check=True,
        )  # fmt: skip
    return {"seconds": round(time.perf_counter() - start, 1)}


def export_figures(url: str, via: str, since: str | None = None) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.admin", "--database-url", url, "--export-child", via]
    if since:
        command += ["--since", since]
    child = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(child.stdout.strip().splitlines()[-1])


def run(url: str, export: bool = True) -> dict[str, Any]:
    """Every admin figure with its baseline: pages vs their bare SQL, CSV vs psql \\copy."""
    app = make_app(url)
    client = app.test_client()
    today = datetime.now(UTC).date()
    since, until = (
        (today - timedelta(days=30)).isoformat(),
        (today - timedelta(days=10)).isoformat(),
    )
    pages = {
        "first page": "/api/failures",
        "vendor+category+20 days": f"/api/failures?vendor=zencoder&category=upload&since={since}&until={until}",
        "free text (job id)": "/api/failures?q=40012345",
        "free text (word in messages)": "/api/failures?q=checksum",
    }
    cursor, _walk_ms = cursor_for_page(client, 500)
    pages["page 500 via cursor"] = f"/api/failures?cursor={cursor}"
    #: The pages that show a chart (first pages without a text search), which the browser
    #: fetches from its own URL once the page is shown: timed apart from the HTML.
    charted = {"first page", "vendor+category+20 days"}
    results: dict[str, Any] = {"groups": group_figures(app, client), "pages": {}}
    for name, path in pages.items():
        figures = timed(client, path)
        baseline = query_baseline(app, path)
        figures["sql_only_ms"] = baseline
        figures["ratio"] = round(figures["warm_median_ms"] / baseline, 2) if baseline else None
        html = timed(client, path.replace("/api/failures", "/admin/failures"))
        figures["html_cold_ms"] = html["cold_ms"]
        figures["html_warm_median_ms"] = html["warm_median_ms"]
        if name in charted:
            chart = timed(client, path.replace("/api/failures", "/admin/failures/chart.svg"))
            figures["chart_cold_ms"] = chart["cold_ms"]
            figures["chart_warm_median_ms"] = chart["warm_median_ms"]
        results["pages"][name] = figures
    if export:
        # ~100k rows (the newest 9 of 90 days) and all 1M: memory must stay flat as rows grow.
        recent = (today - timedelta(days=9)).isoformat()
        results["csv"] = {}
        for label, cutoff in (("recent 9 days", recent), ("all rows", None)):
            web = export_figures(url, "web", cutoff)
            baseline = psql_copy_baseline(url, cutoff)
            web["psql_copy_seconds"] = baseline["seconds"]
            web["ratio"] = (
                round(web["seconds"] / baseline["seconds"], 2) if baseline["seconds"] else None
            )
            results["csv"][label] = web
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--export-child", choices=["web", "cli"], help=argparse.SUPPRESS)
    parser.add_argument("--since", help=argparse.SUPPRESS)
    parser.add_argument("--skip-export", action="store_true")
    args = parser.parse_args(argv)
    if args.export_child:
        export_child(args.database_url, args.export_child, args.since)
        return
    print(json.dumps(run(args.database_url, export=not args.skip_export), indent=2))


if __name__ == "__main__":
    main()
