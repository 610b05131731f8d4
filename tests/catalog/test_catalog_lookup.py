"""Lookup behaviour: input spellings, fallback rules, unknown codes, and never raising."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from receiver.catalog import CATEGORIES, RETRYABLE, SEVERITIES, Catalog, CatalogEntry

# --- spellings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    [
        "0x5200005c",
        "0x5200005C",
        "0X5200005C",
        " 0x5200005c\n",
        "5200005c",
        1375731804,
        "1375731804",
        "STATUS_ACK_ERR_STREAM_READ_ERROR",
        "status_ack_err_stream_read_error",
        "ACK_ERR_STREAM_READ_ERROR",
    ],
)
def test_kvs_spellings(catalog: Catalog, spelling: object) -> None:
    entry = catalog.lookup("kvs", spelling)  # type: ignore[arg-type]
    assert entry.known
    assert entry.code == "0x5200005c"
    assert entry.name == "STATUS_ACK_ERR_STREAM_READ_ERROR"
    assert entry.details["library"] == "client"
    assert entry.details["sdk_classification"] == "IS_RECOVERABLE_ERROR"


def test_kvs_bare_eight_digit_string_reads_as_hex(catalog: Catalog) -> None:
    assert catalog.lookup("kvs", "52000010").name == "STATUS_SERVICE_CALL_NOT_AUTHORIZED_ERROR"


def test_kvs_signed_minus_one_is_duration_sentinel(catalog: Catalog) -> None:
    assert catalog.lookup("kvs", -1).name == "INVALID_DURATION_VALUE"


@pytest.mark.parametrize("spelling", [2404, "2404", " 2404 ", 2404.0])
def test_lightflow_spellings(catalog: Catalog, spelling: object) -> None:
    entry = catalog.lookup("lightflow", spelling)  # type: ignore[arg-type]
    assert (entry.known, entry.code, entry.category) == (True, "2404", "remote_not_found")


@pytest.mark.parametrize("spelling", [409, "409", "409 Conflict", "conflict", " CONFLICT "])
def test_agora_spellings(catalog: Catalog, spelling: object) -> None:
    entry = catalog.lookup("agora", spelling)  # type: ignore[arg-type]
    assert (entry.known, entry.code, entry.name) == (True, "409", "Conflict")
    assert entry.retryable == "no"


@pytest.mark.parametrize(
    "spelling",
    [
        "UnableToResolveHostError",
        "unabletoresolvehosterror",
        "https://app.zencoder.com/docs/errors/UnableToResolveHostError",
        "https://app.zencoder.com/docs/errors/UnableToResolveHostError/",
        "http://zencoder.com/docs/errors/#UnableToResolveHostError",
    ],
)
def test_zencoder_spellings(catalog: Catalog, spelling: str) -> None:
    entry = catalog.lookup("zencoder", spelling)
    assert (entry.known, entry.code) == (True, "UnableToResolveHostError")


def test_vendor_name_is_case_insensitive(catalog: Catalog) -> None:
    assert catalog.lookup(" KVS ", "0x5200005c").code == "0x5200005c"


# --- LightFlow HTTP ranges -----------------------------------------------------------------------


def test_lightflow_unlisted_4xx_decodes_from_range(catalog: Catalog) -> None:
    entry = catalog.lookup("lightflow", 2418)
    assert entry.category == "input"
    assert entry.description == "Remote server returned HTTP 418 while downloading the input file"
    assert entry.details["remote_http_status"] == "418"
    assert entry.action.strip()


def test_lightflow_unlisted_5xx_decodes_from_range(catalog: Catalog) -> None:
    entry = catalog.lookup("lightflow", "2599")
    assert (entry.category, entry.retryable) == ("remote_unavailable", "backoff")
    assert entry.details["remote_http_status"] == "599"


@pytest.mark.parametrize(
    ("code", "category"),
    [
        (2400, "input"),
        (2401, "credentials"),
        (2403, "credentials"),
        (2404, "remote_not_found"),
        (2410, "remote_not_found"),
        (2429, "rate_limited"),
        (2451, "input"),
        (2499, "input"),
        (2500, "remote_unavailable"),
        (2502, "remote_unavailable"),
    ],
)
def test_lightflow_range_categories(catalog: Catalog, code: int, category: str) -> None:
    assert catalog.lookup("lightflow", code).category == category


def test_every_lightflow_range_code_decodes(catalog: Catalog) -> None:
    expected = {"input", "credentials", "remote_not_found", "rate_limited", "remote_unavailable"}
    for code in range(2400, 2600):
        entry = catalog.lookup("lightflow", code)
        assert entry.category in expected, code
        assert entry.details["remote_http_status"] == str(code - 2000)


# --- KVS library ranges --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "library"),
    [
        ("0x520000ff", "client"),
        ("0x320000ff", "mkvgen"),
        ("0x150000ff", "cproducer"),
        ("0x160000ff", "producer-common"),
        ("0x300000ff", "view"),
        ("0x401000ff", "utils"),
        ("0x413000ff", "utils"),
        ("0x101000ff", "trace"),
        ("0x100000ff", "heap"),
        ("0x000000ff", "common"),
    ],
)
def test_kvs_unlisted_code_names_its_library(catalog: Catalog, code: str, library: str) -> None:
    entry = catalog.lookup("kvs", code)
    assert not entry.known
    assert entry.code == code
    assert entry.category == "unknown"
    assert entry.details["library"] == library
    assert code in entry.action and "build_kvs_catalog.py" in entry.action


def test_kvs_shared_base_mentions_both_libraries(catalog: Catalog) -> None:
    entry = catalog.lookup("kvs", "0x150000ff")
    assert entry.details["alt_libraries"] == "producer-common"
    assert catalog.lookup("kvs", "0x520000ff").details["alt_libraries"] == "state"


def test_kvs_code_outside_every_range_is_unknown(catalog: Catalog) -> None:
    entry = catalog.lookup("kvs", "0x20000000")
    assert not entry.known and "library" not in entry.details


# --- Agora statuses not in the table -------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "category", "retryable"),
    [(502, "remote_unavailable", "backoff"), (405, "configuration", "no"), (204, "ok", "no")],
)
def test_agora_unlisted_status(
    catalog: Catalog, status: int, category: str, retryable: str
) -> None:
    entry = catalog.lookup("agora", status)
    assert not entry.known
    assert (entry.category, entry.retryable) == (category, retryable)


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
    assert catalog.vendors == ("agora", "cloudwatch", "kvs", "lightflow", "zencoder")


def test_entries_are_immutable(catalog: Catalog) -> None:
    entry = catalog.lookup("kvs", "0x5200005c")
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.category = "ok"  # type: ignore[misc]
    with pytest.raises(TypeError):
        entry.details["library"] = "x"  # type: ignore[index]
    assert hash(entry) == hash(catalog.lookup("kvs", 1375731804))
