"""How LightFlow writes its codes (``assetError.code``, an integer), and the 24XX/25XX ranges.

LightFlow documents 24XX/25XX as "remote server returned HTTP 4XX/5XX" while it downloaded the
input, so a code in those ranges decodes from the HTTP status it carries, listed or not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from receiver.catalog import (
    CatalogEntry,
    CodeRules,
    Parsed,
    VendorData,
    classify_http_status,
    frozen_details,
    http_phrase,
    int_value,
    integer_parse,
)

_RANGE_ACTIONS: Mapping[str, str] = {
    "credentials": (
        "The input server refused LightFlow with HTTP {status}: check the credentials and "
        "permissions LightFlow uses to read the input (bucket policy, keys, signed-URL expiry), "
        "fix them and re-process the asset."
    ),
    "remote_not_found": (
        "The input server answered HTTP {status}: check the input URL/key and that the file exists "
        "before the asset is created, then re-process."
    ),
    "rate_limited": (
        "The input server throttled LightFlow (HTTP {status}): re-process later with backoff and "
        "submit fewer assets in parallel from that server."
    ),
    "input": (
        "The input server rejected the download with HTTP {status}: open the input URL yourself to "
        "see why (wrong URL, method or headers the server requires), fix it and re-process."
    ),
    "remote_unavailable": (
        "The input server failed with HTTP {status}: check its health and re-process with backoff; "
        "contact LightFlow support if the server is healthy."
    ),
}


def _remote_http_status(code: int) -> int | None:
    return code - 2000 if 2400 <= code <= 2599 else None


class LightFlowCodes(CodeRules):
    pattern = re.compile(r"^[1-9][0-9]{3}$")
    numeric = True

    def parse(self, raw: object) -> Parsed:
        return integer_parse(raw)

    def fallback(self, parsed: Parsed, data: VendorData) -> CatalogEntry | None:
        for value in parsed.values:
            status = _remote_http_status(value)
            if status is None:
                continue
            category, severity, retryable = classify_http_status(status, client_error="input")
            return CatalogEntry(
                vendor=data.vendor,
                code=str(value),
                name=None,
                category=category,
                severity=severity,
                retryable=retryable,
                description=(
                    f"Remote server returned HTTP {status} while downloading the input file"
                ),
                action=_RANGE_ACTIONS[category].format(status=status),
                doc_url=data.source,
                known=True,
                details=frozen_details(
                    {
                        "remote_http_status": status,
                        "http_reason": http_phrase(status),
                        "rule": "LightFlow 24XX/25XX: remote HTTP status while downloading input",
                        "source": "derived",
                    }
                ),
            )
        return None

    def value_of(self, code: str) -> int | None:
        return int_value(code)

    def entry_details(self, entry: Mapping[str, Any]) -> Mapping[str, object]:
        """Listed 24XX/25XX codes carry the remote HTTP status too, like the range fallback."""
        status = _remote_http_status(int(entry["code"]))
        return {} if status is None else {"remote_http_status": status}
