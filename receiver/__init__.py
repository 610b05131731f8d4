"""Webhook receiver for video-pipeline failures.

``create_app()`` builds the Flask app in steps: settings -> logging -> extensions -> blueprints ->
error handlers.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from receiver.alerts import init_alerts
from receiver.db import Database
from receiver.errors import register_error_handlers
from receiver.health import init_health
from receiver.logs import configure_logging, init_request_logging
from receiver.metrics import init_metrics
from receiver.settings import Settings
from receiver.throttle import init_throttles
from receiver.vendors import (
    Start,
    build_providers,
    default_catalog,
    failure_vendors,
    load_settings,
)


def create_app(settings: Settings | None = None, start: Start = Start.SERVER) -> Flask:
    """The app. ``start`` says what the process is: a server (gunicorn ``wsgi:app``, the
    default), ``receiver run`` on a loopback address, or another ``receiver`` command."""
    # RECEIVER_INSTANCE_DIR moves the local data (SQLite file, generated secrets) elsewhere.
    app = Flask(__name__, instance_path=os.environ.get("RECEIVER_INSTANCE_DIR") or None)
    if settings is None:
        settings = load_settings(instance_path=app.instance_path)
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=settings.max_body_bytes)
    app.extensions["settings"] = settings
    configure_logging(settings.secrets, json_lines=settings.log_format == "json")
    init_request_logging(app)
    register_extensions(app, settings, start)
    register_blueprints(app)
    register_admin(app, settings)
    register_error_handlers(app)
    return app


def register_extensions(app: Flask, settings: Settings, start: Start) -> None:
    if settings.database_url.startswith("sqlite:///"):
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )
    Database(settings).init_app(app)
    init_throttles(app, settings)
    # Loaded and validated once: a malformed catalog stops start-up, not a request.
    catalog = app.extensions["catalog"] = default_catalog()
    app.extensions["providers"] = build_providers(settings, catalog, start)
    app.extensions["vendors"] = failure_vendors()
    init_alerts(app, settings)
    init_metrics(app)
    init_health(app)


def register_admin(app: Flask, settings: Settings) -> None:
    """The operators' side: /admin pages, the /api JSON API and /openapi.json."""
    from receiver.admin import register_admin as register_admin_pages
    from receiver.api import register_api

    register_admin_pages(app, settings)
    register_api(app)


def register_blueprints(app: Flask) -> None:
    from receiver import hooks

    app.register_blueprint(hooks.bp)
