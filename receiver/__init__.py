"""Webhook receiver for video-pipeline failures.

``create_app()`` builds the Flask app in steps: settings -> logging -> extensions -> blueprints ->
error handlers.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from receiver.catalog import default_catalog
from receiver.db import Database
from receiver.errors import register_error_handlers
from receiver.logs import configure_logging
from receiver.providers import build_providers
from receiver.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    # RECEIVER_INSTANCE_DIR moves the local data (SQLite file, generated secrets) elsewhere.
    app = Flask(__name__, instance_path=os.environ.get("RECEIVER_INSTANCE_DIR") or None)
    if settings is None:
        settings = Settings.from_env(instance_path=app.instance_path)
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=settings.max_body_bytes)
    app.extensions["settings"] = settings
    configure_logging([settings.secret_key, *settings.vendor_tokens.values()])
    register_extensions(app, settings)
    register_blueprints(app)
    register_error_handlers(app)
    return app


def register_extensions(app: Flask, settings: Settings) -> None:
    if settings.database_url.startswith("sqlite:///"):
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )
    Database(settings).init_app(app)
    app.extensions["providers"] = build_providers(settings)
    # Loaded and validated once: a malformed catalog stops start-up, not a request.
    app.extensions["catalog"] = default_catalog()


def register_blueprints(app: Flask) -> None:
    from receiver import hooks

    app.register_blueprint(hooks.bp)
