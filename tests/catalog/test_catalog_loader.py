"""Data-file validation: the shipped files are sound, and broken files fail with clear messages."""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path

import pytest

from receiver.catalog import CATEGORIES, Catalog, CatalogError
from receiver.vendors import VENDORS, default_catalog
from receiver.vendors import catalog_in as load_catalog

#: Every vendor's own data file.
DATA_FILES = [vendor.codes_file for vendor in VENDORS if vendor.codes]

VALID_ENTRY = """
[[entries]]
code = 2404
category = "remote_not_found"
severity = "error"
retryable = "no"
description = "Not found"
action = "Check the input URL."
"""


def write(tmp_path: Path, name: str, body: str, *, vendor: str | None = None) -> Path:
    vendor = vendor or Path(name).stem
    path = tmp_path / name
    path.write_text(f'version = 1\nvendor = "{vendor}"\n{body}', encoding="utf-8")
    return path


# --- shipped data --------------------------------------------------------------------------------


def test_default_catalog_is_cached() -> None:
    assert default_catalog() is default_catalog()


def test_shipped_files_have_header_comment_and_version() -> None:
    assert len(DATA_FILES) >= 5
    for path in DATA_FILES:
        text = path.read_text(encoding="utf-8")
        assert text.startswith("#"), f"{path}: header comment with the source"
        assert "Source" in text.split("\nversion")[0] or "Sources" in text, path
        data = tomllib.loads(text)
        assert data["vendor"] == path.parent.name
        assert isinstance(data["version"], int) and data["version"] >= 1


def test_entry_counts(catalog: Catalog) -> None:
    counts = Counter(e.vendor for e in catalog.entries())
    assert counts["kvs"] == 330
    assert counts["agora"] == 13 + 11  # REST statuses + NCS states and stop reasons
    assert counts["cloudwatch"] == 8
    assert counts["lightflow"] == 45
    assert counts["zencoder"] >= 60


def test_every_entry_is_actionable(catalog: Catalog) -> None:
    for entry in catalog.entries():
        assert entry.known
        assert entry.category in CATEGORIES, entry
        assert entry.action.strip() and entry.description.strip(), entry
        assert entry.doc_url is None or entry.doc_url.startswith("https://"), entry


def test_vocabulary() -> None:
    assert {"unknown", "ok", "input", "credentials", "stream"} <= set(CATEGORIES)
    assert 10 <= len(CATEGORIES) <= 20, "keep the vocabulary short"
    assert all(meaning.strip() for meaning in CATEGORIES.values())


def test_every_category_is_used_except_unknown_fallback(catalog: Catalog) -> None:
    used = {e.category for e in catalog.entries()}
    assert set(CATEGORIES) - used <= {"unknown"}


def test_loads_a_minimal_directory(tmp_path: Path) -> None:
    write(tmp_path, "lightflow.toml", VALID_ENTRY)
    catalog = load_catalog(tmp_path)
    assert catalog.vendors == ("lightflow",)
    assert catalog.lookup("lightflow", 2404).known
    assert not catalog.lookup("kvs", "0x5200005c").known  # vendor not loaded: fallback


# --- broken data ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            VALID_ENTRY.replace('action = "Check the input URL."\n', ""),
            ["lightflow.toml", "entries[0]", "(code 2404)", "'action'", "Missing data"],
            id="missing-action",
        ),
        pytest.param(
            VALID_ENTRY.replace('"Check the input URL."', '"   "'),
            ["entries[0]", "'action'", "Must not be empty"],
            id="blank-action",
        ),
        pytest.param(
            VALID_ENTRY.replace('"remote_not_found"', '"not_a_category"'),
            ["entries[0]", "'category'", "Must be one of"],
            id="bad-category",
        ),
        pytest.param(
            VALID_ENTRY.replace('severity = "error"', 'severity = "fatal"'),
            ["'severity'"],
            id="bad-severity",
        ),
        pytest.param(
            VALID_ENTRY.replace('retryable = "no"', "retryable = false"),
            ["'retryable'"],
            id="bad-retryable-type",
        ),
        pytest.param(
            VALID_ENTRY.replace("code = 2404", 'code = "abc"'),
            ["(code 'abc')", "'code'", "Not a lightflow code"],
            id="bad-code-format",
        ),
        pytest.param(
            VALID_ENTRY.replace("code = 2404", "code = true"),
            ["'code'", "integer or a string"],
            id="bool-code",
        ),
        pytest.param(
            VALID_ENTRY + 'actoin = "typo"\n',
            ["entries[0]", "'actoin'", "Unknown field"],
            id="unknown-field",
        ),
        pytest.param(
            VALID_ENTRY + 'library = "client"\n',
            ["'library'", "Only allowed in the kvs catalog"],
            id="kvs-only-field",
        ),
        pytest.param(
            VALID_ENTRY + VALID_ENTRY,
            ["entries[1]", "(code 2404)", "'code'", "already used by entries[0]"],
            id="duplicate-code",
        ),
        pytest.param(
            VALID_ENTRY.replace("https", "") + 'doc_url = "ftp://example.com"\n',
            ["'doc_url'"],
            id="bad-url",
        ),
        pytest.param("", ["field 'entries'", "Missing data"], id="no-entries"),
        pytest.param("entries = []\n", ["field 'entries'", "Shorter than minimum"], id="empty"),
    ],
)
def test_malformed_file_names_file_entry_and_field(
    tmp_path: Path, body: str, expected: list[str]
) -> None:
    write(tmp_path, "lightflow.toml", body)
    with pytest.raises(CatalogError) as info:
        load_catalog(tmp_path)
    message = str(info.value)
    assert "\n" not in message
    for part in expected:
        assert part in message, message


def test_kvs_entry_requires_library(tmp_path: Path) -> None:
    body = VALID_ENTRY.replace("code = 2404", 'code = "0x5200005c"')
    write(tmp_path, "kvs.toml", body)
    with pytest.raises(CatalogError, match=r"kvs\.toml: entries\[0\].*'library'"):
        load_catalog(tmp_path)


def test_kvs_code_must_be_canonical(tmp_path: Path) -> None:
    body = VALID_ENTRY.replace("code = 2404", 'code = "0x5200005C"') + 'library = "client"\n'
    write(tmp_path, "kvs.toml", body)
    with pytest.raises(CatalogError, match="Not a kvs code"):
        load_catalog(tmp_path)


def test_alias_colliding_with_code(tmp_path: Path) -> None:
    second = VALID_ENTRY.replace("2404", "2403") + 'aliases = ["2404"]\n'
    write(tmp_path, "lightflow.toml", VALID_ENTRY + second)
    with pytest.raises(CatalogError, match=r"entries\[1\].*'aliases'.*already used"):
        load_catalog(tmp_path)


def test_vendor_must_match_file_name(tmp_path: Path) -> None:
    write(tmp_path, "agora.toml", VALID_ENTRY, vendor="lightflow")
    with pytest.raises(CatalogError, match=r"agora\.toml: field 'vendor'"):
        load_catalog(tmp_path)


def test_unknown_vendor(tmp_path: Path) -> None:
    write(tmp_path, "acme.toml", VALID_ENTRY)
    with pytest.raises(CatalogError, match=r"acme\.toml: field 'vendor'"):
        load_catalog(tmp_path)


def test_missing_version(tmp_path: Path) -> None:
    (tmp_path / "lightflow.toml").write_text('vendor = "lightflow"\n' + VALID_ENTRY)
    with pytest.raises(CatalogError, match=r"lightflow\.toml: field 'version'"):
        load_catalog(tmp_path)


def test_invalid_toml(tmp_path: Path) -> None:
    (tmp_path / "zencoder.toml").write_text("version = \n[[entries]\n")
    with pytest.raises(CatalogError, match=r"zencoder\.toml: invalid TOML"):
        load_catalog(tmp_path)


def test_empty_or_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"no \*\.toml"):
        load_catalog(tmp_path)
    with pytest.raises(CatalogError, match="does not exist"):
        load_catalog(tmp_path / "missing")
