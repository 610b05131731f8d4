"""An app with every registered vendor enabled (each as its test kit says) on each test
database, and the stand-ins for SNS's hosts that the vendors SNS carries need too."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from receiver import create_app
from receiver.catalog import Catalog
from receiver.vendors import default_catalog
from tests.conftest import make_settings
from tests.vendors.kits import environment, install
from tests.vendors.sns.kit import SNS_SIGNER, SnsServers, SnsSigner, sns_provider


@pytest.fixture(scope="session")
def shared_app(database_url: str) -> Flask:
    app = create_app(make_settings(database_url, environment()))
    app.config["TESTING"] = True
    return install(app)


@pytest.fixture(scope="session")
def sns_signer() -> SnsSigner:
    return SNS_SIGNER


@pytest.fixture
def sns_fetcher(app: Flask, sns_signer: SnsSigner, monkeypatch) -> Iterator[SnsServers]:
    """A fresh stand-in for SNS's hosts for this test, recording every URL it is asked."""
    fetcher = SnsServers(sns_signer.pem)
    monkeypatch.setitem(app.extensions["providers"], "sns", sns_provider(fetcher))
    yield fetcher


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return default_catalog()
