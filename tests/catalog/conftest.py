"""Fixtures for the catalog tests: the packaged catalog and the shared vendor source texts.

The seed/reference texts live outside the repository (``../shared``). Tests that need them are
skipped with a reason when they are missing locally, but fail in CI (``CI`` set) so a broken
checkout cannot silently skip the coverage that matters most.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

if importlib.util.find_spec("receiver") is None:  # not installed: test from the checkout
    sys.path.insert(0, str(REPO))

from receiver.catalog import Catalog  # noqa: E402
from receiver.vendors import default_catalog  # noqa: E402


def _shared_dir(env: str, default: Path, what: str) -> Path:
    path = Path(os.environ.get(env) or default)
    if not path.is_dir():
        message = f"{what} not found at {path} (set {env})"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return default_catalog()


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    return _shared_dir("RECEIVER_SEEDS_DIR", REPO.parent / "shared" / "seeds", "vendor seeds")


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    return _shared_dir(
        "RECEIVER_REFERENCE_DIR", REPO.parent / "shared" / "reference", "reference tables"
    )


def _seed(seeds_dir: Path, prefix: str) -> Path:
    matches = sorted(seeds_dir.glob(f"{prefix}_*.txt"))
    if not matches:
        message = f"seed {prefix}_*.txt missing in {seeds_dir}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return matches[0]


@pytest.fixture(scope="session")
def lightflow_seed(seeds_dir: Path) -> str:
    return _seed(seeds_dir, "000").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def zencoder_seed(seeds_dir: Path) -> str:
    return _seed(seeds_dir, "001").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def agora_seed(seeds_dir: Path) -> str:
    return _seed(seeds_dir, "002").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def kvs_seed_path(seeds_dir: Path) -> Path:
    return _seed(seeds_dir, "003")


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
