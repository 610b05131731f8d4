"""Every fixture of every registered vendor, posted as the vendor sends it, against its golden
file ``fixtures/<vendor>/<name>.expected.json``: the answer, the stored notification, the jobs
and files, and the failures with their codes and categories.

One test, parametrized over the fixtures the vendor folders route to their endpoints, so a new
fixture (or vendor) is covered by adding it. ``pytest tests/vendors/test_golden.py
--update-golden`` rewrites the golden files from what the receiver does now (on SQLite;
PostgreSQL compares): their diff is what a reviewer reads.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from receiver.models import Failure, Job, Notification
from receiver.vendors import VENDORS
from tests.helpers import FIXTURES
from tests.vendors.kits import GOLDEN_SUFFIX, content_type, fixture_endpoint, fixture_files, signed

FIXTURE_FILES = [path for vendor in VENDORS for path in fixture_files(vendor.name)]
# Columns that say when or where a row was written, not what the notification said.
UNSTABLE = {"id", "created_at", "updated_at", "job_id", "job_file_id", "notification_id"}


def golden_path(fixture: Path) -> Path:
    """``output_failed.json`` -> ``output_failed.expected.json``; its XML twin's is
    ``output_failed.xml.expected.json``."""
    return fixture.with_name(fixture.name.removesuffix(".json") + GOLDEN_SUFFIX)


@pytest.mark.parametrize(
    "fixture", FIXTURE_FILES, ids=[str(p.relative_to(FIXTURES)) for p in FIXTURE_FILES]
)
def test_fixture_matches_its_golden_file(app, client, session, backend, request, fixture):
    endpoint = fixture_endpoint(fixture)
    body, headers = signed(app, endpoint, fixture.read_bytes(), content_type(fixture))
    response = client.post(f"/hooks/{endpoint}", data=body, headers=headers)
    observed = describe(session, endpoint, response.status_code, response.json)
    golden = golden_path(fixture)
    if request.config.getoption("--update-golden") and backend == "sqlite":
        golden.write_text(json.dumps(observed, indent=2, ensure_ascii=False) + "\n")
    assert golden.exists(), f"no {golden.name}: run pytest {__file__} --update-golden"
    assert observed == json.loads(golden.read_text()), (
        f"{fixture.name} differs from {golden.name}; if the change is meant, run "
        "`pytest tests/vendors/test_golden.py --update-golden` and review the diff"
    )


def test_every_golden_file_has_its_fixture():
    goldens = sorted(FIXTURES.glob(f"*/*{GOLDEN_SUFFIX}"))
    assert len(goldens) == len(FIXTURE_FILES) >= 40
    assert sorted(map(golden_path, FIXTURE_FILES)) == goldens


def describe(session: Session, endpoint: str, status: int, answer: dict[str, Any]) -> dict:
    """What the receiver did with one notification, in a form both databases give alike."""
    notification = session.get(Notification, answer["id"])
    assert notification is not None
    return {
        "endpoint": endpoint,
        "answer": {"status": status, "body": {k: v for k, v in answer.items() if k != "id"}},
        "notification": _row(notification, only=("vendor", "status", "dedup_key", "reason")),
        "jobs": [_job(job) for job in session.scalars(select(Job).order_by(Job.external_id))],
        "failures": [
            _failure(failure, notification.received_at)
            for failure in session.scalars(select(Failure).order_by(Failure.id))
        ],
    }


def _job(job: Job) -> dict[str, Any]:
    files = sorted(job.files, key=lambda f: (f.kind, f.external_id))
    # A file has many optional columns; the ones the notification left empty are left out.
    return {**_row(job), "files": [_without_nulls(_row(file)) for file in files]}


def _without_nulls(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


def _failure(failure: Failure, received_at: datetime) -> dict[str, Any]:
    described = _row(failure)
    described["job"] = failure.job.external_id
    file = failure.job_file
    described["file"] = f"{file.kind} {file.external_id}" if file else None
    if failure.occurred_at == received_at:  # the notification gave no time of its own
        described["occurred_at"] = "(when received)"
    return described


def _row(row: Any, only: tuple[str, ...] | None = None) -> dict[str, Any]:
    names = only or [c.name for c in row.__table__.columns if c.name not in UNSTABLE]
    return {name: _plain(getattr(row, name)) for name in names}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):  # JSON columns: PostgreSQL's JSONB orders keys its own way
        return {key: _plain(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
