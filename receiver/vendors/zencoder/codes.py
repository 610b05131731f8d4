"""How Zencoder names its errors: an error class (``UnableToResolveHostError``), which its
notifications also put at the end of documentation links (a path segment or a ``#`` anchor)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from receiver.catalog import MAX_INPUT_CHARS, CodeRules, Parsed, display

MAX_LINK_CHARS = 2048


def class_in_link(link: str) -> str:
    """The error class a documentation link names: its ``#`` anchor or its last path segment
    (``…/docs/errors/#NoMediaError``, ``…/docs/errors/UnableToResolveHostError``); ``""`` if
    it is no link."""
    try:
        parts = urlsplit(link.strip())
    except ValueError:
        return ""
    segment = parts.fragment or next((p for p in reversed(parts.path.split("/")) if p), "")
    return segment.removesuffix(".html")


class ZencoderCodes(CodeRules):
    pattern = re.compile(r"^[A-Z][A-Za-z0-9]+$")

    def parse(self, raw: object) -> Parsed:
        """Accept ``UnableToResolveHostError`` or a docs link ending in it (path or ``#anchor``)."""
        text = display(raw)
        if not isinstance(raw, str) or len(raw) > MAX_LINK_CHARS:
            return Parsed(text)
        s = raw.strip()
        if "/" in s or "#" in s:
            s = class_in_link(s)
        if not s or len(s) > MAX_INPUT_CHARS:
            return Parsed(text)
        return Parsed(text, (s.lower(),))
