"""The fuzz suite's app (every endpoint enabled), its example budgets, and its tally.

Budgets are hypothesis settings profiles chosen with ``HYPOTHESIS_PROFILE``: ``ci`` (the
default) keeps the whole suite within about two minutes on two cores; ``thorough`` tries ten
times as many inputs for a run before a release. PostgreSQL runs a third of SQLite's count:
the properties do not depend on the backend, only the storage of what passes them does.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict

import pytest
from flask import Flask
from hypothesis import HealthCheck, settings

from receiver import create_app
from tests.conftest import make_settings
from tests.vendors.kits import environment, install

ADMIN_PASSWORD = "fuzz-admin-password-0123456789"

_common = {
    "deadline": None,  # one example may post 10 MB; time is bounded by the example counts
    "database": None,  # no .hypothesis/ directory in the tree; failures print a reproducer
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "print_blob": True,
}
settings.register_profile("ci", max_examples=150, **_common)
settings.register_profile("thorough", max_examples=1500, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

#: Inputs tried per endpoint and response status, over the whole session.
TALLY: defaultdict[str, Counter[int]] = defaultdict(Counter)


def example_budget(backend: str, share: float = 1.0) -> int:
    """This property's example count on ``backend`` under the loaded profile."""
    count = settings.default.max_examples * share
    return max(5, round(count if backend == "sqlite" else count / 3))


def every_endpoint_app(
    database_url: str, vendor_environment: dict[str, str] | None = None, **overrides: object
) -> Flask:
    """Every registered vendor's endpoints on (as their test kits enable them), the admin too.

    ``vendor_environment`` and ``overrides`` replace vendor and core settings (the
    secrets-in-logs test uses its own probe values).
    """
    environ = {**environment(), **(vendor_environment or {})}
    values: dict[str, object] = {"admin_password": ADMIN_PASSWORD, **overrides}
    app = create_app(make_settings(database_url, environ, **values))
    app.config["TESTING"] = True
    return install(app)


@pytest.fixture(scope="session")
def shared_app(database_url: str) -> Flask:
    """The fuzz suite's app (its CSRF and rate limiting must not touch the hooks)."""
    return every_endpoint_app(database_url)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not TALLY:
        return
    write = terminalreporter.write_line
    terminalreporter.section("generated inputs per endpoint (all backends)")
    for endpoint, statuses in sorted(TALLY.items()):
        by_status = ", ".join(f"{status}: {n}" for status, n in sorted(statuses.items()))
        write(f"{endpoint:<18} {sum(statuses.values()):>6}   ({by_status})")
    write(f"{'total':<18} {sum(sum(s.values()) for s in TALLY.values()):>6}")
