"""The contract of a vendor's code rules, and the helpers they share.

A vendor's rules say how it writes its codes (the canonical spelling in its data file, the
spellings it accepts) and how to decode codes its data file does not list (LightFlow's remote
HTTP ranges, KVS library ranges); they live in the vendor's folder, every concrete code in its
data file. Everything here must accept arbitrary input without raising: webhooks carry whatever
the vendor (or an attacker) put in them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar

from marshmallow import fields

from ._model import UNKNOWN_CATEGORY, CatalogEntry, frozen_details

#: Longer inputs are not codes; do not spend time parsing them (and avoid int() DoS limits).
MAX_INPUT_CHARS = 256


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
class VendorData:
    """What a fallback rule may know about the loaded vendor file."""

    vendor: str
    version: int
    source: str | None
    #: Said before an entry's action when the failure's files went to the vendor's backup server.
    backup_server_action: str | None = None


class CodeRules:
    """How one vendor writes its codes. The defaults suit codes that are names, matched as
    written (case aside), with no rule for codes the data file does not list."""

    #: The canonical spelling of a code in the vendor's data file.
    pattern: ClassVar[re.Pattern[str]]
    #: "Did you mean" suggestions by numeric distance (True) or by similar names (False).
    numeric: ClassVar[bool] = False
    #: Entry fields only this vendor's data file has, as marshmallow fields; their values are
    #: copied into the entry's details.
    entry_fields: ClassVar[Mapping[str, fields.Field[Any]]] = {}

    def parse(self, raw: object) -> Parsed:
        """The canonical spellings ``raw`` may stand for, tried in order."""
        return name_parse(raw)

    def fallback(self, parsed: Parsed, data: VendorData) -> CatalogEntry | None:
        """An entry for a code the data file does not list, or None (then it is `unknown`)."""
        return None

    def value_of(self, code: str) -> int | None:
        """A listed code's number, for suggestions by numeric distance."""
        return None

    def entry_details(self, entry: Mapping[str, Any]) -> Mapping[str, object]:
        """Details a listed entry gets beyond its fields (e.g. the HTTP status a code carries)."""
        return {}

    def for_entries(self, entries: Sequence[CatalogEntry]) -> CodeRules:
        """These rules with whatever they derive from the loaded entries (KVS library ranges)."""
        return self


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


def as_int(raw: object) -> int | None:
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


def name_parse(raw: object) -> Parsed:
    """Codes that are names (Agora NCS states like FAILURE_STOP, CloudWatch metric names)."""
    if not isinstance(raw, str) or len(raw) > MAX_INPUT_CHARS or not raw.strip():
        return Parsed(display(raw))
    return Parsed(display(raw), (raw.strip().lower(),))


def integer_parse(raw: object) -> Parsed:
    """Codes that are numbers: ``1040`` and ``"1040"`` are one code (LightFlow, MediaConvert)."""
    value = as_int(raw)
    if value is None:
        return Parsed(display(raw))
    return Parsed(display(raw), (str(value),), (value,))


def int_value(code: str) -> int | None:
    """The number of a listed decimal code."""
    return int(code) if code.isdigit() else None


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


def http_phrase(status: int) -> str | None:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return None


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
            "vendor's documentation for the code, and add it to receiver/vendors/"
            f"{vendor or '<vendor>'}/codes.toml if it is real. Treat the failure as unclassified "
            "until then."
        ),
        doc_url=doc_url,
        known=False,
        details=frozen_details({"reason": reason}),
    )
