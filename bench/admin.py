"""Admin server times on a filled database (see bench/generate.py): list pages and CSV export.

    python -m bench.admin --database-url postgresql://postgres@127.0.0.1/bench

Requests go through the real app in-process (Werkzeug test client, HTTP Basic), so the figures
are server time without network. Each page is timed cold (first request) and warm (median of
the next five). The CSV export runs in a child process that reports its own peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from receiver import create_app
from receiver.settings import Settings, _check_database_url

USER, PASSWORD = "bench", "bench-admin-password-0123456789"
AUTH = {"Authorization": "Basic YmVuY2g6YmVuY2gtYWRtaW4tcGFzc3dvcmQtMDEyMzQ1Njc4OQ=="}


def make_app(url: str) -> Any:
    return create_app(
        Settings(
            database_url=_check_database_url(url),
            secret_key="bench-secret-key-0123456789abcdef",
            vendor_tokens={"zencoder": "bench-zencoder-token-0123456789"},
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


def export_child(url: str, via: str) -> None:
    """In a fresh process: export every row, then print rows, seconds and peak RSS."""
    app = make_app(url)
    start = time.perf_counter()
    lines = 0
    if via == "web":
        response = app.test_client().get("/admin/failures.csv", headers=AUTH, buffered=False)
        for chunk in response.response:
            lines += chunk.count(b"\r\n") if isinstance(chunk, bytes) else chunk.count("\r\n")
        response.close()
    else:
        from receiver.admin.export import csv_lines
        from receiver.admin.query import FailureFilters
        from receiver.db import get_session

        with app.app_context(), open("/dev/null", "wb") as sink:
            for line in csv_lines(get_session(), FailureFilters()):
                sink.write(line.encode())
                lines += line.count("\r\n")
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "rows": lines - 1,
                "seconds": round(seconds, 1),
                "peak_rss_mib": round(peak_kib / 1024, 1),
            }
        )
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--export-child", choices=["web", "cli"], help=argparse.SUPPRESS)
    parser.add_argument("--skip-export", action="store_true")
    args = parser.parse_args(argv)
    if args.export_child:
        export_child(args.database_url, args.export_child)
        return

    client = make_app(args.database_url).test_client()
    today = datetime.now(UTC).date()
    since, until = (
        (today - timedelta(days=30)).isoformat(),
        (today - timedelta(days=10)).isoformat(),
    )
    results: dict[str, Any] = {
        "first page (HTML, with chart of 30 days)": timed(client, "/admin/failures"),
        "first page (API)": timed(client, "/api/failures"),
        "filtered page vendor+category+20 days (HTML, with chart)": timed(
            client, f"/admin/failures?vendor=zencoder&category=upload&since={since}&until={until}"
        ),
        "filtered page vendor+category+20 days (API)": timed(
            client, f"/api/failures?vendor=zencoder&category=upload&since={since}&until={until}"
        ),
        "free text, job id (API)": timed(client, "/api/failures?q=40012345"),
        "free text, rare word in message (API)": timed(client, "/api/failures?q=checksum"),
        "free text, common word in message (API)": timed(client, "/api/failures?q=output"),
        "free text, no match (API)": timed(client, "/api/failures?q=zzzzqqqq"),
    }
    cursor, walk_ms = cursor_for_page(client, 500)
    results["page 500 via cursor (API)"] = timed(client, f"/api/failures?cursor={cursor}")
    results["page 500 via cursor (HTML)"] = timed(client, f"/admin/failures?cursor={cursor}")
    results["(walking 499 pages to get there, total ms)"] = round(walk_ms)
    if not args.skip_export:
        for via in ("web", "cli"):
            child = subprocess.run(
                [sys.executable, "-m", "bench.admin", "--database-url", args.database_url,
                 "--export-child", via],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            results[f"full CSV export ({via})"] = json.loads(child.stdout.strip().splitlines()[-1])
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
