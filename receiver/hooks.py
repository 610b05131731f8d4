"""The URLs vendors call: ``POST /hooks/<vendor>``."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from receiver.ingest import receive
from receiver.providers import AGORA_API_ERRORS

bp = Blueprint("hooks", __name__, url_prefix="/hooks")


@bp.post("/<vendor>")
def notification(vendor: str) -> tuple[Response, int]:
    outcome = receive(vendor, request)
    return jsonify(outcome.body), outcome.status


@bp.post("/agora/api-errors")
def agora_api_errors() -> tuple[Response, int]:
    """Failed Agora Cloud Transcoding REST calls, reported by the caller's own code."""
    outcome = receive(AGORA_API_ERRORS, request)
    return jsonify(outcome.body), outcome.status
