"""Vendor failure-code catalog: what a Zencoder / LightFlow / Agora / KVS code means and what to do.

The codes live in versioned, reviewable TOML files (``data/<vendor>.toml``), validated with
marshmallow when loaded; every entry maps to one category from the shared vocabulary in
``categories.toml``. Lookups never raise, so ingest can decode whatever a webhook carries::

    from receiver.catalog import default_catalog
    entry = default_catalog().lookup("kvs", "0x5200005C")
    entry.category, entry.retryable, entry.action
"""

from ._catalog import Catalog, default_catalog, load_catalog
from ._model import CATEGORIES, RETRYABLE, SEVERITIES, CatalogEntry, CatalogError

__all__ = [
    "CATEGORIES",
    "RETRYABLE",
    "SEVERITIES",
    "Catalog",
    "CatalogEntry",
    "CatalogError",
    "default_catalog",
    "load_catalog",
]
