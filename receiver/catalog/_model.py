"""Value types shared by the catalog modules: the entry, the error, and the fixed vocabularies.

The category vocabulary is data (``categories.toml``), loaded once at import so that every vendor
file is validated against the same list and code can refer to ``CATEGORIES`` without a catalog.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

CATEGORIES_FILE = Path(__file__).with_name("categories.toml")

#: How urgent a failure is, in PagerDuty's vocabulary (critical: everything using this setup keeps
#: failing until a human acts; error: this job/stream failed; warning: degraded or self-healing;
#: info: not a failure).
SEVERITIES: tuple[str, ...] = ("critical", "error", "warning", "info")

#: Whether re-submitting unchanged can help: ``yes`` (once), ``backoff`` (later, with increasing
#: delays), ``no`` (something must be fixed first).
RETRYABLE: tuple[str, ...] = ("yes", "no", "backoff")

#: Category given to codes the catalog cannot decode; must exist in ``categories.toml``.
UNKNOWN_CATEGORY = "unknown"


class CatalogError(Exception):
    """A catalog data file is missing or malformed; the message names file, entry and field."""


@dataclass(frozen=True)
class CatalogEntry:
    """One decoded vendor code: what it means and what a human should do about it.

    ``known`` is False for fallbacks (codes the catalog does not list); such entries still carry
    a usable category/action so alerting never has to special-case them.
    """

    vendor: str
    code: str
    name: str | None
    category: str
    severity: str
    retryable: str
    description: str
    action: str
    doc_url: str | None
    known: bool
    details: Mapping[str, str] = field(hash=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable form (for API responses, logs and ``codes explain --json``)."""
        return {
            "vendor": self.vendor,
            "code": self.code,
            "name": self.name,
            "category": self.category,
            "severity": self.severity,
            "retryable": self.retryable,
            "description": self.description,
            "action": self.action,
            "doc_url": self.doc_url,
            "known": self.known,
            "details": dict(self.details),
        }


def frozen_details(values: Mapping[str, object]) -> Mapping[str, str]:
    """Read-only ``str -> str`` mapping without empty values (details say only what is known)."""
    clean = {k: str(v) for k, v in values.items() if v not in (None, "", [], ())}
    return MappingProxyType(clean)


def _load_categories(path: Path) -> Mapping[str, str]:
    """Read and check the vocabulary; a broken vocabulary must fail loudly at import."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(f"{path.name}: cannot read category vocabulary: {exc}") from exc
    table = data.get("categories")
    if not isinstance(table, dict) or not table:
        raise CatalogError(f"{path.name}: field 'categories': must be a non-empty table")
    for name, meaning in table.items():
        if not name.isidentifier() or name != name.lower():
            raise CatalogError(f"{path.name}: category {name!r}: name must be lower_snake_case")
        if not isinstance(meaning, str) or not meaning.strip():
            raise CatalogError(
                f"{path.name}: category {name!r}: meaning must be a non-empty string"
            )
    if UNKNOWN_CATEGORY not in table:
        raise CatalogError(f"{path.name}: category {UNKNOWN_CATEGORY!r} is required for fallbacks")
    return MappingProxyType(dict(table))


#: Category name -> one-line meaning, in the order of ``categories.toml``.
CATEGORIES: Mapping[str, str] = _load_categories(CATEGORIES_FILE)
