"""A fixture sent as if it happened now (``receiver send-test`` without ``--keep-dates``): every
vendor folder declares where its times are (``receiver/vendors/fixture_dates.py``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from receiver.fixtures import fixture_at
from receiver.vendors import BY_NAME, VENDORS
from receiver.vendors.fixture_dates import FixtureDates
from tests.helpers import FIXTURES, stored_failures
from tests.vendors.kits import fixture_files, signed
from tests.vendors.test_golden import golden_path

NOW = datetime(2026, 12, 6, 14, 0, 0, 500000, tzinfo=UTC)
FIXTURE_FILES = [path for vendor in VENDORS for path in fixture_files(vendor.name)]
#: The longest a fixture's failure happened before its latest time (an Agora task that ran an
#: hour, a KVS batch buffered offline for ten minutes).
LONGEST_STORY = timedelta(hours=2)


@pytest.mark.parametrize(
    "path", FIXTURE_FILES, ids=[str(p.relative_to(FIXTURES)) for p in FIXTURE_FILES]
)
def test_every_fixtures_failures_occur_now_when_sent_as_new(app, client, session, path):
    fixture = fixture_at(path, BY_NAME[path.parent.name])
    sent_at = datetime.now(UTC)
    body = fixture.vendor.fixture_dates.moved(path.read_bytes(), sent_at, xml=fixture.is_xml)
    assert body != path.read_bytes(), "no time moved: declare its fields in its vendor's folder"

    body, headers = signed(app, fixture.endpoint, body, fixture.content_type)
    response = client.post(f"/hooks/{fixture.endpoint}", data=body, headers=headers)

    assert response.status_code in (200, 202), response.json
    expected = json.loads(golden_path(path).read_text())["failures"]
    failures = stored_failures(session)
    assert len(failures) == len(expected)
    for failure in failures:
        occurred = failure.occurred_at.replace(tzinfo=UTC)
        assert sent_at - LONGEST_STORY <= occurred <= sent_at, failure.code


def test_times_move_together_and_keep_how_they_are_written():
    dates = FixtureDates(iso=("at", "end"), epoch=(("ms", 1000), ("s", 1)))
    body = json.dumps(
        {
            "at": "2024-06-10T06:30:00.123+0000",
            "nested": [{"end": "2024-06-10T08:30:00Z"}, {"end": None}],
            "ms": 1718000000000,
            "s": 1718000000,
            "other": "2024-06-10T06:30:00Z",  # not declared: not a vendor time
        }
    ).encode()

    moved = json.loads(dates.moved(body, NOW))

    assert moved["nested"][0]["end"] == "2026-12-06T14:00:00Z"  # the latest is now
    assert moved["at"] == "2026-12-06T12:00:00.123+0000"  # two hours before, as it was
    assert moved["nested"][1]["end"] is None
    assert moved["other"] == "2024-06-10T06:30:00Z"
    # 1718000000 is 2024-06-10T06:13:20Z, 2 h 16 min 40 s before the latest.
    assert moved["s"] == int((NOW - timedelta(hours=2, minutes=16, seconds=40)).timestamp())
    assert moved["ms"] == moved["s"] * 1000


def test_times_in_json_inside_a_string_and_deadlines_in_urls_move_too():
    dates = FixtureDates(iso=("Timestamp", "StateChangeTime"), url_epoch_seconds=("Expires",))
    envelope = {
        "Timestamp": "2024-06-10T06:32:00Z",
        "Message": json.dumps({"StateChangeTime": "2024-06-10T06:31:59.123+0000"}),
        "Subject": '{"not": "json"',
        "url": "https://bucket.example.com/a.mp4?Signature=x&Expires=1718008320&Key=y",
    }

    moved = json.loads(dates.moved(json.dumps(envelope).encode(), NOW))

    assert moved["Timestamp"] == "2026-12-06T14:00:00Z"
    assert json.loads(moved["Message"]) == {"StateChangeTime": "2026-12-06T13:59:59.123+0000"}
    assert moved["Subject"] == envelope["Subject"]
    # Expires (2024-06-10T08:32:00Z) was 2 h after the Timestamp: it still is.
    expires = int(moved["url"].split("Expires=")[1].split("&")[0])
    assert datetime.fromtimestamp(expires, UTC) == datetime(2026, 12, 6, 16, 0, tzinfo=UTC)


def test_xml_times_move():
    dates = FixtureDates(iso=("updated_at",))
    body = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<notification><job>'
        b'<updated_at type="datetime">2024-05-14T10:09:12Z</updated_at></job></notification>'
    )
    moved = dates.moved(body, NOW, xml=True)
    assert b'<updated_at type="datetime">2026-12-06T14:00:00Z</updated_at>' in moved


@pytest.mark.parametrize(
    "body", [b"not json", b"[1, 2]", b'{"at": "yesterday"}', b'{"at": "2024-13-45T00:00:00Z"}']
)
def test_a_body_without_a_readable_time_is_sent_as_it_is(body):
    assert FixtureDates(iso=("at",)).moved(body, NOW) == body
