"""Configured secrets never reach a log: not in a message, not in an extra field, not in a
traceback, at DEBUG for every logger (SQL statements and their parameters included).

Checked twice: on every record as the logging system delivers it (caplog), and on the exact
text the receiver's own log handler writes (the JSON lines an operator ships elsewhere).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import time
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from flask import Flask
from sqlalchemy.engine import make_url

from tests.conftest import rolled_back
from tests.fuzz.conftest import every_endpoint_app
from tests.helpers import FIXTURES, basic_auth
from tests.vendors.agora.kit import agora_signature
from tests.vendors.kvs.kit import KVS_SECRET, kvs_signature
from tests.vendors.sns.kit import SNS_SIGNER

# Distinct from every other test's values, so a hit can only come from this configuration.
TOKENS = {
    "zencoder": "zc-log-probe-secret-7Qm2xV9wKd",
    "lightflow": "lf-log-probe-secret-3Hs8pL1zNe",
}
AGORA_SECRET = "agora-log-probe-secret-5Tb6yR4cJu"
ADMIN_PASSWORD = "admin-log-probe-secret-8Wn0gF2aXo"
SECRET_KEY = "session-log-probe-secret-1Ld7kP3vQs"
DB_PASSWORD = "db-log-probe-secret-6Zr4mC8hYt"


def fixture(vendor: str, name: str) -> bytes:
    return (FIXTURES / vendor / name).read_bytes()


@pytest.fixture
def probe_app(database_url: str, caplog: pytest.LogCaptureFixture) -> Iterator[Flask]:
    """An app configured with the probe secrets, created while DEBUG logging is captured."""
    # The root logger, and every logger that set its own level (SQLAlchemy sets WARNING).
    for name in ["", "sqlalchemy", *logging.root.manager.loggerDict]:
        caplog.set_level(logging.DEBUG, logger=name)
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":  # the test server trusts: any password works
        url = url.set(password=DB_PASSWORD)
    app = every_endpoint_app(
        url.render_as_string(hide_password=False),
        {
            "RECEIVER_ZENCODER_TOKEN": TOKENS["zencoder"],
            "RECEIVER_LIGHTFLOW_TOKEN": TOKENS["lightflow"],
            "RECEIVER_AGORA_SECRET": AGORA_SECRET,
        },
        secret_key=SECRET_KEY,
        admin_password=ADMIN_PASSWORD,
    )
    with rolled_back(app):
        yield app


def secrets() -> list[str]:
    return [
        *TOKENS.values(),
        AGORA_SECRET,
        KVS_SECRET,
        KVS_SECRET.removeprefix("whsec_"),  # the key as the Standard Webhooks library uses it
        ADMIN_PASSWORD,
        SECRET_KEY,
        DB_PASSWORD,
    ]


def realistic_mix(client) -> int:
    """Good and bad requests to every endpoint, each credential in every place it may travel."""
    zencoder = fixture("zencoder", "output_failed.json")
    lightflow = fixture("lightflow", "asset_error_2404.json")
    requests = []
    for vendor, body in (("zencoder", zencoder), ("lightflow", lightflow)):
        token, path = TOKENS[vendor], f"/hooks/{vendor}"
        requests += [
            (path, body, basic_auth(token)),
            (path, body, {"X-Receiver-Token": token}),
            (f"{path}?token={quote(token)}", body, {}),
            (f"{path}?token={quote(token)}x", body, {}),  # wrong, and almost the secret
            (f"{path}?token={quote(AGORA_SECRET)}", body, {}),  # another vendor's secret
            (path, body, basic_auth(token + "x")),
            (path, b'{"job": ', {"X-Receiver-Token": token}),  # malformed, authenticated
        ]
    agora = fixture("agora", "transcoder_status_failure_stop_112.json")
    api_error = fixture("agora", "api_error_404.json")
    signed = {"Agora-Signature-V2": agora_signature(agora, hashlib.sha256, AGORA_SECRET)}
    api_signed = {"Agora-Signature-V2": agora_signature(api_error, hashlib.sha256, AGORA_SECRET)}
    requests += [
        ("/hooks/agora", agora, signed),
        ("/hooks/agora", agora + b" ", signed),  # tampered
        ("/hooks/agora/api-errors", api_error, api_signed),
        ("/hooks/agora/api-errors", api_error, {"Agora-Signature": "0" * 40}),
    ]
    kvs = fixture("kvs", "report_integer_status.json")
    now = int(time.time())
    kvs_headers = {"webhook-id": "msg_log_probe", "webhook-timestamp": str(now)}
    requests += [
        (
            "/hooks/kvs",
            kvs,
            {**kvs_headers, "webhook-signature": kvs_signature("msg_log_probe", now, kvs)},
        ),
        ("/hooks/kvs", kvs, {**kvs_headers, "webhook-signature": "v1,AAAA"}),
    ]
    alarm = json.loads(fixture("cloudwatch", "alarm_putmedia_success_alarm.json"))
    requests += [
        ("/hooks/sns", json.dumps(SNS_SIGNER.sign(alarm)).encode(), {}),
        ("/hooks/sns", json.dumps({**SNS_SIGNER.sign(alarm), "Signature": "AAAA"}).encode(), {}),
    ]
    for path, body, headers in requests:
        response = client.post(
            path, data=body, headers={"Content-Type": "application/json", **headers}
        )
        assert response.status_code < 500, (path, response.get_data())
    # The operator's side: the JSON API with the admin password, right and wrong, and a login.
    client.get("/api/failures", headers=basic_auth(ADMIN_PASSWORD, user="admin"))
    client.get("/api/failures", headers=basic_auth(ADMIN_PASSWORD + "x", user="admin"))
    client.post("/admin/login", data={"username": "admin", "password": ADMIN_PASSWORD})
    return len(requests) + 3


def record_text(record: logging.LogRecord) -> str:
    """Everything a handler could write from a record: message, extras, traceback, stack."""
    parts = [record.getMessage(), repr(record.__dict__)]
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(str(part) for part in parts)


def test_no_configured_secret_in_any_log_record_or_line(probe_app, caplog):
    receiver_handler = next(h for h in logging.getLogger().handlers if getattr(h, "_receiver", 0))
    written = io.StringIO()
    previous = receiver_handler.setStream(written)
    try:
        sent = realistic_mix(probe_app.test_client())
    finally:
        receiver_handler.setStream(previous)

    records = caplog.records
    # The capture saw the run: a line per request, and DEBUG reached third-party loggers (SQL).
    assert sum(r.name == "receiver.request" for r in records) == sent
    assert any(r.name.startswith("sqlalchemy.engine") for r in records)
    assert written.getvalue().count('"receiver.request"') == sent
    for secret in secrets():
        for record in records:
            assert secret not in record_text(record), (secret, record.name, record.getMessage())
        assert secret not in caplog.text
        assert secret not in written.getvalue(), secret
