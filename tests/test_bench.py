"""The benchmarks import: they are not run by the suite (see README "Performance"), but a
module that no longer imports would only be found by the next person measuring."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import bench

MODULES = sorted(module.name for module in pkgutil.iter_modules(bench.__path__))


@pytest.mark.parametrize("name", MODULES)
def test_bench_module_imports(name):
    importlib.import_module(f"bench.{name}")


def test_every_bench_module_is_checked():
    assert {"__main__", "admin", "generate", "ingest", "instructions"} <= set(MODULES)
