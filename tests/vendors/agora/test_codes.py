"""Agora codes in the catalog: spellings, and HTTP statuses Agora does not list."""

from __future__ import annotations

import pytest

from receiver.catalog import Catalog


@pytest.mark.parametrize("spelling", [409, "409", "409 Conflict", "conflict", " CONFLICT "])
def test_agora_spellings(catalog: Catalog, spelling: object) -> None:
    entry = catalog.lookup("agora", spelling)  # type: ignore[arg-type]
    assert (entry.known, entry.code, entry.name) == (True, "409", "Conflict")
    assert entry.retryable == "no"


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
