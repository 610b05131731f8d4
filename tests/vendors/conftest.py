"""An app with every registered vendor enabled (each as its test kit says) on each test
database, and the stand-ins for SNS's hosts that the vendors SNS carries need too."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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


@pytest.fixture
def subscribe_server() -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server on 127.0.0.1 standing in for SNS's SubscribeURL."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            body = b"<ConfirmSubscriptionResponse/>"
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
