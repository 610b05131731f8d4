"""Who may use the admin pages and the JSON API: one operator account from the settings.

Browsers log in with a form and keep a session cookie; scripts send the same credentials with
HTTP Basic (``curl -u``). Failed attempts, by either route, count against a per-address limit.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlsplit

from flask import current_app, g, jsonify, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFProtect
from limits import parse as parse_rate_limit
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from werkzeug.exceptions import ServiceUnavailable, TooManyRequests
from werkzeug.security import check_password_hash

from receiver.settings import Settings

csrf = CSRFProtect()

SESSION_USER = "admin_user"
SESSION_TAG = "admin_tag"
REALM = 'Basic realm="receiver admin", charset="UTF-8"'


def settings() -> Settings:
    return current_app.extensions["settings"]


class LoginThrottle:
    """Failed logins per client address, in a moving window (``RECEIVER_ADMIN_LOGIN_LIMIT``).

    Once an address has used them up, every admin and API request from it gets 429 until the
    window moves on, even with the right password. Counts live in process memory, which is
    enough to make password guessing slow. Only the admin and API blueprints consult it:
    webhooks never pay for it (Flask-Limiter's app-wide hooks cost 8% of a notification's
    instructions, for a limit that did not apply to them).
    """

    SCOPE = "admin-login"

    def __init__(self, rate: str) -> None:
        self.limit = parse_rate_limit(rate)
        self.window = MovingWindowRateLimiter(MemoryStorage())

    def refuse_if_exhausted(self, address: str) -> None:
        if not self.window.test(self.limit, self.SCOPE, address):
            reset_at = self.window.get_window_stats(self.limit, self.SCOPE, address).reset_time
            raise TooManyRequests(
                "too many failed logins from this address; try again later",
                retry_after=max(1, int(reset_at - time.time()) + 1),
            )

    def count_failure(self, address: str) -> None:
        self.window.hit(self.limit, self.SCOPE, address)


def login_throttle() -> LoginThrottle:
    return current_app.extensions["login_throttle"]


def refuse_throttled_client() -> None:
    """``before_request`` of the admin and API blueprints, ahead of their login checks."""
    login_throttle().refuse_if_exhausted(request.remote_addr or "")


def check_credentials(user: str, password: str) -> bool:
    """Constant-time check of both fields (no early exit that would reveal a valid user)."""
    config = settings()
    user_ok = hmac.compare_digest(user.encode(), config.admin_user.encode())
    if config.admin_password_hash:
        password_ok = check_password_hash(config.admin_password_hash, password)
    else:
        password_ok = hmac.compare_digest(
            password.encode("utf-8", "surrogateescape"),
            (config.admin_password or "").encode(),
        )
    if not (user_ok and password_ok):
        login_throttle().count_failure(request.remote_addr or "")
        return False
    return True


def credentials_tag(config: Settings) -> str:
    """Binds a session to the current credentials: changing the password logs everyone out."""
    material = f"{config.admin_user}\0{config.admin_password or config.admin_password_hash}"
    return hmac.new(config.secret_key.encode(), material.encode(), hashlib.sha256).hexdigest()


def log_in(user: str) -> None:
    session.clear()  # a fresh session on login: no fixation of a pre-login session
    session[SESSION_USER] = user
    session[SESSION_TAG] = credentials_tag(settings())
    session.permanent = True


def log_out() -> None:
    session.clear()


def current_user() -> str | None:
    """The logged-in operator (session cookie or HTTP Basic), or None."""
    config = settings()
    tag = session.get(SESSION_TAG)
    if tag is not None and hmac.compare_digest(str(tag), credentials_tag(config)):
        return session.get(SESSION_USER)
    basic = request.authorization
    if (
        basic is not None
        and basic.type == "basic"
        and check_credentials(basic.username or "", basic.password or "")
    ):
        return basic.username
    return None


def require_admin(html: bool) -> ResponseReturnValue | None:
    """A ``before_request`` guard: None to go on, else the response that refuses the request.

    HTML pages send an anonymous browser to the login form; machine endpoints (API, CSV) answer
    401 with a Basic challenge.
    """
    if not settings().admin_enabled:
        raise ServiceUnavailable(
            "the admin is disabled: set RECEIVER_ADMIN_PASSWORD (or RECEIVER_ADMIN_PASSWORD_HASH)"
        )
    user = current_user()
    if user is not None:
        g.admin_user = user
        return None
    if html and request.method == "GET" and request.authorization is None:
        return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
    response = jsonify({"message": "authentication required", "reason": "unauthorized"})
    response.status_code = 401
    response.headers["WWW-Authenticate"] = REALM
    return response


def require_api_user() -> ResponseReturnValue | None:
    """``before_request`` of the JSON API blueprints."""
    return require_admin(html=False)


def safe_next(target: str | None) -> str:
    """Only same-site paths are followed after login (no open redirect to another host)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("admin.index")
