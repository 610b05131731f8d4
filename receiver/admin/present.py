"""Template helpers: how stored, vendor-controlled values are shown.

Jinja escapes every value; these helpers add what escaping cannot: a vendor link is only a link
when it is http(s) (a ``javascript:`` URL would otherwise run on click), and raw bodies are shown
decoded and indented, never interpreted. Times a person scans are relative ("12 min ago"), with
the absolute UTC minute in the element's ``title``; trends are inline SVG drawn here (the CSP
allows no script, and bars styled by the page's stylesheet need no inline style).
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, g
from markupsafe import Markup, escape

from receiver.alerts.overview import ordered_labels
from receiver.alerts.triage import triage_state
from receiver.db import utcnow
from receiver.when import relative, utc_minute

#: Raw bodies longer than this are cut on the page (the CSV/API never show bodies).
MAX_BODY_CHARS = 200_000


def http_url(value: str | None) -> str | None:
    """The URL if it is an absolute http(s) URL, else None (render it as text instead)."""
    if not value:
        return None
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    return value.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def link_or_text(value: str | None, text: str | None = None) -> Markup:
    url = http_url(value)
    label = escape(text or value or "")  # escape() already returns Markup
    if url is None:
        return label
    # format() escapes both arguments; only the literal tag is trusted markup.
    return Markup('<a href="{}" rel="noopener noreferrer nofollow">{}</a>').format(url, label)


def pretty_body(body: bytes, content_type: str | None) -> str:
    text = body.decode("utf-8", errors="replace")
    if "json" in (content_type or "") or text.lstrip().startswith(("{", "[")):
        # Not JSON after all, or nested too deep to re-indent (hostile bodies are kept too):
        # shown as received.
        with contextlib.suppress(ValueError, RecursionError):
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    if len(text) > MAX_BODY_CHARS:
        text = text[:MAX_BODY_CHARS] + f"\n… ({len(text) - MAX_BODY_CHARS} more characters)"
    return text


def utc(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def request_now() -> datetime:
    """One "now" per request, so every relative time on a page counts from the same instant."""
    if "now" not in g:
        g.now = utcnow()
    now: datetime = g.now
    return now


def reltime(value: datetime | None, now: datetime | None = None) -> Markup:
    """``<time title="2026-12-06 14:05 UTC">12 min ago</time>``."""
    if value is None:
        return Markup("")
    return Markup('<time datetime="{}" title="{} UTC">{}</time>').format(
        value.astimezone(UTC).isoformat(), utc_minute(value), relative(value, now or request_now())
    )


def short_id(value: str | None, length: int = 24) -> Markup:
    """A long id (LightFlow UUIDs, KVS ARNs) cut in the middle, the full value in ``title``."""
    if not value:
        return Markup("")
    if len(value) <= length:
        return Markup('<span class="id">{}</span>').format(value)
    half = (length - 1) // 2
    return Markup('<span class="id" title="{}">{}…{}</span>').format(
        value, value[:half], value[-half:]
    )


#: Geometry of the inline trend: 24 bars of 4 px with 1 px gaps, 24 px high.
TREND_BAR, TREND_GAP, TREND_HEIGHT = 4, 1, 24


def trend_svg(counts: list[int], start: datetime, step_hours: int = 1) -> Markup:
    """Failures per hour as a tiny bar chart; each bar's ``<title>`` names its hour and count.

    Written with plain string formatting: every value in it is a number or a time this function
    formats itself (nothing to escape), and fifty rows of Markup.format cost the landing page
    more than its queries.
    """
    peak = max(counts, default=0) or 1
    width = len(counts) * (TREND_BAR + TREND_GAP) - TREND_GAP
    label = f"{sum(counts)} failures in the last {len(counts) * step_hours} h, per hour"
    parts = [
        f'<svg class="trend" viewBox="0 0 {width} {TREND_HEIGHT}" width="{width}" '
        f'height="{TREND_HEIGHT}" role="img" aria-label="{label}"><title>{label}</title>'
        f'<line class="axis" x1="0" y1="{TREND_HEIGHT}" x2="{width}" y2="{TREND_HEIGHT}"/>'
    ]
    for index, count in enumerate(counts):
        if not count:
            continue
        height = max(2.0, count / peak * TREND_HEIGHT)
        begins = utc_minute(start + timedelta(hours=index * step_hours))
        parts.append(
            f'<rect x="{index * (TREND_BAR + TREND_GAP)}" y="{TREND_HEIGHT - height:.1f}" '
            f'width="{TREND_BAR}" height="{height:.1f}"><title>{begins} UTC, {count} '
            f"failure{'s' if count != 1 else ''}</title></rect>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - numbers and our own time format only


def label_text(labels: dict[str, str]) -> str:
    """A group's label values in the rules' order: ``lightflow credentials 2007``."""
    return " ".join(value for _name, value in ordered_labels(labels) if value)


def shorten(value: str | None, length: int = 120) -> str:
    if not value:
        return ""
    return value if len(value) <= length else value[: length - 1] + "…"


def field_errors(errors: Any) -> str:
    """``{"status": ["Missing data..."]}`` as ``status: Missing data...`` (nested paths dotted)."""

    def walk(value: Any, path: str) -> list[str]:
        if isinstance(value, dict):
            return [line for key, item in value.items() for line in walk(item, f"{path}{key}.")]
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return [f"{path.rstrip('.')}: {' '.join(value)}"]
        return [f"{path.rstrip('.')}: {value}"]

    return "; ".join(walk(errors, "")) if errors else ""


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def register_template_helpers(app: Flask) -> None:
    app.add_template_filter(utc)
    app.add_template_filter(utc_minute)
    app.add_template_filter(shorten)
    app.add_template_filter(label_text)
    app.add_template_filter(triage_state, "triage")
    app.add_template_filter(pretty_json)
    app.add_template_filter(field_errors)
    app.add_template_global(link_or_text)
    app.add_template_global(reltime)
    app.add_template_global(short_id)
    app.add_template_global(trend_svg)
    app.add_template_global(request_now, "now")
