"""Operating the receiver: metrics, health probes, request ids and structured request logs."""

from __future__ import annotations

import json
import logging

from prometheus_client.parser import text_string_to_metric_families

from receiver import create_app
from tests.conftest import make_settings
from tests.helpers import post, post_fixture


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_change_after_ingest(client):
    before = scrape(client)
    post_fixture(client, "lightflow", "asset_error_2404.json")
    post_fixture(client, "lightflow", "asset_error_2404.json")  # a repeat
    post(client, "lightflow", b"{not json")
    after = scrape(client)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("receiver_notifications_total", vendor="lightflow", outcome="accepted") == 1
    assert delta("receiver_notifications_total", vendor="lightflow", outcome="duplicate") == 1
    assert delta("receiver_notifications_total", vendor="lightflow", outcome="malformed") == 1
    # The repeat is not a new failure.
    assert (
        delta(
            "receiver_failures_total",
            vendor="lightflow",
            category="remote_not_found",
            severity="error",
        )
        == 1
    )
    assert delta("receiver_ingest_seconds_count", vendor="lightflow") == 3
    assert ("receiver_outbox_depth", ()) in after
    assert ("receiver_alert_groups_open", ()) in after


def test_healthz_and_readyz(client):
    assert client.get("/healthz").json == {"status": "ok"}
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["checks"]["database"]["ok"] is True
    assert response.json["checks"]["migrations"]["ok"] is True


def test_readyz_fails_when_the_database_is_down():
    app = create_app(
        make_settings("postgresql+psycopg://receiver@127.0.0.1:1/none", db_pool_timeout=1.0)
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "not ready"
    assert response.json["checks"]["database"]["ok"] is False
    assert app.test_client().get("/healthz").status_code == 200  # alive, just not ready


def test_request_id_is_taken_or_made_and_logged_as_json(client, caplog):
    caplog.set_level(logging.INFO, logger="receiver.request")
    response = post_fixture(
        client,
        "lightflow",
        "asset_ready.json",
        query="?token=should-not-appear",
        headers={
            "X-Request-ID": "vendor-req-42",
            "X-Receiver-Token": "lightflow-test-token-0123456789",
        },
    )
    assert response.headers["X-Request-ID"] == "vendor-req-42"
    [record] = [r for r in caplog.records if r.name == "receiver.request"]
    assert (record.request_id, record.vendor, record.outcome, record.status) == (
        "vendor-req-42",
        "lightflow",
        "accepted",
        202,
    )
    assert record.path == "/hooks/lightflow" and "token" not in record.getMessage()

    made_up = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces;drop"})
    assert made_up.headers["X-Request-ID"] != "bad id with spaces;drop"
    assert len(made_up.headers["X-Request-ID"]) == 32


def test_json_log_lines_with_secrets_masked():
    from receiver.logs import configure_logging

    configure_logging(["s3cret-value-0123456789"], json_lines=True)
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "_receiver", False))
    record = logging.LogRecord(
        "receiver.test",
        logging.WARNING,
        __file__,
        1,
        "token %s seen",
        ("s3cret-value-0123456789",),
        None,
    )
    record.request_id = "r1"
    assert all(f.filter(record) for f in handler.filters)
    line = handler.format(record)
    parsed = json.loads(line)
    assert parsed["level"] == "WARNING" and parsed["request_id"] == "r1"
    assert parsed["message"] == "token [redacted] seen"


def test_request_line_is_the_general_json_formatters_line():
    """The request line's shortcut writes what python-json-logger writes for the same record,
    escaping included (a forged line break, a quote, non-ASCII in the path)."""
    from pythonjsonlogger.json import JsonFormatter

    from receiver.logs import REQUEST_FIELDS, TEXT_FORMAT, JsonLines, escape_control

    path = '/hooks/zencoder\r\n{"level": "ERROR"} caf\u00e9'
    fields = {"request_id": "r1", "method": "POST", "path": path, "status": 202}
    fields |= {"latency_ms": 3.25, "vendor": "zencoder", "outcome": "accepted"}
    record = logging.LogRecord(
        "receiver.request",
        logging.INFO,
        __file__,
        1,
        "%s %s %s %.1fms",
        ("POST", escape_control(path), 202, 3.25),
        None,
    )
    record.__dict__.update(fields)
    general = JsonFormatter(TEXT_FORMAT, rename_fields={"asctime": "time", "levelname": "level"})
    expected = general.format(record)
    setattr(record, REQUEST_FIELDS, fields)
    line = JsonLines().format(record)
    assert line == expected and "\n" not in line
    assert json.loads(line)["path"] == path


def test_readyz_fails_when_no_worker_delivers_the_outbox(client, session):
    from datetime import timedelta

    from receiver.db import utcnow
    from receiver.models import AlertGroup, AlertNotification

    now = utcnow()
    group = AlertGroup(
        fingerprint="f" * 64,
        rule="r",
        labels={},
        state="firing",
        severity="error",
        first_seen_at=now,
        last_seen_at=now,
        first_occurred_at=now,
        last_occurred_at=now,
    )
    session.add(group)
    session.flush()
    message = AlertNotification(
        group_id=group.id, channel="default", kind="firing", status="pending", due_at=now
    )
    session.add(message)
    session.commit()
    assert client.get("/readyz").json["checks"]["alert_worker"]["ok"] is True  # just due

    message.due_at = now - timedelta(minutes=10)  # nobody picked it up for 10 minutes
    session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["alert_worker"]["ok"] is False
