"""Fixtures for the catalog tests: the packaged catalog and the vendor documents it was written
from, committed under ``fixtures/<vendor>/source/`` (see ``fixtures/SOURCES.md``)."""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

if importlib.util.find_spec("receiver") is None:  # not installed: test from the checkout
    sys.path.insert(0, str(REPO))

from receiver.catalog import Catalog  # noqa: E402
from receiver.vendors import default_catalog  # noqa: E402

FIXTURES = REPO / "fixtures"


def _source(vendor: str, name: str) -> Path:
    path = FIXTURES / vendor / "source" / name
    assert path.is_file(), f"{path} is part of the repository (fixtures/SOURCES.md)"
    return path


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return default_catalog()


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """The KVS SDK tables (`kvs_status_codes.tsv`, `kvs_ack_error_map.tsv`)."""
    return _source("kvs", "kvs_status_codes.tsv").parent


@pytest.fixture(scope="session")
def lightflow_seed() -> str:
    return _source("lightflow", "api-errors.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def zencoder_seed() -> str:
    return _source("zencoder", "how-zencoder-saves-your-files-when-uploads-fail.txt").read_text(
        encoding="utf-8"
    )


@pytest.fixture(scope="session")
def agora_seed() -> str:
    return _source("agora", "status-and-error-codes.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def kvs_seed_path() -> Path:
    return _source("kvs", "producer-sdk-errors.txt")


def read_tsv(path: Path) -> list[dict[str, str]]:
    """Rows of a tab-separated reference table, skipping ``#`` comment lines."""
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln and ln[0] != "#"]
    return [
        {k: (v or "").strip() for k, v in row.items()}
        for row in csv.DictReader(lines, delimiter="\t")
    ]


@pytest.fixture(scope="session")
def kvs_status_rows(reference_dir: Path) -> list[dict[str, str]]:
    return read_tsv(reference_dir / "kvs_status_codes.tsv")


@pytest.fixture(scope="session")
def kvs_ack_rows(reference_dir: Path) -> list[dict[str, str]]:
    return read_tsv(reference_dir / "kvs_ack_error_map.tsv")
