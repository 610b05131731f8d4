"""Reading a pre-signed S3 URL's deadline: both signing styles, and nothing when it does not say."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from receiver.presigned import presigned_url_expiry

BUCKET = "https://zencoder-temp-storage-us-east-1.s3.amazonaws.com/o/20261206/abc/out.mp4"


def test_query_string_auth_v2_expires_is_seconds_since_the_epoch():
    url = f"{BUCKET}?AWSAccessKeyId=AKIAEXAMPLE&Signature=q9Xw2%2FkLmN0p%3D&Expires=1715767200"
    assert presigned_url_expiry(url) == datetime(2024, 5, 15, 10, 0, tzinfo=UTC)


def test_the_seed_documents_url_with_its_broken_percent_escape():
    # From "How Zencoder Saves Your Files When Uploads Fail": "%&" is not a valid escape.
    url = (
        "https://zencoder-live.s3.amazonaws.com/2Faf653e6b5e9b4440081827be2dcd962c.mp4"
        "?Signature=0DhjHh1X%2FQxSk%&Expires=1317237305&AWSAccessKeyId=AKIA"
    )
    assert presigned_url_expiry(url) == datetime(2011, 9, 28, 19, 15, 5, tzinfo=UTC)


def test_sigv4_is_the_signing_time_plus_the_validity():
    url = (
        f"{BUCKET}?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAEXAMPLE%2F20261206%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20261206T081500Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
        "&X-Amz-Signature=0123456789abcdef"
    )
    assert presigned_url_expiry(url) == datetime(2026, 12, 7, 8, 15, tzinfo=UTC)


def test_parameter_names_in_another_case_still_count():
    assert presigned_url_expiry(
        f"{BUCKET}?x-amz-date=20261206T081500Z&x-amz-expires=3600"
    ) == datetime(2026, 12, 6, 9, 15, tzinfo=UTC)
    assert presigned_url_expiry(f"{BUCKET}?expires=0") == datetime(1970, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        BUCKET,  # a public object: no query at all
        f"{BUCKET}?AWSAccessKeyId=AKIAEXAMPLE&Signature=abc",  # signed, but no deadline given
        "ftp://example.com/out.mp4",
        "s3://bucket/key.mp4",
    ],
)
def test_absent_means_no_deadline(url):
    assert presigned_url_expiry(url) is None


@pytest.mark.parametrize(
    "query",
    [
        "Expires=tomorrow",
        "Expires=",
        "Expires=-5",
        "Expires=+5",
        "Expires=1.5e9",
        "Expires=%D9%A5",  # an Arabic-Indic digit five: int() would take it
        "Expires=999999999999",  # year 33658: no calendar holds it
        "Expires=1" + "0" * 40,
        "X-Amz-Date=20261206T081500Z",  # SigV4 without its validity
        "X-Amz-Expires=3600",  # … or without its signing time
        "X-Amz-Date=2026-12-06T08:15:00Z&X-Amz-Expires=3600",
        "X-Amz-Date=20261306T081500Z&X-Amz-Expires=3600",  # month 13
        "X-Amz-Date=20261206T081500Z&X-Amz-Expires=soon",
        "X-Amz-Date=99991231T235959Z&X-Amz-Expires=3600",  # past the calendar's end
        "X-Amz-Date=20261206T081500Z&X-Amz-Expires=99999999999",  # longer than any signature
        # SigV4 parameters decide even next to an Expires: a mixed URL is not guessed at.
        "Expires=1715767200&X-Amz-Date=garbage&X-Amz-Expires=3600",
    ],
)
def test_garbage_means_no_deadline(query):
    assert presigned_url_expiry(f"{BUCKET}?{query}") is None


def test_a_far_deadline_is_still_a_deadline():
    expected = datetime(5138, 11, 16, 9, 46, 39, tzinfo=UTC)
    assert presigned_url_expiry(f"{BUCKET}?Expires=99999999999") == expected


def test_a_url_that_cannot_be_split_is_no_deadline():
    assert presigned_url_expiry("https://[::1/out.mp4?Expires=1715767200") is None
