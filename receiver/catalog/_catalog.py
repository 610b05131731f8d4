"""Loading the vendor data files and answering lookups against them."""

from __future__ import annotations

import dataclasses
import difflib
import logging
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ._model import CatalogEntry, CatalogError, frozen_details
from ._rules import CodeRules, Parsed, VendorData, display, unknown_entry
from ._schema import validate_file

log = logging.getLogger(__name__)

#: Entry fields every vendor's entries may have, copied into ``CatalogEntry.details`` when
#: present after the vendor's own (lists are joined with ", ").
_DETAIL_FIELDS = ("alt_names", "aliases", "definition", "source")


@dataclass
class _VendorIndex:
    """Everything needed to answer lookups for one vendor; keys are lower case."""

    data: VendorData
    rules: CodeRules
    entries: list[CatalogEntry] = field(default_factory=list)
    by_code: dict[str, CatalogEntry] = field(default_factory=dict)
    by_alias: dict[str, CatalogEntry] = field(default_factory=dict)
    by_name: dict[str, CatalogEntry] = field(default_factory=dict)


class Catalog:
    """Decodes vendor failure codes. Immutable after construction; safe to share across threads."""

    def __init__(self, indexes: Mapping[str, _VendorIndex]) -> None:
        self._indexes = dict(indexes)
        self.vendors: tuple[str, ...] = tuple(sorted(self._indexes))
        #: Vendor -> data file version, for logs and "catalog version N" messages.
        self.versions: Mapping[str, int] = MappingProxyType(
            {v: i.data.version for v, i in self._indexes.items()}
        )

    # -- lookups ---------------------------------------------------------------------------------

    def lookup(
        self, vendor: str, code: str | int | None, backup_server: bool = False
    ) -> CatalogEntry:
        """Decode ``code`` for ``vendor``. Never raises: unknown input gives a fallback entry.

        ``backup_server``: the failure's files went to the vendor's backup server; the action
        then starts with what the vendor file says to do about that copy (fetch it before it
        expires), before what fixes the cause.
        """
        try:
            entry = self._lookup(vendor, code)
            index = self._indexes.get(entry.vendor)
            if backup_server and index is not None and index.data.backup_server_action:
                action = f"{index.data.backup_server_action} {entry.action}"
                return dataclasses.replace(entry, action=action)
            return entry
        except Exception:  # a bug here must not lose a webhook
            log.exception(
                "catalog lookup failed: vendor=%s code=%s", display(vendor), display(code)
            )
            return unknown_entry(
                _vendor_name(vendor), display(code), reason="lookup error", doc_url=None
            )

    def _lookup(self, vendor: object, code: object) -> CatalogEntry:
        name = _vendor_name(vendor)
        index = self._indexes.get(name)
        if index is None:
            known = ", ".join(self.vendors)
            return unknown_entry(
                name, display(code), reason=f"vendor not in catalog ({known})", doc_url=None
            )
        rules = index.rules
        hit = self._exact(index, code)
        if hit is not None:
            return hit
        parsed = rules.parse(code)
        for key in parsed.keys:
            hit = index.by_code.get(key) or index.by_alias.get(key) or index.by_name.get(key)
            if hit is not None:
                return hit
        fallback = rules.fallback(parsed, index.data)
        if fallback is not None:
            return fallback
        reason = "empty code" if not parsed.text else "not in catalog"
        return unknown_entry(name, parsed.text, reason=reason, doc_url=index.data.source)

    @staticmethod
    def _exact(index: _VendorIndex, code: object) -> CatalogEntry | None:
        """Spellings matched as text before any parsing: aliases (seed typos) and names."""
        if not isinstance(code, str) or len(code) > 256:
            return None
        key = code.strip().lower()
        if not key:
            return None
        return (
            index.by_alias.get(key) or index.by_name.get(key) or index.by_name.get(f"status_{key}")
        )

    def entries(self, vendor: str | None = None, category: str | None = None) -> list[CatalogEntry]:
        """Listed entries (file order), optionally filtered; unknown filters give ``[]``."""
        vendors = self.vendors if vendor is None else (_vendor_name(vendor),)
        return [
            entry
            for name in vendors
            if name in self._indexes
            for entry in self._indexes[name].entries
            if category is None or entry.category == category
        ]

    def nearest(self, vendor: str, code: str | int, limit: int = 5) -> list[CatalogEntry]:
        """Listed entries closest to ``code``: numeric distance for numeric codes, else by name.

        For "did you mean" hints; never raises and returns ``[]`` for an unknown vendor.
        """
        try:
            return self._nearest(vendor, code, max(0, int(limit)))
        except Exception:
            log.exception(
                "catalog nearest failed: vendor=%s code=%s", display(vendor), display(code)
            )
            return []

    def _nearest(self, vendor: object, code: object, limit: int) -> list[CatalogEntry]:
        name = _vendor_name(vendor)
        index = self._indexes.get(name)
        if index is None or limit == 0:
            return []
        rules = index.rules
        parsed: Parsed = rules.parse(code)
        if rules.numeric and parsed.values:
            target = parsed.values[0]
            scored = [
                (abs(value - target), value, entry)
                for entry in index.entries
                if (value := rules.value_of(entry.code)) is not None
            ]
            scored.sort(key=lambda t: (t[0], t[1]))
            return [entry for _, _, entry in scored[:limit]]
        query = (parsed.keys[0] if parsed.keys else parsed.text).lower()
        if not query:
            return []

        def score(entry: CatalogEntry) -> float:
            names = [entry.code, entry.name or ""]
            return max(difflib.SequenceMatcher(None, query, n.lower()).ratio() for n in names)

        return sorted(index.entries, key=lambda e: (-score(e), e.code))[:limit]


def _vendor_name(vendor: object) -> str:
    return vendor.strip().lower()[:64] if isinstance(vendor, str) else display(vendor)


# -- loading -------------------------------------------------------------------------------------


def load_catalog(rules: Mapping[str, CodeRules], files: Mapping[str, Path]) -> Catalog:
    """Load and validate the data file of each vendor in ``files``, read with its ``rules``.

    ``rules`` are every vendor's, so that a field only another vendor's entries may have is
    named as such. Raises ``CatalogError`` with a one-line message naming the file, entry and
    field.
    """
    owners = {name: vendor for vendor, r in rules.items() for name in r.entry_fields}
    indexes = {}
    for vendor, path in files.items():
        foreign = {name: owner for name, owner in owners.items() if owner != vendor}
        indexes[vendor] = _load_vendor(vendor, path, rules[vendor], foreign)
    return Catalog(indexes)


def load_catalog_dir(rules: Mapping[str, CodeRules], directory: Path) -> Catalog:
    """Load ``<vendor>.toml`` files from ``directory`` instead of the vendors' own (tests, and
    ``receiver codes --data-dir`` to try an edit before it ships)."""
    if not directory.is_dir():
        raise CatalogError(f"{directory}: catalog data directory does not exist")
    paths = sorted(directory.glob("*.toml"))
    if not paths:
        raise CatalogError(f"{directory}: no *.toml catalog files")
    for path in paths:
        if path.stem not in rules:
            known = ", ".join(sorted(rules))
            raise CatalogError(
                f"{path.name}: field 'vendor': {path.stem!r} is not a vendor here ({known})"
            )
    return load_catalog(rules, {path.stem: path for path in paths})


def _load_vendor(
    vendor: str, path: Path, rules: CodeRules, foreign: Mapping[str, str]
) -> _VendorIndex:
    label = _label(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{label}: invalid TOML: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{label}: cannot read: {exc}") from exc
    data = validate_file(label, raw, vendor, rules, foreign)
    entries = [_entry(vendor, item, rules) for item in data["entries"]]
    index = _VendorIndex(
        VendorData(vendor, data["version"], data["source"], data["backup_server_action"]),
        rules.for_entries(entries),
    )
    for entry, item in zip(entries, data["entries"], strict=True):
        index.entries.append(entry)
        index.by_code[entry.code.lower()] = entry
        for alias in item["aliases"]:
            index.by_alias[alias.strip().lower()] = entry
        for name in [item["name"], *item["alt_names"]]:
            if name:
                index.by_name[name.strip().lower()] = entry
    return index


def _label(path: Path) -> str:
    """How messages name a data file: one in this package from its root
    (``receiver/vendors/kvs/codes.toml``), any other by its name."""
    package = Path(__file__).resolve().parents[1]
    if path.resolve().is_relative_to(package):
        return str(Path(package.name) / path.resolve().relative_to(package))
    return path.name


def _entry(vendor: str, item: Mapping[str, Any], rules: CodeRules) -> CatalogEntry:
    details: dict[str, object] = {}
    for key in (*rules.entry_fields, *_DETAIL_FIELDS):
        value = item.get(key)
        if isinstance(value, list):
            value = ", ".join(value)
        elif isinstance(value, bool):
            value = "true" if value else None
        details[key] = value
    details.update(rules.entry_details(item))
    return CatalogEntry(
        vendor=vendor,
        code=item["code"],
        name=item["name"],
        category=item["category"],
        severity=item["severity"],
        retryable=item["retryable"],
        description=item["description"].strip(),
        action=item["action"].strip(),
        doc_url=item["doc_url"],
        known=True,
        details=frozen_details(details),
    )
