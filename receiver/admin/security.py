"""Browser-facing hardening: cookies, proxy headers and security headers on every response.

The admin pages use no JavaScript and one static stylesheet, so the Content-Security-Policy can
forbid scripts, inline styles and framing outright: an injected ``<script>`` or ``style=`` in a
vendor field would not run even if escaping ever failed. The one exception to "never framed" is
the failures chart, an SVG document the list page embeds (see ``EMBEDDABLE_SVG_HEADERS``).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from receiver.admin.auth import LoginThrottle, csrf
from receiver.settings import Settings
from receiver.throttle import limiter_storage
from receiver.web_context import current_request

log = logging.getLogger(__name__)

# The failures list embeds its chart with <object>: object-src allows the element, and frame-src
# the SVG document it loads (Chromium checks the nested document against frame-src). 'self' only:
# every other response here refuses to be framed (frame-ancestors 'none', X-Frame-Options DENY).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; object-src 'self'; "
    "frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
SECURE_TRANSPORT_HEADERS = {**SECURITY_HEADERS, "Strict-Transport-Security": "max-age=31536000"}
#: Set by the chart view itself (``add_security_headers`` only fills in what a response lacks):
#: the admin's own pages may embed it, nobody else may, and the document may load nothing at all
#: (its colours are attributes, not styles), so a script slipped into it could still not run.
EMBEDDABLE_SVG_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'self'",
    "X-Frame-Options": "SAMEORIGIN",
}


class TLSAwareSessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie ``Secure`` whenever the request came over HTTPS.

    Behind a TLS-terminating proxy ``request.is_secure`` relies on X-Forwarded-Proto, which
    ProxyFix trusts only when ``RECEIVER_TRUSTED_PROXIES`` is set. Plain-HTTP local use keeps
    working because the flag then stays off.
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        # Webhooks never use the session: skip building its signer on every notification.
        # None gives Flask's null session, which refuses writes.
        if request.path.startswith("/hooks/"):
            return None
        return super().open_session(app, request)


class ProxySettingCheck:
    """Warns once when ``RECEIVER_TRUSTED_PROXIES`` does not fit the requests that arrive.

    With 0 behind a proxy every client has the proxy's address (one login-throttle bucket for
    all, one refusal limit for all); with 1 and no proxy, a client picks its own address in
    X-Forwarded-For (a fresh throttle bucket per attempt, or a victim's locked out). Neither
    can be seen before requests come, so the first that shows it is logged.
    """

    def __init__(self, wsgi_app: Any, trusted_proxies: int) -> None:
        self.wsgi_app = wsgi_app
        self.trusted = trusted_proxies
        self.warned = False

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if not self.warned:
            self.check(environ)
        return self.wsgi_app(environ, start_response)

    def check(self, environ: dict[str, Any]) -> None:
        forwarded = "HTTP_X_FORWARDED_FOR" in environ
        if forwarded and not self.trusted:
            self.warned = True
            log.warning(
                "requests carry X-Forwarded-For but RECEIVER_TRUSTED_PROXIES=0: behind a "
                "proxy every client has its address (one login throttle for all); set it to "
                "the number of proxies"
            )
        elif not forwarded and self.trusted:
            self.warned = True
            log.warning(
                "a request from %s came without X-Forwarded-For but RECEIVER_TRUSTED_PROXIES=%d: "
                "if clients can reach the receiver directly, they choose their own address; "
                "set it to 0 unless every request passes the proxy",
                environ.get("REMOTE_ADDR"),
                self.trusted,
            )


def register_web_security(app: Flask, settings: Settings) -> None:
    if settings.trusted_proxies:
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    app.wsgi_app = ProxySettingCheck(app.wsgi_app, settings.trusted_proxies)  # type: ignore[method-assign]
    app.config.update(
        SESSION_COOKIE_NAME="receiver_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        # CSRF is checked by the admin blueprint only: vendors' webhook POSTs carry no token.
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
    )
    app.session_interface = TLSAwareSessionInterface()
    csrf.init_app(app)
    app.extensions["login_throttle"] = LoginThrottle(
        settings.admin_login_limit, limiter_storage(app)
    )
    app.after_request(add_security_headers)


#: Where every response is about the operator's data: never kept by a browser or a proxy (the
#: back button after logging out, a shared computer's disk cache).
PRIVATE_PREFIXES = ("/admin", "/api/")


def add_security_headers(response: Response) -> Response:
    """Adds each security header the response does not set itself (the chart sets its own)."""
    # One pass over the response's headers: a setdefault per header scanned them every time,
    # 5% of a notification's instructions.
    present = {name.lower() for name, _value in response.headers}
    handled = current_request()  # not through the proxy, twice
    wanted = SECURE_TRANSPORT_HEADERS if handled.is_secure else SECURITY_HEADERS
    response.headers.extend(
        [(name, value) for name, value in wanted.items() if name.lower() not in present]
    )
    if handled.path.startswith(PRIVATE_PREFIXES):
        response.headers["Cache-Control"] = "no-store"
    return response
