"""How Agora's codes are written: REST API HTTP statuses, then NCS task states and stop reasons.

A status Agora does not list is still an HTTP status, classified by its class.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from receiver.catalog import (
    MAX_INPUT_CHARS,
    UNKNOWN_CATEGORY,
    CatalogEntry,
    CodeRules,
    Parsed,
    VendorData,
    as_int,
    classify_http_status,
    display,
    frozen_details,
    http_phrase,
    int_value,
    name_parse,
)

_ACTIONS: Mapping[str, str] = {
    "ok": "Not a failure; no action needed.",
    "credentials": (
        "Check the HTTP Basic credentials (customer ID / secret) and that Cloud Transcoding is "
        "enabled for the App ID; do not retry unchanged."
    ),
    "remote_not_found": (
        "Confirm the transcoder/resource exists with a Query call, retrying with backoff "
        "(5, 10, 15 s) right after a create."
    ),
    "rate_limited": "Slow down and retry with backoff.",
    "configuration": (
        "Fix the request (URL, method, parameters) using the message field of the response; "
        "retrying unchanged will fail again."
    ),
    "remote_unavailable": (
        "Retry with backoff (5, 10, 15 s); if it persists, contact Agora support with the "
        "X-Request-ID and X-Resource-ID response headers."
    ),
    UNKNOWN_CATEGORY: (
        "Unexpected HTTP status from the Agora REST API: log the full response (status, message, "
        "X-Request-ID, X-Resource-ID) and check Agora's status-code documentation."
    ),
}


class AgoraCodes(CodeRules):
    # REST API HTTP statuses, then NCS task states and stop reasons (FAILURE_STOP).
    pattern = re.compile(r"^([1-5][0-9]{2}|[A-Z][A-Z0-9_]+)$")
    numeric = True

    def parse(self, raw: object) -> Parsed:
        value = as_int(raw)
        if value is None and isinstance(raw, str) and len(raw) <= MAX_INPUT_CHARS:
            match = re.match(r"\s*(\d{3})(?!\d)", raw)
            value = int(match.group(1)) if match else None
        if value is None:
            return name_parse(raw)
        return Parsed(display(raw), (str(value),), (value,))

    def fallback(self, parsed: Parsed, data: VendorData) -> CatalogEntry | None:
        """Statuses Agora does not list are still HTTP statuses; classify them by class."""
        for status in parsed.values:
            if 100 <= status <= 599:
                category, severity, retryable = classify_http_status(
                    status, client_error="configuration"
                )
                phrase = http_phrase(status)
                label = f"HTTP {status}" + (f" {phrase}" if phrase else "")
                return CatalogEntry(
                    vendor=data.vendor,
                    code=str(status),
                    name=phrase,
                    category=category,
                    severity=severity,
                    retryable=retryable,
                    description=(
                        f"{label} from the Agora Cloud Transcoding REST API (not in Agora's table)."
                    ),
                    action=_ACTIONS[category],
                    doc_url=data.source,
                    known=False,
                    details=frozen_details(
                        {"rule": "generic HTTP status class", "source": "derived"}
                    ),
                )
        return None

    def value_of(self, code: str) -> int | None:
        return int_value(code)
