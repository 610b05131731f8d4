"""The path of a notification, top to bottom; it knows no vendor.

    read (408, 413) -> authenticate (401) -> decode + validate + normalize (400/415/422)
    -> classify -> store (202 accepted | 200 duplicate; 503 if the database is down)

A refused notification is kept too (status ``rejected`` with the reason), so nothing a vendor sent
is lost even when we could not accept it. What nobody vouched for (refused at or before
authentication) is kept only as a prefix with its size and SHA-256, and only so many per sender
address a minute: whoever has no secret cannot fill the disk.
"""

from __future__ import annotations

import hashlib
import sys
import time
from dataclasses import dataclass, replace
from typing import Any

from flask import Flask, Request, current_app
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestTimeout

from receiver.alerts import enqueue_alerts
from receiver.alerts.triage import recover_jobs
from receiver.body_deadline import body_deadlines
from receiver.catalog import Catalog
from receiver.db import get_database, get_session
from receiver.logs import TOKEN_PARAMETER
from receiver.metrics import Metrics, outcome_label
from receiver.records import (
    ClassifiedFailure,
    ClassifiedJob,
    ClassifiedNotification,
    IncomingRequest,
    NewFailure,
    Normalized,
    Rejection,
)
from receiver.storage import (
    RawNotification,
    Saved,
    begin_accepted,
    save_accepted,
    save_rejected,
)
from receiver.throttle import refusal_limit
from receiver.vendors.base import Provider
from receiver.web_context import current_flask_app, request_globals

# Headers that carry credentials are never stored (nor logged); everything else is kept so a
# notification can be inspected and replayed as it came.
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "x-receiver-token", "x-api-key"}
)
#: How authentication ended for refusals nobody vouched for: their bodies are kept bounded.
UNAUTHENTICATED = frozenset({"failed", "unchecked"})
#: Header bytes (names and values) kept of such a refusal: a real sender's are well below it.
BOUNDED_HEADER_BYTES = 2048


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]


def receive(vendor: str, request: Request) -> Outcome:
    """Handle one HTTP request to ``/hooks/<vendor>`` (``vendor`` names the endpoint)."""
    started = time.perf_counter()
    app = current_flask_app()  # once: every proxy lookup repeats a context-variable search
    outcome = _receive(app, vendor, request)
    ingest_outcome = outcome.body.get("status") or outcome.body.get("reason", "error")
    request_globals().ingest_outcome = ingest_outcome
    metrics: Metrics = app.extensions["metrics"]
    # Label values come from closed sets: /hooks/<anything> must not add series.
    label = endpoint_label(vendor, app)
    metrics.notifications.labels(label, outcome_label(ingest_outcome)).inc()
    metrics.ingest_seconds.labels(label).observe(time.perf_counter() - started)
    return outcome


def endpoint_label(endpoint: str, app: Flask | None = None) -> str:
    """The endpoint as a metric label: an enabled one's name, else ``unknown``."""
    providers = (app or current_flask_app()).extensions["providers"]
    return endpoint if endpoint in providers else "unknown"


def _receive(app: Flask, vendor: str, request: Request) -> Outcome:
    providers: dict[str, Provider] = app.extensions["providers"]
    provider = providers.get(vendor)
    if provider is None:
        return Outcome(
            404, {"message": f"no enabled vendor called {vendor!r}", "reason": "unknown_vendor"}
        )

    settings = app.extensions["settings"]
    try:
        raw, too_large = read_raw(
            vendor, request, settings.max_body_bytes, settings.body_timeout_seconds
        )
    except RequestTimeout as timeout:  # nothing complete to keep: the sender stalled
        return Outcome(408, {"message": timeout.description, "reason": "request_timeout"})
    session = get_session()
    if too_large:
        return _reject(session, raw, Rejection(413, "too_large", too_large), auth="unchecked")

    incoming = incoming_request(raw, request)
    try:
        provider.authenticate(incoming)
    except Rejection as rejection:
        return _reject(session, raw, rejection, auth=rejection.auth or "failed")
    try:
        normalized = provider.parse(incoming)
        for action in normalized.before_store:
            action()
    except Rejection as rejection:
        return _reject(session, raw, rejection, auth="passed")

    classified = classify(normalized, app)
    # News of one job alone is one statement, run without a transaction on PostgreSQL: what
    # writes after save_accepted must come of new failures or recoveries, which it checks for.
    begin_accepted(session, classified)
    with get_database(app).write_turn:
        result = save_accepted(session, raw, classified, http_status=provider.accepted_status)
        # Groups and alerts join the same transaction: sent only for failures that were committed.
        triage_new(session, result.saved, app)
        session.commit()  # durably stored before we answer 2xx
    _count_new_failures(result.new_failures, app)
    if result.duplicate:
        return Outcome(200, {"status": "duplicate", "id": result.notification_id})
    return Outcome(
        provider.accepted_status,
        {"status": "accepted", "id": result.notification_id, "failures": len(result.new_failures)},
    )


def triage_new(session: Session, saved: Saved, app: Flask | None = None) -> None:
    """New failures join their groups (and alert); jobs the vendor says recovered resolve."""
    rules = (app or current_flask_app()).extensions["alert_rules"]
    enqueue_alerts(session, saved.new_failures, rules)
    if saved.recoveries:
        recover_jobs(session, rules, saved.recoveries)


def _count_new_failures(new_failures: tuple[NewFailure, ...], app: Flask) -> None:
    # Only failures this notification created count; a repeat of a known failure does not.
    if not new_failures:
        return
    failures = app.extensions["metrics"].failures
    for failure in new_failures:
        failures.labels(failure.vendor, failure.category, failure.severity).inc()


def classify(normalized: Normalized, app: Flask | None = None) -> ClassifiedNotification:
    """Read every failure's code in the catalog (unknown codes get the `unknown` entry).

    A code the catalog calls ``ok`` is news, not a failure, and is left out: which stop reasons
    or states are normal (Agora's "Stop request", KVS STATUS_SUCCESS) is data, not code.
    """
    catalog: Catalog = (app or current_flask_app()).extensions["catalog"]
    jobs = []
    for job in normalized.jobs:
        failures = []
        for report in job.failures:
            entry = catalog.lookup(normalized.vendor, report.code)
            if entry.category != "ok":
                failures.append(
                    ClassifiedFailure(
                        report, entry.name, entry.category, entry.severity, entry.retryable
                    )
                )
        jobs.append(ClassifiedJob(job, tuple(failures)))
    return ClassifiedNotification(normalized, tuple(jobs))


def read_raw(
    vendor: str, request: Request, limit: int, timeout: float = 10.0
) -> tuple[RawNotification, str | None]:
    """Read at most ``limit`` bytes of the body within ``timeout`` seconds (else 408); say why
    if the body was larger."""
    # The hook reads the stream itself so an oversized body can be kept (truncated) for
    # inspection instead of being refused unread by Werkzeug (None would mean "use the config").
    request.max_content_length = sys.maxsize
    declared = request.content_length
    with body_deadlines.watching(request.environ, timeout) as watch:
        body = _read_at_most(request.stream, limit + 1)
    if watch.expired:
        raise RequestTimeout(f"the body did not arrive within {timeout:g} seconds")
    too_large = None
    size = max(len(body), declared or 0)
    if (declared is not None and declared > limit) or len(body) > limit:
        body = body[:limit]
        too_large = f"the body is larger than the limit of {limit} bytes"
    raw = RawNotification(
        vendor=vendor,
        body=body,
        content_type=(request.headers.get("Content-Type") or "")[:255] or None,
        headers=stored_headers(request.headers.items()),
        remote_addr=request.remote_addr,
        body_truncated=too_large is not None,
        body_size=size,
    )
    return raw, too_large


def stored_headers(headers: Any) -> dict[str, str]:
    """The headers worth keeping: no credentials, and no ``token=`` in a URL a proxy passed on
    (X-Forwarded-Uri, X-Original-URI, X-Envoy-Original-Path, Referer …)."""
    return {
        name: TOKEN_PARAMETER.sub(r"\1[redacted]", value) if "token=" in value.lower() else value
        for name, value in headers
        if name.lower() not in SECRET_HEADERS
    }


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
    raw = replace(raw, body_sha256=hashlib.sha256(raw.body).hexdigest())
    if auth in UNAUTHENTICATED:
        if not refusal_limit().allows(raw.vendor, raw.remote_addr):
            metrics: Metrics = current_app.extensions["metrics"]
            metrics.refusals_not_stored.labels(endpoint_label(raw.vendor), rejection.reason).inc()
            return rejection_outcome(rejection, None)
        raw = bounded(raw, current_app.extensions["settings"].refused_prefix_bytes)
    with get_database(current_app).write_turn:
        notification_id = save_rejected(session, raw, rejection, auth=auth)
        session.commit()
    return rejection_outcome(rejection, notification_id)


def bounded(raw: RawNotification, limit: int) -> RawNotification:
    """The first ``limit`` bytes of the body and the first headers: what is kept of a request
    nobody vouched for (its full size and SHA-256 are kept too)."""
    headers: dict[str, str] = {}
    room = BOUNDED_HEADER_BYTES
    for name, value in raw.headers.items():
        room -= len(name) + len(value)
        if room < 0:
            headers["…"] = f"{len(raw.headers) - len(headers)} more headers not kept"
            break
        headers[name] = value
    return replace(
        raw,
        body=raw.body[:limit],
        headers=headers,
        body_truncated=raw.body_truncated or len(raw.body) > limit,
    )


def rejection_outcome(rejection: Rejection, notification_id: int | None) -> Outcome:
    """The answer to a refused notification (``id`` when it was stored)."""
    body: dict[str, Any] = {"message": rejection.message, "reason": rejection.reason}
    if notification_id is not None:
        body["id"] = notification_id
    if rejection.errors:
        body["errors"] = rejection.errors
    return Outcome(rejection.status, body)
