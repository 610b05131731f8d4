"""Hostile input against every hook endpoint, with properties that hold for every example:

- never a 5xx, and every 4xx is JSON with a ``message``;
- a request that is not the vendor's never leaves a job, file or failure behind;
- every refused request is kept as a ``rejected`` notification with its reason and its body
  (cut to the limit when it was too large);
- a request the vendor could have sent is answered 2xx or 4xx, decided by the schema.

Each example runs in its own rolled-back transaction, so examples cannot see each other.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from io import BytesIO

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from receiver.db import get_database
from receiver.models import Failure, Job, JobFile, Notification
from tests.conftest import rolled_back
from tests.fuzz.conftest import TALLY, example_budget
from tests.fuzz.senders import ENDPOINTS, SEEDS, Attempt
from tests.fuzz.strategies import deep_nesting, extra_headers, one_field_edited

NORMALIZED = (Job, JobFile, Failure)
# What an unauthenticated request may get: malformed (SNS reads its envelope to find the
# signature), unauthorized, a foreign topic, or too large.
REFUSED_UNREAD = {400, 401, 403, 413}
JSON = {"Content-Type": "application/json"}


def normalized_rows(session: Session) -> tuple[int, ...]:
    return tuple(
        session.scalar(select(func.count()).select_from(model)) or 0 for model in NORMALIZED
    )


def exchange(app: Flask, endpoint: str, attempt: Attempt, headers: dict[str, str]) -> int:
    """Send one attempt in a transaction of its own and check every property."""
    limit = app.extensions["settings"].max_body_bytes
    with rolled_back(app), get_database(app).sessionmaker() as session:
        before = normalized_rows(session)
        # A raw input stream: with ``data=`` the test client would build its own multipart body.
        response = app.test_client().post(
            attempt.path + attempt.query,
            input_stream=BytesIO(attempt.body),
            content_length=len(attempt.body),
            headers={**headers, **attempt.headers},
        )
        status = response.status_code
        TALLY[endpoint][status] += 1
        context = f"{attempt.how}: {status} {response.get_data()[:300]!r}"

        assert status < 500, context
        assert response.is_json, context
        answer = response.get_json()
        if status < 300:
            assert attempt.authentic, context
            assert answer["status"] in ("accepted", "duplicate"), context
            return status
        assert 400 <= status < 500 and answer.get("message"), context
        if not attempt.authentic:
            assert status in REFUSED_UNREAD, context
            assert normalized_rows(session) == before, context

        kept = session.get(Notification, answer["id"])
        assert kept is not None, context
        assert (kept.status, kept.http_status) == ("rejected", status), context
        assert kept.reason, context
        if kept.auth in ("failed", "unchecked"):
            # Nobody vouched for it: a prefix, with the size and hash of what was read.
            prefix = app.extensions["settings"].refused_prefix_bytes
            assert kept.body == attempt.body[:prefix], context
            assert kept.body_truncated == (len(attempt.body) > prefix), context
            assert kept.body_size == len(attempt.body), context
            read = attempt.body[:limit]
            assert kept.body_sha256 == hashlib.sha256(read).hexdigest(), context
        else:
            assert not kept.body_truncated and kept.body == attempt.body, context
        if attempt.authentic and status not in (413, 503):
            # The vendor's own request: authentication passed and the body decided.
            assert kept.auth == "passed", context
        return status


def fuzz(app: Flask, endpoint: str, backend: str, strategy: st.SearchStrategy, share=1.0):
    """Run one property with this backend's example budget (hypothesis settings per call)."""

    @settings(max_examples=example_budget(backend, share))
    @given(attempt=strategy, headers=extra_headers)
    def check(attempt: Attempt, headers: dict[str, str]) -> None:
        exchange(app, endpoint, attempt, headers)

    check()


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_hostile_requests(shared_app, backend, endpoint):
    fuzz(shared_app, endpoint, backend, ENDPOINTS[endpoint](None))


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_one_hostile_field_in_the_vendors_own_request(shared_app, backend, endpoint):
    """Authentic, JSON, valid but for one field: the schema and everything after it decide."""
    attempts = (
        ENDPOINTS[endpoint](one_field_edited(SEEDS[endpoint]))
        .filter(lambda attempt: attempt.authentic)
        .map(lambda attempt: replace(attempt, headers={**attempt.headers, **JSON}))
    )
    fuzz(shared_app, endpoint, backend, attempts)


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_bodies_past_the_limit_are_413_and_kept_truncated(shared_app, backend, endpoint):
    limit = shared_app.extensions["settings"].max_body_bytes
    sizes = st.sampled_from([limit + 1, 10 * 2**20]) | st.integers(limit + 1, 10 * 2**20)
    fills = st.sampled_from([b"x", b"[", b'{"a":1,', b"\xff", b"\x00"])
    big = st.builds(lambda size, fill: (fill * size)[:size], sizes, fills)

    @settings(max_examples=example_budget(backend, 0.05))
    @given(attempt=ENDPOINTS[endpoint](big))
    def check(attempt: Attempt) -> None:
        assert exchange(shared_app, endpoint, attempt, {}) == 413

    check()


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_deep_nesting_is_refused_not_a_crash(shared_app, backend, endpoint):
    """100k nested arrays or objects: past any recursion limit, whoever parses them."""
    deep = st.sampled_from(
        [
            deep_nesting(100_000, "array").text.encode(),
            deep_nesting(100_000, "object").text.encode(),
        ]
    )
    fuzz(shared_app, endpoint, backend, ENDPOINTS[endpoint](deep), share=0.1)
