"""JSON errors for machine clients, and 503 + Retry-After when the database is unreachable."""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, jsonify
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

# Errors that mean "the database is not there right now", not "this request is wrong": senders
# should retry, so they get 503 with Retry-After rather than 500.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeoutError)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, http_error)
    for error in DATABASE_UNAVAILABLE:
        app.register_error_handler(error, database_unavailable)
    app.register_error_handler(Exception, unexpected_error)


def http_error(error: HTTPException) -> Response:
    body = {"message": error.description, "reason": error.name.lower().replace(" ", "_")}
    # webargs (the JSON API's query parsing) attaches the field messages here.
    if messages := (getattr(error, "data", None) or {}).get("messages"):
        body["errors"] = messages
    response = jsonify(body)
    response.status_code = error.code or 500
    # What the error itself says in headers (Allow on a 405, Retry-After on a 429) still counts.
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def database_unavailable(error: Exception) -> Response:
    # Log the class only: driver messages can include connection strings.
    log.warning("database unavailable: %s", type(error).__name__)
    response = jsonify(
        {"message": "the database is unavailable; retry later", "reason": "unavailable"}
    )
    response.status_code = 503
    response.headers["Retry-After"] = str(current_app.extensions["settings"].retry_after_seconds)
    return response


def unexpected_error(error: Exception) -> Response:
    log.exception("unhandled error")
    response = jsonify({"message": "internal error", "reason": "internal"})
    response.status_code = 500
    return response
