"""What the tests know of each registered vendor, found through the registry: its folder's
declaration, its fixtures, and its test kit, ``tests/vendors/<name>/kit.py`` (if it has one):

- ``SETTINGS``: the environment that enables it in tests;
- ``sign(endpoint, body) -> (body, headers)``: how to send a body as the vendor, when its
  provider's ``sender_headers`` will not do (SNS signs the body itself; a KVS delivery id that
  tests can predict);
- ``install(app)``: what an app needs before it hears from the vendor (SNS's certificate host).

A new vendor brings its own kit; nothing here changes.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from types import ModuleType
from typing import Any

from flask import Flask

from receiver.fixtures import GOLDEN_SUFFIX, fixture_at, fixture_files
from receiver.vendors import BY_NAME, VENDORS, build_providers, default_catalog
from receiver.vendors.base import Provider

# The fixtures as the product knows them (`receiver send-test` sends them), for the tests.
__all__ = ["GOLDEN_SUFFIX", "fixture_files"]


def _module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name != name:
            raise
        return None


KITS: dict[str, ModuleType | None] = {
    v.name: _module(f"tests.vendors.{v.name}.kit") for v in VENDORS
}


def environment() -> dict[str, str]:
    """The settings that enable every vendor in tests."""
    return {name: value for kit in KITS.values() if kit for name, value in kit.SETTINGS.items()}


def install(app: Flask) -> Flask:
    for kit in KITS.values():
        if kit is not None and hasattr(kit, "install"):
            kit.install(app)
    return app


def fixture_endpoint(path: Path) -> str:
    return fixture_at(path, BY_NAME[path.parent.name]).endpoint


def endpoint_fixtures(endpoint: str) -> list[Path]:
    """Every vendor's fixtures that are posted to ``endpoint``."""
    return [
        path
        for vendor in VENDORS
        for path in fixture_files(vendor.name)
        if vendor.fixture_endpoint(path.name) == endpoint
    ]


def json_seeds(endpoint: str) -> list[Any]:
    """The JSON fixtures of ``endpoint``, parsed."""
    return [json.loads(p.read_bytes()) for p in endpoint_fixtures(endpoint) if p.suffix == ".json"]


def providers() -> dict[str, Provider]:
    """Every endpoint as the test environment enables it (to know them before any app)."""
    from tests.conftest import make_settings

    return build_providers(make_settings("sqlite://", environment()), default_catalog())


def signed(app: Flask, endpoint: str, body: bytes, content_type: str) -> tuple[bytes, dict]:
    """``body`` as the vendor behind ``endpoint`` sends it: (body, headers)."""
    provider = app.extensions["providers"][endpoint]
    kit = KITS.get(provider.vendor)
    if kit is not None and hasattr(kit, "sign"):
        body, headers = kit.sign(endpoint, body)
        return body, {"Content-Type": content_type, **headers}
    return body, {"Content-Type": content_type, **provider.sender_headers(body)}


def content_type(path: Path) -> str:
    return fixture_at(path, BY_NAME[path.parent.name]).content_type
