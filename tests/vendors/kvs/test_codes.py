"""KVS codes in the catalog: the spellings devices and logs use, and the library ranges that
name the owner of an unlisted code."""

from __future__ import annotations

import pytest

from receiver.catalog import Catalog


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
