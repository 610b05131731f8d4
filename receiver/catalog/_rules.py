"""How each vendor writes its codes, and the fallback rules for codes the data files do not list.

Only *rules* live here (input spellings, the LightFlow 24XX/25XX HTTP ranges, the Agora HTTP status
classes, the KVS library ranges); every concrete code lives in ``data/*.toml``. Everything here
must accept arbitrary input without raising: webhooks carry whatever the vendor (or an attacker)
put in them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlsplit

from ._model import UNKNOWN_CATEGORY, CatalogEntry, frozen_details

#: Longer inputs are not codes; do not spend time parsing them (and avoid int() DoS limits).
MAX_INPUT_CHARS = 256
#: KVS statuses are 32-bit; the one 64-bit value is the INVALID_DURATION_VALUE sentinel.
_U64 = 2**64


@dataclass(frozen=True)
class Parsed:
    """A raw code after vendor-specific parsing.

    ``keys`` are canonical code spellings to try in order (lower case, as indexed); ``values``
    are the numeric readings of the input in the same order (empty for non-numeric vendors).
    """

    text: str
    keys: tuple[str, ...] = ()
    values: tuple[int, ...] = ()


@dataclass(frozen=True)
class Base:
    """A KVS library range: ``[value, value + span)`` belongs to ``entry.details['library']``."""

    value: int
    span: int
    entry: CatalogEntry

    @property
    def name(self) -> str:
        """The ``STATUS_*_BASE`` symbol (0x00000000 is reported as STATUS_SUCCESS)."""
        names = [self.entry.name or "", *self.entry.details.get("alt_names", "").split(", ")]
        return next((n for n in names if n.endswith("_BASE")), names[0])


@dataclass(frozen=True)
class VendorData:
    """What a fallback rule may know about the loaded vendor file."""

    vendor: str
    version: int
    source: str | None
    bases: tuple[Base, ...] = ()
    #: Said before an entry's action when the failure's files went to the vendor's backup server.
    backup_server_action: str | None = None


@dataclass(frozen=True)
class VendorRules:
    """Parsing and fallback behaviour for one vendor."""

    numeric: bool
    parse: Callable[[object], Parsed]
    fallback: Callable[[Parsed, VendorData], CatalogEntry | None]
    value_of: Callable[[str], int | None]


# ------------------------------------------------------------------------------------------------
# Input helpers
# ------------------------------------------------------------------------------------------------


def display(raw: object) -> str:
    """A short, safe string for any input, used as the ``code`` of fallback entries."""
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return str(raw)
    if isinstance(raw, int):
        if raw.bit_length() > 128:
            return f"<integer of {raw.bit_length()} bits>"
        return str(raw)
    text = raw if isinstance(raw, str) else repr(raw)
    text = "".join(ch if ch.isprintable() else "?" for ch in text.strip())
    return text if len(text) <= 64 else text[:63] + "…"


def _as_int(raw: object) -> int | None:
    """An integer from an int, an integral float, or a decimal string; else None.

    Values beyond 64 bits are no vendor's code; refusing them keeps ``str()`` on them safe.
    """
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if raw.bit_length() <= 64 else None
    if isinstance(raw, float):
        return int(raw) if math.isfinite(raw) and raw.is_integer() else None
    if isinstance(raw, str):
        text = raw.strip()
        if len(text) <= 20 and re.fullmatch(r"[+-]?\d+", text):
            return int(text)
    return None


# ------------------------------------------------------------------------------------------------
# HTTP status classes (LightFlow 24XX/25XX ranges, unlisted Agora statuses)
# ------------------------------------------------------------------------------------------------


def classify_http_status(status: int, *, client_error: str) -> tuple[str, str, str]:
    """(category, severity, retryable) for an HTTP status; ``client_error`` for other 4xx."""
    if 200 <= status < 300:
        return "ok", "info", "no"
    if status in (401, 403):
        return "credentials", "error", "no"
    if status in (404, 410):
        return "remote_not_found", "error", "no"
    if status == 429:
        return "rate_limited", "warning", "backoff"
    if 400 <= status < 500:
        return client_error, "error", "no"
    if 500 <= status < 600:
        return "remote_unavailable", "error", "backoff"
    return UNKNOWN_CATEGORY, "error", "no"


def _phrase(status: int) -> str | None:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return None


_LIGHTFLOW_RANGE_ACTIONS: Mapping[str, str] = {
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


def _lightflow_parse(raw: object) -> Parsed:
    value = _as_int(raw)
    if value is None:
        return Parsed(display(raw))
    return Parsed(display(raw), (str(value),), (value,))


def _lightflow_fallback(parsed: Parsed, data: VendorData) -> CatalogEntry | None:
    """LightFlow documents 24XX/25XX as 'remote server returned HTTP 4XX/5XX' for the input."""
    for value in parsed.values:
        if 2400 <= value <= 2599:
            status = value - 2000
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
                action=_LIGHTFLOW_RANGE_ACTIONS[category].format(status=status),
                doc_url=data.source,
                known=True,
                details=frozen_details(
                    {
                        "remote_http_status": status,
                        "http_reason": _phrase(status),
                        "rule": "LightFlow 24XX/25XX: remote HTTP status while downloading input",
                        "source": "derived",
                    }
                ),
            )
    return None


_AGORA_ACTIONS: Mapping[str, str] = {
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


def _agora_parse(raw: object) -> Parsed:
    value = _as_int(raw)
    if value is None and isinstance(raw, str) and len(raw) <= MAX_INPUT_CHARS:
        match = re.match(r"\s*(\d{3})(?!\d)", raw)
        value = int(match.group(1)) if match else None
    if value is None:
        return _name_parse(raw)
    return Parsed(display(raw), (str(value),), (value,))


def _agora_fallback(parsed: Parsed, data: VendorData) -> CatalogEntry | None:
    """Statuses Agora does not list are still HTTP statuses; classify them by class."""
    for status in parsed.values:
        if 100 <= status <= 599:
            category, severity, retryable = classify_http_status(
                status, client_error="configuration"
            )
            phrase = _phrase(status)
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
                action=_AGORA_ACTIONS[category],
                doc_url=data.source,
                known=False,
                details=frozen_details({"rule": "generic HTTP status class", "source": "derived"}),
            )
    return None


# ------------------------------------------------------------------------------------------------
# KVS: hex/decimal spellings and library ranges
# ------------------------------------------------------------------------------------------------


def kvs_code(value: int) -> str:
    """Canonical spelling: lower-case, zero-padded to 8 (or 16 for 64-bit) hex digits."""
    return f"0x{value:08x}" if value < 2**32 else f"0x{value:016x}"


def _kvs_value(code: str) -> int | None:
    try:
        return int(code, 16)
    except ValueError:
        return None


def _kvs_parse(raw: object) -> Parsed:
    """Read ``0x5200005C``, ``5200005c``, ``1375731804`` (int or string), ``-1`` (int64).

    A bare 8-digit string of decimal digits is ambiguous (``52000010``); both readings are
    tried, hex first, because logs print STATUS values in hex without the prefix far more often
    than a decimal that large (every decimal of 8 digits lands in an unused range).
    """
    text = display(raw)
    values: list[int] = []
    if isinstance(raw, bool):
        pass
    elif isinstance(raw, int | float):
        value = _as_int(raw)
        if value is not None:
            values.append(value)
    elif isinstance(raw, str) and len(raw) <= MAX_INPUT_CHARS:
        s = raw.strip().lower().replace("_", "")
        hex_digits = re.fullmatch(r"[0-9a-f]{1,16}", s) and re.search(r"[a-f]", s)
        if re.fullmatch(r"0x[0-9a-f]{1,16}", s) or hex_digits:
            values.append(int(s, 16))
        elif re.fullmatch(r"[+-]?\d{1,20}", s):
            if len(s) == 8:
                values.append(int(s, 16))
            values.append(int(s))
    # Signed 64-bit readings of unsigned statuses (e.g. -1 for INVALID_DURATION_VALUE).
    values = [v + _U64 if -(2**63) <= v < 0 else v for v in values]
    values = [v for v in values if 0 <= v < _U64]
    return Parsed(text, tuple(kvs_code(v) for v in values), tuple(values))


def kvs_bases(entries: Sequence[CatalogEntry]) -> tuple[Base, ...]:
    """Library ranges from the ``is_base`` entries, most specific (smallest span) first.

    A base owns ``[base, base + 2**trailing_zero_bits(base))``: 0x52000000 owns 0x52000000 to
    0x53ffffff, 0x41100000 owns 0x41100000 to 0x411fffff. Base 0 (common) owns everything below
    the lowest other base, so a stray 0x20000000 is not blamed on the common library.
    """
    values = [(int(e.code, 16), e) for e in entries if e.details.get("is_base") == "true"]
    lowest = min((v for v, _ in values if v), default=2**32)
    bases = [Base(v, (v & -v) if v else lowest, e) for v, e in values]
    return tuple(sorted(bases, key=lambda b: (b.span, b.value)))


def _kvs_fallback(parsed: Parsed, data: VendorData) -> CatalogEntry | None:
    """Name the library that owns an unlisted status, from the most specific base range."""
    for value in parsed.values:
        base = next((b for b in data.bases if b.value <= value < b.value + b.span), None)
        if base is None:
            continue
        details = base.entry.details
        library = details.get("library", "unknown")
        also = details.get("alt_libraries")
        owner = library + (f" (or {also})" if also else "")
        code = kvs_code(value)
        offset = value - base.value
        where = details.get("definition") or base.entry.doc_url or "the SDK headers"
        return CatalogEntry(
            vendor=data.vendor,
            code=code,
            name=None,
            category=UNKNOWN_CATEGORY,
            severity="error",
            retryable="no",
            description=(
                f"Unlisted KVS status {code} in the {owner} library range "
                f"({base.name} {base.entry.code} + {offset:#x})."
            ),
            action=(
                f"{code} is not in catalog version {data.version}; newer producer SDKs add codes. "
                f"Look it up in the {library} library header of the SDK version the device runs "
                f"(this catalog's copy: {where}), then regenerate data/kvs.toml with "
                "scripts/build_kvs_catalog.py. Meanwhile read the device's SDK log around the "
                "report: the status is returned by that library."
            ),
            doc_url=base.entry.doc_url,
            known=False,
            details=frozen_details(
                {
                    "library": library,
                    "alt_libraries": also,
                    "base": base.entry.code,
                    "base_name": base.name,
                    "offset": f"{offset:#x}",
                    "rule": "KVS library range (most specific is_base row)",
                }
            ),
        )
    return None


# ------------------------------------------------------------------------------------------------
# Zencoder: error class names, also inside documentation links
# ------------------------------------------------------------------------------------------------


def _zencoder_parse(raw: object) -> Parsed:
    """Accept ``UnableToResolveHostError`` or a docs link ending in it (path or ``#anchor``)."""
    text = display(raw)
    if not isinstance(raw, str) or len(raw) > 2048:
        return Parsed(text)
    s = raw.strip()
    if "/" in s or "#" in s:
        try:
            parts = urlsplit(s)
        except ValueError:
            return Parsed(text)
        segment = parts.fragment or next((p for p in reversed(parts.path.split("/")) if p), "")
        s = segment.removesuffix(".html")
    if not s or len(s) > MAX_INPUT_CHARS:
        return Parsed(text)
    return Parsed(text, (s.lower(),))


def _name_parse(raw: object) -> Parsed:
    """Codes that are names (Agora NCS states like FAILURE_STOP, CloudWatch metric names)."""
    if not isinstance(raw, str) or len(raw) > MAX_INPUT_CHARS or not raw.strip():
        return Parsed(display(raw))
    return Parsed(display(raw), (raw.strip().lower(),))


def _no_fallback(parsed: Parsed, data: VendorData) -> CatalogEntry | None:
    return None


def _int_value(code: str) -> int | None:
    return int(code) if code.isdigit() else None


RULES: Mapping[str, VendorRules] = {
    "lightflow": VendorRules(True, _lightflow_parse, _lightflow_fallback, _int_value),
    "agora": VendorRules(True, _agora_parse, _agora_fallback, _int_value),
    "kvs": VendorRules(True, _kvs_parse, _kvs_fallback, _kvs_value),
    "zencoder": VendorRules(False, _zencoder_parse, _no_fallback, lambda code: None),
    "cloudwatch": VendorRules(False, _name_parse, _no_fallback, lambda code: None),
}


def unknown_entry(vendor: str, text: str, *, reason: str, doc_url: str | None) -> CatalogEntry:
    """The entry for anything the catalog and its rules cannot decode."""
    shown = text or "(empty)"
    return CatalogEntry(
        vendor=vendor,
        code=text,
        name=None,
        category=UNKNOWN_CATEGORY,
        severity="error",
        retryable="no",
        description=f"Unrecognised {vendor or 'vendor'} code {shown!r}: {reason}",
        action=(
            "Read the raw payload and the vendor's error message for this event, check the "
            "vendor's documentation for the code, and add it to receiver/catalog/data/"
            f"{vendor or '<vendor>'}.toml if it is real. Treat the failure as unclassified "
            "until then."
        ),
        doc_url=doc_url,
        known=False,
        details=frozen_details({"reason": reason}),
    )
