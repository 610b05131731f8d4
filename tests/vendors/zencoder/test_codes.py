"""Zencoder codes in the catalog: error class names, also inside documentation links."""

from __future__ import annotations

import pytest

from receiver.catalog import Catalog


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
