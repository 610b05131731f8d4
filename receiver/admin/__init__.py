"""The operators' side: login, failures list/detail/actions, rejected notifications, CSV export,
alert groups and silences.

``register_admin(app)`` installs the browser hardening (cookies, CSRF, rate limit, security
headers) and the ``/admin`` blueprint; the JSON API (``receiver.api``) shares its login.
"""

from __future__ import annotations

from flask import Flask

from receiver.admin.present import register_template_helpers
from receiver.admin.security import register_web_security
from receiver.settings import Settings


def register_admin(app: Flask, settings: Settings) -> None:
    from receiver.admin import (
        alerts,  # noqa: F401 - adds the alert pages to views.bp
        notifications,  # noqa: F401 - adds the notification pages to views.bp
        views,
    )

    register_web_security(app, settings)
    register_template_helpers(app)
    app.register_blueprint(views.bp)
