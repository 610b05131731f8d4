"""The vendors this receiver understands. A vendor is one folder (see
:mod:`receiver.vendors.declaration`); its entry in ``VENDORS`` enables it.

From the registered vendors come the catalog (each one's ``codes.toml`` read with its code
rules) and, at start-up, the providers of the endpoints their settings enable.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from receiver.catalog import Catalog, CodeRules, load_catalog, load_catalog_dir
from receiver.settings import CORE_FIRST, CORE_REST, Setting, Settings, SettingsError
from receiver.vendors import agora, cloudwatch, kvs, lightflow, mediaconvert, sns, zencoder
from receiver.vendors.base import CarriedVendor, Provider
from receiver.vendors.declaration import Start, Vendor, Wiring

VENDORS: tuple[Vendor, ...] = (
    zencoder.VENDOR,
    lightflow.VENDOR,
    agora.VENDOR,
    kvs.VENDOR,
    cloudwatch.VENDOR,
    sns.VENDOR,
    mediaconvert.VENDOR,
)

BY_NAME = {vendor.name: vendor for vendor in VENDORS}
#: Every vendor's settings; setting one enables its vendor.
VENDOR_SETTINGS: tuple[Setting[Any], ...] = tuple(s for v in VENDORS for s in v.settings)
#: Every setting, in the README's order (the vendors' after the secret key).
SETTINGS: tuple[Setting[Any], ...] = (*CORE_FIRST, *VENDOR_SETTINGS, *CORE_REST)
#: Every vendor's code rules, by vendor.
CODE_RULES: dict[str, CodeRules] = {v.name: v.codes for v in VENDORS if v.codes is not None}


def load_settings(
    environ: Mapping[str, str] | None = None, instance_path: str | Path = "instance"
) -> Settings:
    """The core settings and every vendor's, from the environment; at least one vendor on."""
    env = os.environ if environ is None else environ
    settings = Settings.from_env(env, instance_path, VENDOR_SETTINGS)
    if not any(settings.vendor_values.values()):
        variables = ", ".join(s.variable for s in VENDOR_SETTINGS)
        raise SettingsError(f"no vendor is enabled: set at least one of {variables}")
    return settings


@functools.cache
def default_catalog() -> Catalog:
    """Every registered vendor's codes, loaded and validated once per process."""
    return load_catalog(CODE_RULES, {v.name: v.codes_file for v in VENDORS if v.codes})


def catalog_in(directory: Path) -> Catalog:
    """The catalog from ``<vendor>.toml`` files in ``directory`` (``codes --data-dir``)."""
    return load_catalog_dir(CODE_RULES, directory)


def carried_vendors() -> tuple[CarriedVendor, ...]:
    """The vendors whose news another service carries, for the transports to hand it to."""
    return tuple(v.carried for v in VENDORS if v.carried is not None)


def build_providers(
    settings: Settings, catalog: Catalog, start: Start = Start.SERVER
) -> dict[str, Provider]:
    """The enabled endpoints' providers by endpoint: a vendor whose settings are not configured
    accepts nothing. ``start`` says what this process is (a local trial trusts more)."""
    wiring = Wiring(settings, catalog, carried_vendors(), start)
    providers: dict[str, Provider] = {}
    for vendor in VENDORS:
        providers |= vendor.endpoints(wiring)
    return providers


def failure_vendors() -> list[str]:
    """The vendors failures can belong to (those with codes), for filters."""
    return sorted(CODE_RULES)


__all__ = [
    "BY_NAME",
    "SETTINGS",
    "VENDORS",
    "VENDOR_SETTINGS",
    "Start",
    "Vendor",
    "build_providers",
    "carried_vendors",
    "catalog_in",
    "default_catalog",
    "failure_vendors",
    "load_settings",
]
