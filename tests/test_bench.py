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


def test_the_ingest_ratio_is_the_median_rounds():
    from bench.ingest import median_round

    rounds = [(0.85, {"r": 1}, {"r": 1}), (0.51, {"r": 2}, {"r": 2}), (0.58, {"r": 3}, {"r": 3})]
    assert median_round(rounds) == rounds[2]
    assert median_round(rounds[:2])[0] == 0.51  # two rounds: the lower, never flattering
