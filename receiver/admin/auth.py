"""Who may use the admin pages and the JSON API: one operator account from the settings.

Browsers log in with a form and keep a session cookie; scripts send the same credentials with
HTTP Basic (``curl -u``). Failed attempts, by either route, count against a per-address limit.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from typing import cast
from urllib.parse import urlsplit

from flask import current_app, g, jsonify, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFProtect
from limits import parse as parse_rate_limit
from limits.errors import StorageError
from limits.storage import Storage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import ServiceUnavailable, TooManyRequests
from werkzeug.security import check_password_hash

from receiver.db import get_session, insert_for, utcnow
from receiver.models import AdminSessionGeneration
from receiver.settings import Settings

csrf = CSRFProtect()
log = logging.getLogger(__name__)

SESSION_USER = "admin_user"
SESSION_TAG = "admin_tag"
SESSION_GENERATION = "admin_generation"
REALM = 'Basic realm="receiver admin", charset="UTF-8"'


def settings() -> Settings:
    return cast(Settings, current_app.extensions["settings"])


class LoginThrottle:
    """Failed logins per client address, in a moving window (``RECEIVER_ADMIN_LOGIN_LIMIT``).

    Once an address has used them up, every admin and API request from it gets 429 until the
    window moves on, even with the right password. Counts live where
    ``RECEIVER_LIMITER_STORAGE`` says (process memory by default; Redis shares them between
    processes and hosts). Only the admin and API blueprints consult it:
    webhooks never pay for it (Flask-Limiter's app-wide hooks cost 8% of a notification's
    instructions, for a limit that did not apply to them).
    """

    SCOPE = "admin-login"

    def __init__(self, rate: str, storage: Storage) -> None:
        self.limit = parse_rate_limit(rate)
        self.window = MovingWindowRateLimiter(storage)

    def refuse_if_exhausted(self, address: str) -> None:
        try:
            exhausted = not self.window.test(self.limit, self.SCOPE, address)
            reset_at = self.window.get_window_stats(self.limit, self.SCOPE, address).reset_time
        except StorageError as error:  # RECEIVER_LIMITER_STORAGE unreachable: log, let through
            log.warning("login throttle not checked: limiter storage unavailable (%s)", error)
            return
        if exhausted:
            raise TooManyRequests(
                "too many failed logins from this address; try again later",
                retry_after=max(1, int(reset_at - time.time()) + 1),
            )

    def count_failure(self, address: str) -> None:
        try:
            self.window.hit(self.limit, self.SCOPE, address)
        except StorageError as error:
            log.warning("failed login not counted: limiter storage unavailable (%s)", error)


def login_throttle() -> LoginThrottle:
    return cast(LoginThrottle, current_app.extensions["login_throttle"])


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
    session[SESSION_GENERATION] = session_generation(get_session(), user)
    session.permanent = True


def log_out() -> None:
    """End the session here and everywhere: the cookie is signed, not stored, so a copy of it
    would stay valid until it expires; bumping the user's generation makes every cookie of
    the old one worthless, in every process."""
    user = session.get(SESSION_USER)
    session.clear()
    if user:
        end_sessions(get_session(), user)


def current_user() -> str | None:
    """The logged-in operator (session cookie or HTTP Basic), or None."""
    config = settings()
    tag = session.get(SESSION_TAG)
    if (
        tag is not None
        and hmac.compare_digest(str(tag), credentials_tag(config))
        and session.get(SESSION_GENERATION)
        == session_generation(get_session(), session.get(SESSION_USER, ""))
    ):
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
    """Only same-site paths are followed after login (no open redirect to another host); a
    control character (CR/LF would split the Location header) sends to the default page."""
    if (
        target
        and target.startswith("/")
        and not target.startswith(("//", "/\\"))
        and not any(ord(char) < 32 or ord(char) == 127 for char in target)
    ):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("admin.index")


def session_generation(db: Session, user: str) -> int:
    """The user's current session generation (0 until the first logout)."""
    return (
        db.scalar(
            select(AdminSessionGeneration.generation).where(AdminSessionGeneration.user == user)
        )
        or 0
    )


def end_sessions(db: Session, user: str) -> None:
    """Invalidate every session cookie ``user`` has (the next login gets a new generation)."""
    table = AdminSessionGeneration.__table__
    statement = insert_for(db.get_bind().dialect.name)(table).values(
        user=user, generation=1, changed_at=utcnow()
    )
    db.execute(
        statement.on_conflict_do_update(
            index_elements=["user"],
            set_={
                "generation": table.c.generation + 1,
                "changed_at": statement.excluded.changed_at,
            },
        )
    )
    db.commit()
