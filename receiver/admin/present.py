"""Template helpers: how stored, vendor-controlled values are shown.

Jinja escapes every value; these helpers add what escaping cannot: a vendor link is only a link
when it is http(s) (a ``javascript:`` URL would otherwise run on click), and raw bodies are shown
decoded and indented, never interpreted.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from markupsafe import Markup, escape

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
    app.add_template_filter(shorten)
    app.add_template_filter(pretty_json)
    app.add_template_filter(field_errors)
    app.add_template_global(link_or_text)
