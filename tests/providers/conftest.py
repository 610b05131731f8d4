"""An app with the signed vendors enabled (Agora, KVS, SNS) on each test database."""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from flask import Flask

from receiver import create_app
from receiver.providers.sns import SnsProvider
from tests.conftest import make_settings
from tests.providers.signing import (
    AGORA_SECRET,
    CERT_URL,
    KVS_SECRET,
    SNS_TOPIC,
    SnsSigner,
)


@pytest.fixture(scope="session")
def shared_app(database_url: str) -> Flask:
    settings = make_settings(
        database_url,
        agora_secret=AGORA_SECRET,
        kvs_secret=KVS_SECRET,
        sns_topic_arns=(SNS_TOPIC,),
    )
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


@pytest.fixture(scope="session")
def sns_signer() -> SnsSigner:
    return SnsSigner()


class LocalFetcher:
    """The SNS provider's fetcher for tests: the signing certificate comes from memory, any
    other URL (a SubscribeURL) only from a server on 127.0.0.1. Records every URL it is asked."""

    def __init__(self, pem: bytes) -> None:
        self.pem = pem
        self.urls: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.urls.append(url)
        if url == CERT_URL:
            return self.pem
        if not url.startswith("http://127.0.0.1:"):
            raise ValueError(f"tests fetch nothing from {url}")
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read()


@pytest.fixture
def sns_fetcher(app: Flask, sns_signer: SnsSigner, monkeypatch) -> Iterator[LocalFetcher]:
    fetcher = LocalFetcher(sns_signer.pem)
    monkeypatch.setitem(app.extensions["providers"], "sns", SnsProvider([SNS_TOPIC], fetch=fetcher))
    yield fetcher


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
