"""The URLs vendors call: ``POST /hooks/<vendor>``."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from receiver.ingest import receive

bp = Blueprint("hooks", __name__, url_prefix="/hooks")


# A path, not a name: a vendor may have several endpoints (/hooks/agora/api-errors). The log
# line's ``vendor`` field is this endpoint.
@bp.post("/<path:vendor>")
def notification(vendor: str) -> tuple[Response, int]:
    outcome = receive(vendor, request)
    return jsonify(outcome.body), outcome.status
