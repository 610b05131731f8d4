"""The operators' side: login, the grouped landing page and a group's page, failures
list/detail, triage actions, backup copies, rejected notifications, CSV export and silences.

``register_admin(app)`` installs the browser hardening (cookies, CSRF, rate limit, security
headers) and the ``/admin`` blueprint; the JSON API (``receiver.api``) shares its login.
"""

from __future__ import annotations

from flask import Flask

from receiver.admin.present import register_template_helpers
from receiver.admin.security import register_web_security
from receiver.settings import Settings


def register_admin(app: Flask, settings: Settings) -> None:
    from receiver.admin import (  # noqa: F401 - each adds its pages to views.bp
        alerts,
        backups,
        groups,
        notifications,
        views,
    )

    register_web_security(app, settings)
    register_template_helpers(app)
    app.register_blueprint(views.bp)
