"""The failures CSV, streamed from the web and written by `receiver export`: same core."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from receiver.admin.export import HEADER, neutralize
from tests.admin.conftest import BASE_TIME, add_failure


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("plain text", "plain text"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_neutralize(cell, expected):
    assert neutralize(cell) == expected


def test_csv_is_streamed_utf8_with_header_iso_times_and_neutralized_cells(admin, session):
    add_failure(
        session,
        message="=cmd|' /C calc'!A0",
        label="+label",
        job_external_id="@job",
        code="-1",
        occurred_at=BASE_TIME,
    )
    add_failure(session, message="Grüße, 東京 — ok", occurred_at=BASE_TIME - timedelta(hours=1))
    response = admin.get("/admin/failures.csv")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="failures-')
    text = response.get_data().decode("utf-8")
    assert text.splitlines()[0] == ",".join(HEADER)
    rows = read_csv(text)
    assert [row["occurred_at"] for row in rows] == ["2026-11-01T12:00:00Z", "2026-11-01T11:00:00Z"]
    first = rows[0]
    assert first["message"] == "'=cmd|' /C calc'!A0"
    assert first["output_label"] == "'+label"
    assert first["job_id"] == "'@job"
    assert first["code"] == "'-1"
    assert rows[1]["message"] == "Grüße, 東京 — ok"
    assert first["backup_server_used"] == "false"


def test_csv_uses_the_list_filters_and_streams_in_batches(admin, session):
    from receiver.admin import query

    for n in range(7):
        add_failure(session, category="drm" if n % 2 else "network")
    from receiver.admin import export

    lines = list(
        export.csv_lines(
            admin.application.extensions["db"].sessionmaker(),
            query.FailureFilters(category="drm"),
            batch_size=2,
        )
    )
    # The header, then the rows in chunks of batch_size as they stream from the cursor.
    assert [chunk.count("\r\n") for chunk in lines] == [1, 2, 1]

    text = admin.get("/admin/failures.csv?category=network").get_data(as_text=True)
    assert {row["category"] for row in read_csv(text)} == {"network"}
    assert len(read_csv(text)) == 4


def test_csv_rejects_invalid_filters(admin):
    assert admin.get("/admin/failures.csv?status=gone").status_code == 400


def test_cli_export_writes_the_same_csv(app, admin, session, tmp_path):
    add_failure(session, vendor="lightflow", message="=evil()")
    add_failure(session, vendor="zencoder")
    runner = app.test_cli_runner()
    from receiver.cli import main

    target = tmp_path / "out.csv"
    result = runner.invoke(
        main, ["export", "--format", "csv", "--vendor", "lightflow", "-o", str(target)]
    )
    assert result.exit_code == 0, result.output
    rows = read_csv(target.read_text(encoding="utf-8"))
    assert [row["vendor"] for row in rows] == ["lightflow"]
    assert rows[0]["message"] == "'=evil()"
    web = admin.get("/admin/failures.csv?vendor=lightflow").get_data(as_text=True)
    assert target.read_bytes().decode("utf-8") == web

    stdout = runner.invoke(main, ["export", "--status", "open"])
    assert stdout.exit_code == 0
    assert len(read_csv(stdout.stdout)) == 2


def test_cli_export_refuses_bad_filters(app):
    from receiver.cli import main

    result = app.test_cli_runner().invoke(main, ["export", "--since", "last tuesday"])
    assert result.exit_code == 2
    assert "since" in result.output
