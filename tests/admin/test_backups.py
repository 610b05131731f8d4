"""Backup copies with a deadline: the "Backup copies" view, the group and failure pages, and the
catalog's advice, from real Zencoder notifications whose output went to the backup server."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import select

from receiver.db import utcnow
from receiver.models import AlertGroup, Failure
from tests.helpers import FIXTURES, post

TEMPLATE = json.loads((FIXTURES / "zencoder" / "output_backup_server_used.json").read_text())


def backed_up(client, n: int, expires: str) -> None:
    """Output ``8n`` of job ``9n`` saved on the backup server behind a URL with ``expires``."""
    body = json.loads(json.dumps(TEMPLATE))
    body["job"]["id"], body["output"]["id"] = f"9{n}", f"8{n}"
    body["output"]["label"] = f"mp4-{n}"
    body["output"]["url"] = f"https://zencoder-backup.s3.amazonaws.com/o/{n}.mp4?{expires}"
    assert post(client, "zencoder", json.dumps(body).encode()).status_code == 202


def epoch(**delta: float) -> str:
    return f"Signature=x&Expires={int((utcnow() + timedelta(**delta)).timestamp())}"


def rows(html: str) -> list[str]:
    body = html.partition("<tbody>")[2].partition("</tbody>")[0]
    return re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)


def test_the_view_lists_available_copies_first_soonest_first_and_marks_expired(admin, client):
    backed_up(client, 1, epoch(hours=5))
    backed_up(client, 2, epoch(hours=-2))
    backed_up(client, 3, "Signature=x")  # no deadline in the URL
    signed = (utcnow() - timedelta(hours=1)).strftime("%Y%m%dT%H%M%SZ")
    backed_up(client, 4, f"X-Amz-Date={signed}&X-Amz-Expires=7200")  # SigV4: 1 h left
    html = admin.get("/admin/backups").get_data(as_text=True)
    listed = rows(html)
    assert [re.search(r"job</span> <span[^>]*>(9\d)", row).group(1) for row in listed] == [
        "94", "91", "93", "92",
    ]  # fmt: skip
    assert re.search(r"\(<time [^>]+>in (59 min|1 h)</time>\)", listed[0])
    assert re.search(r"in 4 h 5\d min|in 5 h", listed[1])
    assert 'href="https://zencoder-backup.s3.amazonaws.com/o/1.mp4?' in listed[1]
    assert "no deadline in the URL" in listed[2]
    assert "st-expired" in listed[3] and "2 h ago" in listed[3] and "o/2.mp4" not in listed[3]


def test_group_and_failure_pages_say_until_when_with_the_link(admin, client, session):
    backed_up(client, 1, epoch(hours=5))
    [failure] = session.scalars(select(Failure)).all()
    page = admin.get(f"/admin/failures/{failure.id}").get_data(as_text=True)
    assert re.search(r"Backup copy available until \d{4}-\d\d-\d\d \d\d:\d\d UTC", page)
    assert re.search(r"\(<time [^>]+>in (4 h 5\d min|5 h)</time>\)", page)
    assert "download it from the backup URL" in page and "o/1.mp4" in page
    # The catalog's action for a backup-server failure starts with saving the copy.
    assert "First save the output" in page and "before it expires" in page
    group_id = session.scalars(select(AlertGroup.id)).one()
    group_page = admin.get(f"/admin/groups/{group_id}").get_data(as_text=True)
    assert "Backup copies: save them before they expire" in group_page
    assert "o/1.mp4" in group_page and "First save the output" in group_page
    landing = admin.get("/admin/").get_data(as_text=True)
    assert "backup copies" in landing and "First save the output" in landing


def test_the_view_of_one_groups_copies(admin, client, session):
    backed_up(client, 1, epoch(hours=5))
    failure = dict(json.loads(json.dumps(TEMPLATE)))
    failure["output"]["primary_upload_error_link"] = (
        "https://app.zencoder.com/docs/errors/UploadAccessDeniedError"
    )
    failure["job"]["id"], failure["output"]["id"] = "95", "85"
    assert post(client, "zencoder", json.dumps(failure).encode()).status_code == 202
    groups = dict(
        session.execute(select(AlertGroup.labels["code"].as_string(), AlertGroup.id)).all()
    )
    html = admin.get(f"/admin/backups?group={groups['UnableToResolveHostError']}").get_data(
        as_text=True
    )
    assert len(rows(html)) == 1 and "o/1.mp4" in html
