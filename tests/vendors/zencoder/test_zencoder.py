"""Zencoder v2 notifications: every fixture, backup-server uploads, XML, out-of-order states."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from receiver.models import Failure, Job, JobFile
from tests.helpers import FIXTURES, fixture_bytes, post, post_fixture
from tests.vendors.kits import fixture_files

ZENCODER_FIXTURES = [path.name for path in fixture_files("zencoder")]


def job(session, external_id: str) -> Job:
    return session.execute(
        select(Job).where(Job.vendor == "zencoder", Job.external_id == external_id)
    ).scalar_one()


def file(session, job_id: int, kind: str, external_id: str) -> JobFile:
    return session.execute(
        select(JobFile).where(
            JobFile.job_id == job_id, JobFile.kind == kind, JobFile.external_id == external_id
        )
    ).scalar_one()


def failures(session) -> list[Failure]:
    return list(session.execute(select(Failure).order_by(Failure.id)).scalars())


@pytest.mark.parametrize("name", ZENCODER_FIXTURES)
def test_every_fixture_is_accepted(client, name):
    response = post_fixture(client, "zencoder", name)
    assert response.status_code == 202, response.json


def test_seed_example_records_backup_server_and_primary_upload_error(client, session):
    response = post_fixture(client, "zencoder", "output_backup_server_used.json")
    assert response.status_code == 202

    zencoder_job = job(session, "172151")
    assert zencoder_job.state == "finished"
    output = file(session, zencoder_job.id, "output", "235314")
    assert output.state == "finished"
    assert output.backup_server_used is True
    assert (
        output.primary_upload_error_link
        == "https://app.zencoder.com/docs/errors/UnableToResolveHostError"
    )
    assert output.primary_upload_error_message.startswith("There was a problem resolving the host")
    assert (output.format, output.video_codec, output.width, output.height) == (
        "mpeg4",
        "h264",
        160,
        120,
    )
    assert (output.duration_ms, output.file_size_bytes) == (1920, 17938)
    assert file(session, zencoder_job.id, "input", "172149").state == "finished"

    # Finished, yet a failure to act on: the files are not where the job asked.
    [failure] = failures(session)
    assert failure.code == "UnableToResolveHostError"
    assert failure.backup_server_used is True
    assert failure.job_file_id == output.id
    assert failure.link == output.primary_upload_error_link
    assert failure.category != "unknown"


def test_backup_server_with_thumbnail_failure_records_both(client, session):
    post_fixture(client, "zencoder", "output_backup_thumbnail_failed.json")
    recorded = failures(session)
    assert [f.details.get("primary_upload") for f in recorded] == ["video", "thumbnails"]
    assert all(f.backup_server_used and f.code == "UploadAccessDeniedError" for f in recorded)
    output = session.get(JobFile, recorded[0].job_file_id)
    assert (
        output.primary_thumbnail_upload_error_link and output.primary_thumbnail_upload_error_message
    )


@pytest.mark.parametrize(
    ("fixture", "expires_at"),
    [
        ("output_backup_server_used.json", datetime(2011, 9, 28, 19, 15, 5, tzinfo=UTC)),
        ("output_backup_thumbnail_failed.json", datetime(2024, 5, 15, 10, 0, tzinfo=UTC)),
    ],
)
def test_a_backup_copy_keeps_the_deadline_of_its_url(client, session, fixture, expires_at):
    post_fixture(client, "zencoder", fixture)
    output = session.get(JobFile, failures(session)[0].job_file_id)
    assert output.backup_expires_at == expires_at


def test_a_sigv4_backup_url_and_one_without_a_deadline(client, session):
    body = json.loads((FIXTURES / "zencoder" / "output_backup_server_used.json").read_text())
    body["output"]["url"] = (
        "https://zencoder-backup.s3.amazonaws.com/o/out.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Date=20261206T081500Z&X-Amz-Expires=21600&X-Amz-Signature=00ff"
    )
    assert post(client, "zencoder", json.dumps(body).encode()).status_code == 202
    [failure] = failures(session)
    output = session.get(JobFile, failure.job_file_id)
    assert output.backup_expires_at == datetime(2026, 12, 6, 14, 15, tzinfo=UTC)

    body["job"]["id"], body["output"]["id"] = 172152, 235315
    body["output"]["url"] = "https://zencoder-backup.s3.amazonaws.com/o/public.mp4"
    assert post(client, "zencoder", json.dumps(body).encode()).status_code == 202
    other = session.get(JobFile, failures(session)[1].job_file_id)
    assert other.backup_server_used and other.backup_expires_at is None


def test_an_output_that_is_not_on_the_backup_server_has_no_deadline(client, session):
    post_fixture(client, "zencoder", "output_finished.json")
    outputs = session.scalars(select(JobFile).where(JobFile.kind == "output")).all()
    assert outputs and all(o.url and o.backup_expires_at is None for o in outputs)


def test_failed_output_records_error_class_message_and_link(client, session):
    post_fixture(client, "zencoder", "output_failed.json")
    [failure] = failures(session)
    assert failure.code == "TranscodingError"
    assert failure.link == "https://app.zencoder.com/docs/errors/TranscodingError"
    assert failure.message
    output = session.get(JobFile, failure.job_file_id)
    assert (output.kind, output.external_id, output.state, output.error_class) == (
        "output",
        "99871260",
        "failed",
        "TranscodingError",
    )
    assert failure.severity in {"critical", "error", "warning", "info"}


def test_error_class_named_only_in_the_link_is_the_code(client, session):
    """Older notifications name the class only in error_link (``…/errors/#NoMediaError``)."""
    post_fixture(client, "zencoder", "output_failed_error_link_only.json")
    [failure] = failures(session)
    assert (failure.code, failure.category, failure.code_name) == ("NoMediaError", "input", None)
    assert failure.link == "http://zencoder.com/docs/errors/#NoMediaError"
    assert session.get(JobFile, failure.job_file_id).error_class is None  # stored as sent


def test_failed_input_named_only_in_the_link_explains_its_outputs(client, session):
    payload = json.loads(fixture_bytes("zencoder", "job_failed_input_download.json"))
    del payload["input"]["error_class"]
    payload["input"]["error_link"] = "http://zencoder.com/docs/errors/#DownloadAccessDeniedError"
    post(client, "zencoder", json.dumps(payload).encode())
    [failure] = failures(session)  # one: the outputs that never ran have no failure of their own
    assert (failure.code, failure.category) == ("DownloadAccessDeniedError", "credentials")
    assert session.get(JobFile, failure.job_file_id).kind == "input"


@pytest.mark.parametrize(
    "link", ["http://zencoder.com/docs/errors/#UploadAccessDeniedError", "UploadAccessDeniedError"]
)
def test_primary_upload_error_named_by_anchor_or_alone(client, session, link):
    payload = json.loads(fixture_bytes("zencoder", "output_backup_thumbnail_failed.json"))
    payload["output"]["primary_upload_error_link"] = link
    payload["output"]["primary_thumbnail_upload_error_link"] = link
    post(client, "zencoder", json.dumps(payload).encode())
    assert [f.code for f in failures(session)] == ["UploadAccessDeniedError"] * 2


def test_xml_notification_is_stored_like_its_json_twin(client, session):
    response = post_fixture(client, "zencoder", "output_failed.xml")
    assert response.status_code == 202
    [failure] = failures(session)
    assert failure.code == "TranscodingError"
    output = session.get(JobFile, failure.job_file_id)
    assert (output.external_id, output.state) == ("99871260", "failed")
    # The JSON twin is the same notification, so it is a duplicate.
    assert post_fixture(client, "zencoder", "output_failed.json").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><notification>&b;</notification>',
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><notification>&e;</notification>',
        b"<notification><job>",
    ],
    ids=["entity-expansion", "external-entity", "truncated"],
)
def test_hostile_or_broken_xml_is_400(client, body):
    assert post(client, "zencoder", body, content_type="application/xml").status_code == 400


def test_failed_input_download_is_one_failure_not_one_per_output(client, session):
    post_fixture(client, "zencoder", "job_failed_input_download.json")
    [failure] = failures(session)
    assert failure.code == "DownloadAccessDeniedError"
    assert session.get(JobFile, failure.job_file_id).kind == "input"
    assert job(session, "48213415").state == "failed"


def test_job_notification_records_every_output(client, session):
    post_fixture(client, "zencoder", "job_finished.json")
    zencoder_job = job(session, "48213377")
    outputs = [f for f in zencoder_job.files if f.kind == "output"]
    assert len(outputs) == 3 and {o.state for o in outputs} == {"finished"}
    assert zencoder_job.attributes["pass_through"]
    assert failures(session) == []


def test_output_failure_repeated_in_the_job_notification_is_one_failure(client, session):
    assert post_fixture(client, "zencoder", "output_failed.json").status_code == 202
    assert (
        post_fixture(client, "zencoder", "job_finished_with_failed_output.json").status_code == 202
    )
    assert [f.code for f in failures(session)] == ["TranscodingError"]


def test_late_non_final_state_never_moves_a_job_or_output_back(client, session):
    assert post_fixture(client, "zencoder", "output_finished.json").status_code == 202
    assert post_fixture(client, "zencoder", "job_finished.json").status_code == 202
    assert post_fixture(client, "zencoder", "output_processing.json").status_code == 202  # late

    zencoder_job = job(session, "48213377")
    assert zencoder_job.state == "finished"
    assert file(session, zencoder_job.id, "output", "99871201").state == "finished"


def test_non_final_then_final_advances(client, session):
    post_fixture(client, "zencoder", "output_processing.json")
    post_fixture(client, "zencoder", "output_finished.json")
    zencoder_job = job(session, "48213377")
    assert file(session, zencoder_job.id, "output", "99871201").state == "finished"


def test_same_job_other_state_is_a_new_notification(client):
    payload = json.loads((FIXTURES / "zencoder" / "output_failed.json").read_text())
    first = post(client, "zencoder", json.dumps(payload).encode())
    payload["output"]["state"] = "cancelled"
    second = post(client, "zencoder", json.dumps(payload).encode())
    assert (first.status_code, second.status_code) == (202, 202)
    assert first.json["id"] != second.json["id"]


def test_unknown_extra_fields_are_accepted_and_kept_in_the_raw_body(client, session):
    payload = json.loads((FIXTURES / "zencoder" / "output_finished.json").read_text())
    payload["output"]["brand_new_field"] = {"nested": [1, 2]}
    body = json.dumps(payload).encode()
    response = post(client, "zencoder", body)
    assert response.status_code == 202
    from receiver.models import Notification

    assert b"brand_new_field" in session.get(Notification, response.json["id"]).body


def test_failure_with_unknown_error_class_is_stored_as_unknown(client, session):
    payload = json.loads((FIXTURES / "zencoder" / "output_failed.json").read_text())
    payload["output"]["error_class"] = "BrandNewZencoderError"
    assert post(client, "zencoder", json.dumps(payload).encode()).status_code == 202
    [failure] = failures(session)
    assert (failure.code, failure.category) == ("BrandNewZencoderError", "unknown")
