"""The URLs vendors call: ``POST /hooks/<vendor>``."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from receiver.ingest import receive

bp = Blueprint("hooks", __name__, url_prefix="/hooks")


@bp.post("/<vendor>")
def notification(vendor: str) -> tuple[Response, int]:
    outcome = receive(vendor, request)
    return jsonify(outcome.body), outcome.status
