"""Liveness and readiness for load balancers and orchestrators.

``/healthz``: the process answers. ``/readyz``: it can do its job: the database answers, its
schema is at the migrations' head, and (where alerting runs) a worker reported recently.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask, Response, current_app, jsonify
from sqlalchemy import text

from receiver.db import get_session
from receiver.migrate import current_revision, head_revision

bp = Blueprint("health", __name__)

#: Extra readiness checks: name -> function returning (ok, detail).
ReadinessCheck = Callable[[], tuple[bool, str]]


def init_health(app: Flask) -> None:
    app.extensions.setdefault("readiness_checks", {})
    app.extensions["migrations_head"] = head_revision()  # read once, not per probe
    app.register_blueprint(bp)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    checks: dict[str, dict[str, object]] = {}
    try:
        connection = get_session().connection()
        connection.execute(text("SELECT 1"))
        checks["database"] = {"ok": True}
        revision, head = current_revision(connection), current_app.extensions["migrations_head"]
        checks["migrations"] = {"ok": revision == head, "revision": revision, "head": head}
    except Exception as error:
        checks["database"] = {"ok": False, "error": type(error).__name__}
    for name, check in current_app.extensions["readiness_checks"].items():
        try:
            ok, detail = check()
        except Exception as error:  # a check that cannot run says "not ready", never 500
            ok, detail = False, type(error).__name__
        checks[name] = {"ok": ok, "detail": detail}
    ready = all(check["ok"] for check in checks.values())
    return jsonify(
        {"status": "ready" if ready else "not ready", "checks": checks}
    ), 200 if ready else 503
