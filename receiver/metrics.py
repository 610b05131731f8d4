"""Prometheus metrics at ``GET /metrics``.

Under gunicorn every worker is a process, so metrics use prometheus_client's multiprocess mode
when ``PROMETHEUS_MULTIPROC_DIR`` is set (gunicorn.conf.py and ``receiver run`` set it). That
variable must be set before prometheus_client is first imported, which is why nothing here
imports it at module level. Gauges that describe the database (outbox depth, open alert
groups) are computed at scrape time by a collector, so every process reports the same truth.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from sqlalchemy import func, select
from werkzeug.exceptions import Unauthorized

from receiver.db import utcnow
from receiver.models import AlertGroup, AlertNotification, DeliveryAttempt

bp = Blueprint("metrics", __name__)

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
#: Every outcome of a notification (its status, or the reason it was refused). Label values
#: come only from closed sets, so no request can add a series.
OUTCOMES = frozenset(
    {
        "accepted",
        "duplicate",
        "malformed",
        "unauthorized",
        "forbidden",
        "too_large",
        "unsupported_media_type",
        "invalid",
        "unavailable",
        "unknown_vendor",
        "request_timeout",
    }
)


def outcome_label(outcome: str) -> str:
    return outcome if outcome in OUTCOMES else "other"


class Metrics:
    """The process's metric objects (created once: prometheus_client registers them globally)."""

    def __init__(self) -> None:
        from prometheus_client import Counter, Histogram

        self.notifications = Counter(
            "receiver_notifications_total",
            "Notifications received, by vendor and outcome (accepted, duplicate, rejected reason).",
            ["vendor", "outcome"],
        )
        self.failures = Counter(
            "receiver_failures_total",
            "New failures stored, by vendor, catalog category and severity.",
            ["vendor", "category", "severity"],
        )
        self.ingest_seconds = Histogram(
            "receiver_ingest_seconds",
            "Time to handle a notification, from reading the body to the commit.",
            ["vendor"],
            buckets=LATENCY_BUCKETS,
        )
        self.refusals_not_stored = Counter(
            "receiver_refusals_not_stored_total",
            "Refused unauthenticated notifications over RECEIVER_REFUSED_LIMIT: answered, "
            "not stored.",
            ["vendor", "reason"],
        )


@cache
def process_metrics() -> Metrics:
    return Metrics()


@dataclass(frozen=True)
class DatabaseMetric:
    """A value read from the database at scrape time, so every process (web workers, separate
    alert workers) reports the same truth without sharing memory."""

    name: str
    documentation: str
    read: Callable[[Any], list[tuple[tuple[str, ...], float]]]  # session -> [(labels, value)]
    labels: tuple[str, ...] = ()
    kind: str = "gauge"  # or "counter": a cumulative count kept in a table


def _scalar(query: Any) -> Callable[[Any], list[tuple[tuple[str, ...], float]]]:
    return lambda session: [((), float(session.scalar(query) or 0))]


def _outbox_oldest_age(session: Any) -> list[tuple[tuple[str, ...], float]]:
    oldest = session.scalar(
        select(func.min(AlertNotification.created_at)).where(AlertNotification.status == "pending")
    )
    return [((), 0.0 if oldest is None else max(0.0, (utcnow() - oldest).total_seconds()))]


def _deliveries(session: Any) -> list[tuple[tuple[str, ...], float]]:
    rows = session.execute(
        select(DeliveryAttempt.channel, DeliveryAttempt.outcome, func.count()).group_by(
            DeliveryAttempt.channel, DeliveryAttempt.outcome
        )
    )
    return [((channel, outcome), float(count)) for channel, outcome, count in rows]


DATABASE_METRICS = (
    DatabaseMetric(
        "receiver_outbox_depth",
        "Alert messages waiting for delivery.",
        _scalar(select(func.count()).where(AlertNotification.status == "pending")),
    ),
    DatabaseMetric(
        "receiver_outbox_oldest_age_seconds",
        "Age of the oldest alert message waiting for delivery.",
        _outbox_oldest_age,
    ),
    DatabaseMetric(
        "receiver_alert_groups_open",
        "Alert groups firing or acknowledged.",
        _scalar(select(func.count()).where(AlertGroup.state.in_(("firing", "acknowledged")))),
    ),
    DatabaseMetric(
        "receiver_alert_delivery_attempts",
        "Alert delivery attempts, by channel and outcome.",
        _deliveries,
        labels=("channel", "outcome"),
        kind="counter",
    ),
)


def init_metrics(app: Flask) -> None:
    app.extensions["metrics"] = process_metrics()
    app.register_blueprint(bp)


@bp.get("/metrics")
def exposition() -> Response:
    _require_token()
    from prometheus_client import (
        CONTENT_TYPE_LATEST,
        REGISTRY,
        CollectorRegistry,
        generate_latest,
        multiprocess,
    )

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY  # one process: its own metrics are the truth
    database = CollectorRegistry()
    database.register(_DatabaseCollector())
    body = generate_latest(registry) + generate_latest(database)
    return Response(body, mimetype=CONTENT_TYPE_LATEST)


def _require_token() -> None:
    """With ``RECEIVER_METRICS_TOKEN`` set, a scrape must send it as a bearer token."""
    token = current_app.extensions["settings"].metrics_token
    if token is None:
        return
    offered = request.authorization
    presented = offered.token if offered is not None and offered.type == "bearer" else None
    if presented is None or not hmac.compare_digest(
        presented.encode("utf-8", "surrogateescape"), token.encode()
    ):
        raise Unauthorized(
            "send RECEIVER_METRICS_TOKEN as a bearer token",
            www_authenticate=_bearer_challenge(),
        )


def _bearer_challenge() -> Any:
    from werkzeug.datastructures import WWWAuthenticate

    return WWWAuthenticate("bearer", {"realm": "receiver metrics"})


class _DatabaseCollector:
    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        from receiver.db import get_session

        session = get_session()
        for metric in DATABASE_METRICS:
            family_type = CounterMetricFamily if metric.kind == "counter" else GaugeMetricFamily
            family = family_type(metric.name, metric.documentation, labels=metric.labels)
            for labels, value in metric.read(session):
                family.add_metric(labels, value)
            yield family
