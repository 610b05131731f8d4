"""Vendor failure-code catalog: what a vendor's code means and what to do about it.

Vendor-neutral machinery only: the codes live in versioned, reviewable TOML files in each
vendor's folder (``receiver/vendors/<vendor>/codes.toml``), read with that vendor's code rules
(:class:`CodeRules`, its ``codes.py``) and validated with marshmallow when loaded; every entry
maps to one category from the shared vocabulary in ``categories.toml``. Lookups never raise, so
ingest can decode whatever a webhook carries::

    from receiver.vendors import default_catalog
    entry = default_catalog().lookup("kvs", "0x5200005C")
    entry.category, entry.retryable, entry.action
"""

from ._catalog import Catalog, load_catalog, load_catalog_dir
from ._model import (
    CATEGORIES,
    RETRYABLE,
    SEVERITIES,
    UNKNOWN_CATEGORY,
    CatalogEntry,
    CatalogError,
    frozen_details,
)
from ._rules import (
    MAX_INPUT_CHARS,
    CodeRules,
    Parsed,
    VendorData,
    as_int,
    classify_http_status,
    display,
    http_phrase,
    int_value,
    integer_parse,
    name_parse,
)
from ._schema import not_blank

__all__ = [
    "CATEGORIES",
    "MAX_INPUT_CHARS",
    "RETRYABLE",
    "SEVERITIES",
    "UNKNOWN_CATEGORY",
    "Catalog",
    "CatalogEntry",
    "CatalogError",
    "CodeRules",
    "Parsed",
    "VendorData",
    "as_int",
    "classify_http_status",
    "display",
    "frozen_details",
    "http_phrase",
    "int_value",
    "integer_parse",
    "load_catalog",
    "load_catalog_dir",
    "name_parse",
    "not_blank",
]
