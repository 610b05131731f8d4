"""LightFlow codes in the catalog: spellings, and the 24XX/25XX remote HTTP ranges."""

from __future__ import annotations

import pytest

from receiver.catalog import Catalog


@pytest.mark.parametrize("spelling", [2404, "2404", " 2404 ", 2404.0])
def test_lightflow_spellings(catalog: Catalog, spelling: object) -> None:
    entry = catalog.lookup("lightflow", spelling)  # type: ignore[arg-type]
    assert (entry.known, entry.code, entry.category) == (True, "2404", "remote_not_found")


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
