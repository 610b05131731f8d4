"""The path of a notification, top to bottom; it knows no vendor.

    read (413) -> authenticate (401) -> decode + validate + normalize (400/415/422)
    -> classify -> store (202 accepted | 200 duplicate; 503 if the database is down)

A refused notification is kept too (status ``rejected`` with the reason), so nothing a vendor sent
is lost even when we could not accept it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from flask import Request, current_app

from receiver.catalog import Catalog
from receiver.db import get_session
from receiver.providers.base import IncomingRequest, Provider, Rejection
from receiver.storage import RawNotification, save_accepted, save_rejected

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
    """Handle one HTTP request to ``/hooks/<vendor>``."""
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

    catalog: Catalog = current_app.extensions["catalog"]
    for report in normalized.failures():
        report.classification = catalog.lookup(vendor, report.code)

    result = save_accepted(
        session, raw, normalized, provider.state_rank, http_status=provider.accepted_status
    )
    session.commit()  # durably stored before we answer 2xx
    if result.duplicate:
        return Outcome(200, {"status": "duplicate", "id": result.notification_id})
    return Outcome(
        provider.accepted_status,
        {"status": "accepted", "id": result.notification_id, "failures": len(result.failure_ids)},
    )


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


def _reject(session: Any, raw: RawNotification, rejection: Rejection, auth: str) -> Outcome:
    notification_id = save_rejected(session, raw, rejection, auth=auth)
    session.commit()
    body: dict[str, Any] = {
        "message": rejection.message,
        "reason": rejection.reason,
        "id": notification_id,
    }
    if rejection.errors:
        body["errors"] = rejection.errors
    return Outcome(rejection.status, body)
