"""The path of a notification, top to bottom; it knows no vendor.

    read (413) -> authenticate (401) -> decode + validate + normalize (400/415/422)
    -> classify -> store (202 accepted | 200 duplicate; 503 if the database is down)

A refused notification is kept too (status ``rejected`` with the reason), so nothing a vendor sent
is lost even when we could not accept it.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any

from flask import Request, current_app, g
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import Headers
from werkzeug.http import parse_options_header

from receiver.alerts import enqueue_alerts
from receiver.alerts.triage import recover_jobs
from receiver.catalog import Catalog
from receiver.db import get_database, get_session, utcnow
from receiver.metrics import Metrics
from receiver.models import Notification
from receiver.providers.base import IncomingRequest, Normalized, Provider, Rejection
from receiver.storage import (
    RawNotification,
    Saved,
    bounded_key,
    save_accepted,
    save_normalized,
    save_rejected,
)

# Headers that carry credentials are never stored (nor logged); everything else is kept so a
# notification can be inspected and replayed as it came.
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "x-receiver-token", "x-api-key"}
)


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]


def receive(vendor: str, request: Request) -> Outcome:
    """Handle one HTTP request to ``/hooks/<vendor>`` (``vendor`` names the endpoint)."""
    started = time.perf_counter()
    outcome = _receive(vendor, request)
    g.ingest_outcome = outcome.body.get("status") or outcome.body.get("reason", "error")
    metrics: Metrics = current_app.extensions["metrics"]
    metrics.notifications.labels(vendor, g.ingest_outcome).inc()
    metrics.ingest_seconds.labels(vendor).observe(time.perf_counter() - started)
    return outcome


def _receive(vendor: str, request: Request) -> Outcome:
    providers: dict[str, Provider] = current_app.extensions["providers"]
    provider = providers.get(vendor)
    if provider is None:
        return Outcome(
            404, {"message": f"no enabled vendor called {vendor!r}", "reason": "unknown_vendor"}
        )

    raw, too_large = read_raw(vendor, request, current_app.extensions["settings"].max_body_bytes)
    session = get_session()
    if too_large:
        return _reject(session, raw, Rejection(413, "too_large", too_large), auth="unchecked")

    incoming = incoming_request(raw, request)
    try:
        provider.authenticate(incoming)
    except Rejection as rejection:
        return _reject(session, raw, rejection, auth="failed")
    try:
        normalized = provider.parse(incoming)
    except Rejection as rejection:
        return _reject(session, raw, rejection, auth="passed")

    classify(provider.vendor, normalized)
    with get_database(current_app).write_turn:
        result = save_accepted(
            session,
            raw,
            normalized,
            provider.state_rank,
            http_status=provider.accepted_status,
            vendor=provider.vendor,
        )
        # Groups and alerts join the same transaction: sent only for failures that were committed.
        triage_new(session, result.saved)
        session.commit()  # durably stored before we answer 2xx
    _count_new_failures(provider.vendor, normalized)
    if result.duplicate:
        return Outcome(200, {"status": "duplicate", "id": result.notification_id})
    return Outcome(
        provider.accepted_status,
        {"status": "accepted", "id": result.notification_id, "failures": len(result.new_failures)},
    )


def replay(session: Session, notification: Notification) -> Outcome:
    """Run a stored notification through the pipeline again (after a schema or catalog fix).

    Authentication is not repeated: replay is an operator's decision about a body we kept. A
    rejected notification that now parses becomes ``stored``; a stored one re-applies its
    updates (repeats change nothing). Either way ``replayed_at`` records it.
    """
    provider = current_app.extensions["providers"].get(notification.vendor)
    if provider is None:
        return Outcome(
            409,
            {
                "message": f"vendor {notification.vendor!r} is not enabled",
                "reason": "unknown_vendor",
            },
        )
    notification.replayed_at = utcnow()
    content_type, _options = parse_options_header(notification.content_type or "")
    incoming = IncomingRequest(
        body=notification.body,
        content_type=content_type.lower() or None,
        headers=Headers(notification.headers),
    )
    try:
        normalized = provider.parse(incoming)
    except Rejection as rejection:
        notification.reason, notification.errors = rejection.message, rejection.errors
        session.commit()
        return _rejection_outcome(rejection, notification.id)
    classify(provider.vendor, normalized)

    if notification.status == "rejected":
        dedup_key = bounded_key(normalized.dedup_key)
        original = session.scalar(
            select(Notification.id).where(Notification.dedup_key == dedup_key)
        )
        if original is not None:
            notification.reason = f"replayed: a duplicate of notification {original}"
            session.commit()
            return Outcome(200, {"status": "duplicate", "id": original})
        notification.dedup_key = dedup_key
        notification.status, notification.reason, notification.errors = "stored", None, None
        notification.http_status = provider.accepted_status
    saved = save_normalized(
        session.connection(),
        provider.vendor,
        notification.id,
        normalized,
        provider.state_rank,
        notification.received_at,
    )
    triage_new(session, saved)
    session.commit()
    return Outcome(
        200, {"status": "replayed", "id": notification.id, "failures": len(saved.new_failures)}
    )


def triage_new(session: Session, saved: Saved) -> None:
    """New failures join their groups (and alert); jobs the vendor says recovered resolve."""
    rules = current_app.extensions["alert_rules"]
    enqueue_alerts(session, saved.new_failures, rules)
    if saved.recoveries:
        recover_jobs(session, rules, saved.recoveries)


def _count_new_failures(vendor: str, normalized: Normalized) -> None:
    # Only failures this notification created count; a repeat of a known failure does not.
    failures = current_app.extensions["metrics"].failures
    for report in normalized.failures():
        if report.stored_id is not None:
            entry = report.classification
            failures.labels(vendor, entry.category, entry.severity).inc()


def classify(vendor: str, normalized: Normalized) -> None:
    """Attach the catalog's entry to every failure (unknown codes get the `unknown` entry).

    A code the catalog calls ``ok`` is news, not a failure, and is dropped: which stop reasons
    or states are normal (Agora's "Stop request", KVS STATUS_SUCCESS) is data, not code.
    """
    catalog: Catalog = current_app.extensions["catalog"]
    for job in normalized.jobs:
        for report in job.failures:
            report.classification = catalog.lookup(vendor, report.code)
        job.failures = [r for r in job.failures if r.classification.category != "ok"]


def read_raw(vendor: str, request: Request, limit: int) -> tuple[RawNotification, str | None]:
    """Read at most ``limit`` bytes of the body; say why if the body was larger."""
    # The hook reads the stream itself so an oversized body can be kept (truncated) for
    # inspection instead of being refused unread by Werkzeug (None would mean "use the config").
    request.max_content_length = sys.maxsize
    declared = request.content_length
    body = _read_at_most(request.stream, limit + 1)
    too_large = None
    if (declared is not None and declared > limit) or len(body) > limit:
        body = body[:limit]
        too_large = f"the body is larger than the limit of {limit} bytes"
    raw = RawNotification(
        vendor=vendor,
        body=body,
        content_type=(request.headers.get("Content-Type") or "")[:255] or None,
        headers={
            name: value
            for name, value in request.headers.items()
            if name.lower() not in SECRET_HEADERS
        },
        remote_addr=request.remote_addr,
        body_truncated=too_large is not None,
    )
    return raw, too_large


def _read_at_most(stream: Any, size: int) -> bytes:
    # A socket stream may return short reads; loop until EOF or the size is reached.
    chunks, remaining = [], size
    while remaining > 0:
        chunk = stream.read(min(remaining, 64 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def incoming_request(raw: RawNotification, request: Request) -> IncomingRequest:
    authorization = request.authorization
    return IncomingRequest(
        body=raw.body,
        content_type=request.mimetype or None,
        headers=request.headers,
        query=request.args,
        basic_auth_password=authorization.password
        if authorization is not None and authorization.type == "basic"
        else None,
    )


def _reject(session: Session, raw: RawNotification, rejection: Rejection, auth: str) -> Outcome:
    with get_database(current_app).write_turn:
        notification_id = save_rejected(session, raw, rejection, auth=auth)
        session.commit()
    return _rejection_outcome(rejection, notification_id)


def _rejection_outcome(rejection: Rejection, notification_id: int) -> Outcome:
    body: dict[str, Any] = {
        "message": rejection.message,
        "reason": rejection.reason,
        "id": notification_id,
    }
    if rejection.errors:
        body["errors"] = rejection.errors
    return Outcome(rejection.status, body)
