"""The URLs vendors call: ``POST /hooks/<vendor>``."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from receiver.ingest import receive
from receiver.web_context import current_request

bp = Blueprint("hooks", __name__, url_prefix="/hooks")


@bp.post("/<vendor>")
def notification(vendor: str) -> tuple[Response, int]:
    outcome = receive(vendor, current_request())
    return jsonify(outcome.body), outcome.status


# A vendor may have more than one endpoint (/hooks/agora/api-errors). Two segments rather than
# one <path:…> rule: a path converter makes the router match every hook by regular expression.
@bp.post("/<vendor>/<endpoint>")
def vendor_endpoint(vendor: str, endpoint: str) -> tuple[Response, int]:
    outcome = receive(f"{vendor}/{endpoint}", current_request())
    return jsonify(outcome.body), outcome.status
