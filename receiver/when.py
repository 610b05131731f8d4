"""Times as people scan them: "12 min ago", "in 5 h", and the absolute UTC minute.

Shared by the admin pages, the CLI and alert texts, so a time reads the same everywhere.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

#: The absolute form used across the admin (and in the ``title`` of every relative time).
MINUTE_FORMAT = "%Y-%m-%d %H:%M"


def utc_minute(value: datetime | None) -> str:
    """``2026-12-06 14:05`` (UTC), or an empty string."""
    return value.astimezone(UTC).strftime(MINUTE_FORMAT) if value is not None else ""


def relative(value: datetime | None, now: datetime) -> str:
    """``just now``, ``12 min ago``, ``3 h ago``, ``2 days ago``; ``in 5 h`` for the future."""
    if value is None:
        return ""
    delta = value - now
    future = delta > timedelta(seconds=30)
    span = _span(abs(delta))
    if span is None:
        return "just now"
    return f"in {span}" if future else f"{span} ago"


def _span(length: timedelta) -> str | None:
    seconds = int(length.total_seconds())
    if seconds < 60:
        return None
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        hours = seconds // 3600
        minutes = seconds % 3600 // 60
        # "1 h 40 min" is worth the precision close to a deadline; beyond 10 h it is noise.
        return f"{hours} h {minutes} min" if hours < 10 and minutes else f"{hours} h"
    days = seconds // 86400
    return f"{days} days" if days < 60 else f"{days // 30} months"
