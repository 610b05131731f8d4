"""The failures CSV, streamed from the web and written by `receiver export`: same core."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from receiver.admin import export
from receiver.admin.export import FORMULA_PREFIXES, HEADER, HEADER_LINE, csv_lines, neutralize
from receiver.failures import FailureFilters
from receiver.models import Failure
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
        # Issue #17: after leading white space a spreadsheet still runs it.
        (" =1+1", "' =1+1"),
        ("\n  @SUM(A1)", "'\n  @SUM(A1)"),
        ("  -2", "'  -2"),
        ("  plain", "  plain"),
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
    for n in range(7):
        add_failure(session, category="drm" if n % 2 else "network")

    progress: list[int] = []
    lines = list(
        export.csv_lines(
            admin.application.extensions["db"].sessionmaker(),
            FailureFilters(category="drm"),
            batch_size=2,
            progress=progress.append,
        )
    )
    # The header, then the rows in chunks of batch_size as they stream from the database.
    assert [chunk.count(b"\n") for chunk in lines] == [1, 2, 1]
    assert progress == [2, 1]

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


#: Text that CSV or a spreadsheet treats specially; every text column gets each in turn.
TRICKY = (
    *(prefix + "x" for prefix in FORMULA_PREFIXES),
    *FORMULA_PREFIXES,
    'say "hi", bye',
    "line\nbreak",
    "cr\ronly",
    "crlf\r\nend",
    "\n",
    "Grüße 東京 🎬 é",
    "\\.",
    "back\\slash",
    "'",
    " lead space",
    "trail,",
    "",
    " =1+1",
    "\n@x",
    "x;=1+2",
    "a;b",
)
TEXT_COLUMNS = (
    "vendor",
    "job_kind",
    "job_external_id",
    "label",
    "file_external_id",
    "code",
    "code_name",
    "category",
    "severity",
    "retryable",
    "status",
    "message",
    "link",
)
NULLABLE = ("label", "code_name", "message", "link")
#: Whole seconds, microseconds, and local times at other offsets (one crossing a UTC midnight).
TIMES = (
    BASE_TIME,
    BASE_TIME.replace(microsecond=1),
    BASE_TIME.replace(microsecond=500000),
    datetime(2026, 11, 1, 20, 30, tzinfo=timezone(timedelta(hours=-8))),
    datetime(2026, 11, 1, 3, 15, 7, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    BASE_TIME,  # a tie, ordered by id
)


def add_tricky_failures(session) -> list[Failure]:
    failures = []
    for n in range(len(TRICKY) + len(NULLABLE)):
        fields = {name: TRICKY[(n + i) % len(TRICKY)] for i, name in enumerate(TEXT_COLUMNS)}
        if n >= len(TRICKY):  # then each nullable column NULL in turn
            fields[NULLABLE[n - len(TRICKY)]] = None
            fields["job_external_id"] = f"nullable-{n}"  # (vendor, job id) is unique
        failure = add_failure(
            session, occurred_at=TIMES[n % len(TIMES)], backup_server_used=n % 2 == 1, **fields
        )
        failures.append(failure)
    # A failure of a whole job, without an output: the file columns are NULL.
    failures[0].job_file = None
    session.flush()
    return failures


def expected_rows(failures: list[Failure]) -> list[list[str]]:
    """What the cells must read as, written independently of the export's code."""

    def text(value: str | None) -> str:
        return "" if value is None else neutralize(value)

    def iso(when: datetime) -> str:
        utc = when.astimezone(UTC)
        fraction = f".{utc.microsecond:06d}" if utc.microsecond else ""
        return f"{utc:%Y-%m-%dT%H:%M:%S}{fraction}Z"

    rows = []
    for f in sorted(failures, key=lambda f: (f.occurred_at, f.id), reverse=True):
        output = f.job_file
        rows.append(
            [
                str(f.id),
                iso(f.occurred_at),
                text(f.vendor),
                text(f.job.kind),
                text(f.job.external_id),
                text(output and output.label),
                text(output and output.external_id),
                *(text(getattr(f, name)) for name in ("code", "code_name", "category")),
                *(text(getattr(f, name)) for name in ("severity", "retryable", "status")),
                "true" if f.backup_server_used else "false",
                text(f.message),
                text(f.link),
            ]
        )
    return rows


def test_csv_of_tricky_cells_reads_back_as_the_cells(admin, session):
    failures = add_tricky_failures(session)
    progress: list[int] = []
    chunks = list(csv_lines(session, FailureFilters(), batch_size=4, progress=progress.append))
    data = b"".join(chunks)
    assert data.endswith(b"\n") and b"\r\n" not in data.replace(b'"crlf\r\nend"', b"")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert rows[0] == list(HEADER)
    assert rows[1:] == expected_rows(failures)
    # Counted per row even where quoted cells hold line breaks.
    assert progress == [min(4, len(failures) - start) for start in range(0, len(failures), 4)]


def test_csv_bytes_are_the_same_on_both_databases(admin, session):
    first = add_failure(
        session,
        occurred_at=BASE_TIME.replace(microsecond=1200),
        message='=1+1, "quoted"\nnext',
        label=None,
        code_name="",
        link="-x\r",
        backup_server_used=True,
    )
    second = add_failure(session, occurred_at=BASE_TIME - timedelta(hours=1), message="")
    third = add_failure(
        session, occurred_at=BASE_TIME - timedelta(hours=2), message="x;=1+2", code=" =1+1"
    )
    data = b"".join(csv_lines(session, FailureFilters()))
    assert data.decode("utf-8").split("\n", 1)[1] == (
        f"{first.id},2026-11-01T12:00:00.001200Z,zencoder,job,{first.job.external_id},,"
        f"{first.job_file.external_id},TranscodingError,,encoding,error,yes,open,true,"
        f'"\'=1+1, ""quoted""\nnext","\'-x\r"\n'
        f"{second.id},2026-11-01T11:00:00Z,zencoder,job,{second.job.external_id},"
        f"{second.job_file.label},{second.job_file.external_id},TranscodingError,,encoding,"
        "error,yes,open,false,,\n"
        # Issue #17: a formula after white space is neutralised; a ';' cell is quoted.
        f"{third.id},2026-11-01T10:00:00Z,zencoder,job,{third.job.external_id},"
        f"{third.job_file.label},{third.job_file.external_id},' =1+1,,encoding,"
        'error,yes,open,false,"x;=1+2",\n'
    )


def copied_and_formatted(session, filters: FailureFilters) -> tuple[bytes, bytes]:
    """The PostgreSQL COPY path's rows and the Python path's, on the same database."""
    copied = b"".join(chunk for _rows, chunk in export._copied_chunks(session, filters, 3))
    formatted = b"".join(chunk for _rows, chunk in export._formatted_chunks(session, filters, 3))
    return copied, formatted


@pytest.mark.postgres_only
def test_copy_writes_what_the_python_path_writes(admin, session, backend):
    failures = add_tricky_failures(session)
    # Times are written in UTC whatever the session's time zone.
    session.execute(text("SET LOCAL TimeZone = 'Asia/Kolkata'"))
    copied, formatted = copied_and_formatted(session, FailureFilters())
    assert copied == formatted
    assert len(list(csv.reader(io.StringIO(copied.decode(), newline="")))) == len(failures)


@pytest.mark.parametrize(
    "filters",
    [
        FailureFilters(vendor="lightflow"),
        FailureFilters(category="drm"),
        FailureFilters(severity="warning"),
        FailureFilters(code="E'1"),
        FailureFilters(status="resolved"),
        FailureFilters(since=BASE_TIME.date()),
        FailureFilters(until=(BASE_TIME - timedelta(days=1)).date()),
        FailureFilters(since=BASE_TIME.date(), until=BASE_TIME.date(), vendor="zencoder"),
        FailureFilters(q="50%_full\\"),
        FailureFilters(q="JOB-ABC"),
        FailureFilters(q="Mp4-1080"),
        FailureFilters(q="it's"),
        FailureFilters(vendor="zencoder", category="drm", q="disk"),
    ],
    ids=lambda filters: str(filters.query_args()),
)
@pytest.mark.postgres_only
def test_copy_applies_the_same_filters(admin, session, backend, filters):
    for n in range(24):
        add_failure(
            session,
            vendor=("zencoder", "lightflow", "agora")[n % 3],
            category=("drm", "network", "upload")[n % 3 - n % 2],
            severity=("error", "warning")[n % 2],
            code=("E'1", "TranscodingError", "E%2")[n % 3],
            status=("open", "acknowledged", "resolved")[n // 8],
            occurred_at=BASE_TIME + timedelta(hours=6) - timedelta(hours=7 * n),
            job_external_id=(f"job-abc-{n}", f"other-{n}")[n % 2],
            label=("mp4-1080p", "hls")[n % 4 // 2],
            message=("disk 50%_full\\ here", "it's gone", "disk 5x full")[n % 3 - n % 2],
        )
    copied, formatted = copied_and_formatted(session, filters)
    assert copied == formatted
    # Each filter keeps some rows and drops others: it was applied, not ignored.
    assert 0 < copied.count(b"\n") < 24


@pytest.mark.postgres_only
def test_an_abandoned_download_leaves_the_database_usable(admin, session, backend):
    original = add_failure(session)
    # ~30 MB of CSV, so the server is still sending when the client goes away: the COPY is
    # cancelled, which aborts its transaction until something rolls it back.
    session.execute(
        text(
            "INSERT INTO failures (job_id, job_file_id, vendor, code, category, severity,"
            " retryable, message, backup_server_used, details, status, occurred_at, created_at,"
            " fingerprint)"
            " SELECT job_id, job_file_id, vendor, code, category, severity, retryable,"
            " repeat('x', 500), backup_server_used, details, status, occurred_at, created_at,"
            " fingerprint || '-' || n FROM failures, generate_series(1, 50000) AS n"
        )
    )
    session.flush()
    response = admin.get("/admin/failures.csv", buffered=False)
    chunks = iter(response.response)
    assert next(chunks) == HEADER_LINE
    assert next(chunks).count(b"\n") == 2000
    response.close()

    after = admin.get(f"/admin/failures.csv?code={original.code}&q=message")
    assert after.status_code == 200
    assert [row["id"] for row in read_csv(after.get_data(as_text=True))] == [str(original.id)]
