"""LightFlow asset callbacks: every error family of the seed, ranges, out-of-order states."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from receiver.models import Failure, Job
from tests.helpers import FIXTURES, post, post_fixture
from tests.vendors.kits import fixture_files

ERROR_FIXTURES = [p.name for p in fixture_files("lightflow") if p.name.startswith("asset_error_")]


def asset(session, uuid: str) -> Job:
    return session.execute(
        select(Job).where(Job.vendor == "lightflow", Job.external_id == uuid)
    ).scalar_one()


@pytest.mark.parametrize("name", ERROR_FIXTURES)
def test_every_asset_error_fixture_becomes_a_classified_failure(client, session, name):
    payload = json.loads((FIXTURES / "lightflow" / name).read_text())
    response = post_fixture(client, "lightflow", name)
    assert response.status_code == 202

    [failure] = session.execute(select(Failure)).scalars().all()
    assert failure.code == str(payload["assetError"]["code"])
    assert failure.message == payload["assetError"]["message"]
    assert failure.category not in ("", "unknown")
    assert asset(session, payload["uuid"]).state == "error"


@pytest.mark.parametrize(
    "code,category",
    [
        (2404, "remote_not_found"),
        (2429, "rate_limited"),
        (2503, "remote_unavailable"),
        (2418, None),
        (2599, "remote_unavailable"),
    ],
)
def test_remote_http_status_codes_are_classified_by_status(client, session, code, category):
    payload = json.loads((FIXTURES / "lightflow" / "asset_error_2404.json").read_text())
    payload["assetError"]["code"] = code
    assert post(client, "lightflow", json.dumps(payload).encode()).status_code == 202
    failure = session.execute(select(Failure)).scalar_one()
    assert failure.code == str(code)
    if category:
        assert failure.category == category
    assert failure.category != "unknown"


def test_success_has_no_failure(client, session):
    assert post_fixture(client, "lightflow", "asset_ready.json").status_code == 202
    assert session.execute(select(Failure)).first() is None
    assert asset(session, "3f9a1c2e-7b4d-4e8a-9c61-0d5e2f7a8b13").state == "finished"


def test_late_running_callback_does_not_undo_finished(client, session):
    post_fixture(client, "lightflow", "asset_ready.json")
    post_fixture(client, "lightflow", "asset_processing.json")
    assert asset(session, "3f9a1c2e-7b4d-4e8a-9c61-0d5e2f7a8b13").state == "finished"


def test_error_status_without_asset_error_is_still_a_failure(client, session):
    payload = {"uuid": "0b7c9d2e-0000-4000-8000-000000000001", "status": "error"}
    assert post(client, "lightflow", json.dumps(payload).encode()).status_code == 202
    failure = session.execute(select(Failure)).scalar_one()
    assert failure.details == {"assetError": "absent"}


def test_asset_error_code_must_be_an_integer(client):
    payload = {"uuid": "x-1", "status": "error", "assetError": {"code": "oops", "message": "m"}}
    response = post(client, "lightflow", json.dumps(payload).encode())
    assert response.status_code == 422
    assert "code" in response.json["errors"]["assetError"]
