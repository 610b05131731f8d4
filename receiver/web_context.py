"""The objects behind Flask's context proxies, for code that uses them many times a request.

Every attribute read through ``flask.request``, ``flask.g`` or ``flask.current_app`` looks the
object up again in a context variable (a LocalProxy): a notification made about 50 such lookups,
~2% of its instructions. The hot path takes the objects once and passes them on.
"""

from __future__ import annotations

from typing import cast

from flask import Flask, Request, current_app, g, request
from flask.ctx import _AppCtxGlobals


def current_request() -> Request:
    """The request being handled (not a proxy to it)."""
    return cast(Request, request._get_current_object())  # type: ignore[attr-defined]


def current_flask_app() -> Flask:
    """The app handling the current request or command (not a proxy to it)."""
    return cast(Flask, current_app._get_current_object())  # type: ignore[attr-defined]


def request_globals() -> _AppCtxGlobals:
    """``flask.g`` of the current app context (not a proxy to it)."""
    return cast(_AppCtxGlobals, g._get_current_object())
