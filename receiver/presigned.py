"""When a pre-signed S3 URL stops working, read from the URL itself.

A pre-signed URL carries its deadline in the query string, in one of two signing styles:

- query-string authentication, signature version 2: ``Expires=<seconds since the epoch>``;
- signature version 4: ``X-Amz-Date=<YYYYMMDDTHHMMSSZ>`` (when it was signed) plus
  ``X-Amz-Expires=<seconds>`` (how long it is valid).

Anything else (no such parameters, a value that is not a number or a date, a deadline no
calendar can hold) gives ``None``: the caller says "no deadline known" rather than guessing.
Vendor-neutral: a provider decides which of its URLs are such copies.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

#: SigV4 allows at most seven days; a larger value is not a signature's, but we still take it
#: up to this bound rather than calling a readable deadline unknown.
MAX_VALIDITY = timedelta(days=3650)
_DIGITS = frozenset("0123456789")


def presigned_url_expiry(url: str | None) -> datetime | None:
    """The UTC time the pre-signed ``url`` expires, or None when it does not say (or garbles it)."""
    if not url:
        return None
    try:
        query = urlsplit(url).query
    except ValueError:  # e.g. an invalid IPv6 host
        return None
    # Parameter names are case-sensitive for S3; matching them case-insensitively costs nothing
    # and keeps a proxy that lower-cased them from hiding the deadline.
    params = {name.lower(): value for name, value in parse_qsl(query, keep_blank_values=True)}
    if "x-amz-date" in params or "x-amz-expires" in params:
        return _sigv4_expiry(params.get("x-amz-date"), params.get("x-amz-expires"))
    return _epoch(params.get("expires"))


def _sigv4_expiry(signed_at: str | None, seconds: str | None) -> datetime | None:
    validity = _seconds(seconds)
    if signed_at is None or validity is None or validity > MAX_VALIDITY:
        return None
    try:
        start = datetime.strptime(signed_at, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        return start + validity
    except (ValueError, OverflowError):
        return None


def _epoch(value: str | None) -> datetime | None:
    seconds = _seconds(value)
    if seconds is None:
        return None
    try:
        return datetime(1970, 1, 1, tzinfo=UTC) + seconds
    except OverflowError:
        return None


def _seconds(value: str | None) -> timedelta | None:
    # Plain decimal digits only: int() would also accept "+5", " 5", "5_000" and other scripts' digits.
    if not value or len(value) > 12 or not set(value) <= _DIGITS:
        return None
    return timedelta(seconds=int(value))
