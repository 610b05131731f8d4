"""Lookup behaviour: input spellings, fallback rules, unknown codes, and never raising."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from receiver.catalog import CATEGORIES, RETRYABLE, SEVERITIES, Catalog, CatalogEntry
from receiver.vendors import VENDORS

# --- spellings -----------------------------------------------------------------------------------


def test_vendor_name_is_case_insensitive(catalog: Catalog) -> None:
    assert catalog.lookup(" KVS ", "0x5200005c").code == "0x5200005c"


# --- unknown codes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vendor", "code"),
    [
        ("lightflow", 9999),
        ("lightflow", "abc"),
        ("zencoder", "NoSuchThingError"),
        ("agora", 999),
        ("kvs", "not-a-code"),
        ("nope", "1"),
    ],
)
def test_unknown_codes_fall_back(catalog: Catalog, vendor: str, code: object) -> None:
    entry = catalog.lookup(vendor, code)  # type: ignore[arg-type]
    assert not entry.known
    assert (entry.category, entry.severity, entry.retryable) == ("unknown", "error", "no")
    assert entry.action.strip()


AWKWARD: list[object] = [
    None,
    "",
    " ",
    "\x00",
    "\u202e💥",
    "0x",
    "0x" + "f" * 1000,
    "9" * 5000,
    10**5000,
    -(10**5000),
    2**64,
    2**63,
    -(2**63) - 1,
    -1,
    0,
    True,
    False,
    1.5,
    math.nan,
    math.inf,
    -math.inf,
    b"0x5200005c",
    [],
    {},
    (1,),
    object(),
    "%s%n{0}",
    "[bold]x[/bold]",
    "../../etc/passwd",
    "https://",
    "http://[::1",
    "#",
    "/",
    "STATUS_",
    "status_",
    "24XX",
    "2404.5",
    "+2404",
    "-2404",
    "0x1_0000_0001",
    "x" * 100_000,
]


@pytest.mark.parametrize("vendor", ["lightflow", "zencoder", "agora", "kvs", "KVS", "", None, 7])
def test_lookup_never_raises(catalog: Catalog, vendor: object) -> None:
    for code in AWKWARD:
        entry = catalog.lookup(vendor, code)  # type: ignore[arg-type]
        assert isinstance(entry, CatalogEntry)
        assert entry.category in CATEGORIES
        assert entry.severity in SEVERITIES
        assert entry.retryable in RETRYABLE
        assert entry.action.strip()
        assert isinstance(entry.code, str) and len(entry.code) <= 64
        json.dumps(entry.to_dict())
        assert isinstance(catalog.nearest(vendor, code), list)  # type: ignore[arg-type]


# --- nearest -------------------------------------------------------------------------------------


def test_nearest_numeric(catalog: Catalog) -> None:
    assert [e.code for e in catalog.nearest("lightflow", 2405, limit=2)] == ["2404", "2403"]
    assert catalog.nearest("kvs", "0x52000090")[0].code == "0x5200008f"
    assert catalog.nearest("agora", 410)[0].code == "409"


def test_nearest_by_name(catalog: Catalog) -> None:
    assert catalog.nearest("zencoder", "UnableToResolveHost")[0].code == "UnableToResolveHostError"
    assert catalog.nearest("kvs", "STATUS_ACK_ERR_STREAM_READ")[0].code == "0x5200005c"


def test_nearest_limits(catalog: Catalog) -> None:
    assert len(catalog.nearest("kvs", "0x52000000", limit=3)) == 3
    assert catalog.nearest("kvs", "0x52000000", limit=0) == []
    assert catalog.nearest("nope", "x") == []


# --- entries -------------------------------------------------------------------------------------


def test_entries_filters(catalog: Catalog) -> None:
    assert len(catalog.entries("agora")) == 13 + 11
    drm = catalog.entries(category="drm")
    assert drm and {e.category for e in drm} == {"drm"}
    assert "2050" in {e.code for e in drm}
    kvs_credentials = catalog.entries("kvs", "credentials")
    assert kvs_credentials and {(e.vendor, e.category) for e in kvs_credentials} == {
        ("kvs", "credentials")
    }
    assert catalog.entries("nope") == []
    assert catalog.entries(category="nope") == []
    assert len(catalog.entries()) == sum(len(catalog.entries(v)) for v in catalog.vendors)


def test_vendors(catalog: Catalog) -> None:
    """Every registered vendor with codes has its data file loaded (these five at least)."""
    assert {"agora", "cloudwatch", "kvs", "lightflow", "zencoder"} <= set(catalog.vendors)
    assert catalog.vendors == tuple(sorted(vendor.name for vendor in VENDORS if vendor.codes))


def test_entries_are_immutable(catalog: Catalog) -> None:
    entry = catalog.lookup("kvs", "0x5200005c")
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.category = "ok"  # type: ignore[misc]
    with pytest.raises(TypeError):
        entry.details["library"] = "x"  # type: ignore[index]
    assert hash(entry) == hash(catalog.lookup("kvs", 1375731804))
