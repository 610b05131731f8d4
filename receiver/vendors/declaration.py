"""What a vendor folder declares: one :class:`Vendor`, enabled by its line in the registry
(:mod:`receiver.vendors`).

Everything about a vendor is in its folder, ``receiver/vendors/<name>/``: this declaration in
its ``__init__.py``, its provider (authenticate, decode, normalize, dedup key), its catalog data
(``codes.toml``) and code rules (``codes.py``); its marshmallow schema is ``schemas/<name>.py``
and its example payloads ``fixtures/<name>/``.
"""

from __future__ import annotations

import enum
import fnmatch
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from receiver.catalog import Catalog, CodeRules
from receiver.settings import Setting, Settings, random_secret, shared_secret
from receiver.vendors.base import CarriedVendor, Provider, SharedTokenProvider
from receiver.vendors.fixture_dates import FixtureDates


class Start(enum.Enum):
    """What the starting process is, for what only a local trial may trust (SNS's stand-in)."""

    #: Serves the hooks where others can reach them: gunicorn ``wsgi:app``, or ``receiver run``
    #: on an address that is not a loopback one.
    SERVER = "server"
    #: ``receiver run`` on a loopback address (127.0.0.1, ::1): a trial on one machine.
    LOCAL_TRIAL = "local trial"
    #: Any other ``receiver`` command (worker, send-test, replay, ...): serves no hooks.
    COMMAND = "command"


@dataclass(frozen=True)
class Wiring:
    """What a vendor's endpoints are built from at start-up."""

    settings: Settings
    catalog: Catalog
    #: Every registered vendor whose news another service carries (SNS hands them its messages).
    carried: tuple[CarriedVendor, ...]
    start: Start = Start.SERVER


def no_endpoints(wiring: Wiring) -> dict[str, Provider]:
    return {}


@dataclass(frozen=True)
class Vendor:
    """One vendor, as its folder declares it."""

    #: Whose jobs and failures these are: the catalog, the admin's filters and alert rules use
    #: this name; so do ``fixtures/<name>/`` and ``schemas/<name>.py``.
    name: str
    #: Its name for people (README, OpenAPI).
    title: str
    #: The folder: its catalog data is ``codes.toml`` there.
    folder: Path
    #: Its settings; setting one enables it.
    settings: tuple[Setting[Any], ...] = ()
    #: Its endpoints (``/hooks/<key>``) as its settings enable them (:func:`enabled_by`);
    #: none while disabled.
    endpoints: Callable[[Wiring], Mapping[str, Provider]] = no_endpoints
    #: How its codes are written and decoded; None for a vendor without codes (a transport).
    codes: CodeRules | None = None
    #: Its reading of messages another service carries (CloudWatch alarms in SNS messages).
    carried: CarriedVendor | None = None
    #: Its documentation, by what it documents (``{"notifications": url, "errors": url}``).
    docs: Mapping[str, str] = field(default_factory=dict)
    #: Which endpoint takes which of its fixtures: (file pattern, endpoint) pairs, first match
    #: wins; the others go to the endpoint named like the vendor.
    fixture_endpoints: tuple[tuple[str, str], ...] = ()
    #: Where its payloads carry the vendor's clock: `receiver send-test` moves them to now.
    fixture_dates: FixtureDates = field(default_factory=FixtureDates)

    @property
    def codes_file(self) -> Path:
        return self.folder / "codes.toml"

    def fixture_endpoint(self, fixture: str) -> str:
        """The endpoint a fixture of this vendor is posted to."""
        for pattern, endpoint in self.fixture_endpoints:
            if fnmatch.fnmatchcase(fixture, pattern):
                return endpoint
        return self.name


T = TypeVar("T")
Endpoints = Callable[[Wiring], Mapping[str, Provider]]


def enabled_by(
    setting: Setting[T | None], build: Callable[[T, Wiring], Mapping[str, Provider]]
) -> Endpoints:
    """A vendor's endpoints, built from ``setting``'s value while it is set; none otherwise."""

    def endpoints(wiring: Wiring) -> Mapping[str, Provider]:
        value = setting.value(wiring.settings)
        return build(value, wiring) if value else {}

    return endpoints


def shared_token(variable: str, title: str) -> Setting[str | None]:
    """The setting of a vendor that cannot sign: the token we give it (see README)."""
    return Setting(
        variable,
        "shared token, ≥ 16 characters",
        None,
        shared_secret,
        secret=True,
        shown_default=f"unset = {title} disabled; `receiver run` generates one",
        local_value=random_secret,
    )


def token_endpoint(
    endpoint: str, provider: type[SharedTokenProvider], token: Setting[str | None]
) -> Endpoints:
    """The one endpoint of a shared-token vendor, while its token is set."""
    return enabled_by(token, lambda value, _wiring: {endpoint: provider(value)})
