"""Every setting of the receiver, read from the environment once and validated.

A bad value stops start-up with a single :class:`SettingsError` line naming the variable,
because an operator reading a crash loop in journald needs the cause, not a traceback.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from limits import parse as parse_rate_limit
from limits.errors import ConfigurationError
from limits.storage import storage_from_string
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

#: Vendors whose notifications are authenticated with a shared token, and the variable holding it.
TOKEN_VARIABLES = {
    "zencoder": "RECEIVER_ZENCODER_TOKEN",
    "lightflow": "RECEIVER_LIGHTFLOW_TOKEN",
}

#: Vendors that sign their requests, and the variable holding the signing secret.
SIGNING_VARIABLES = {
    "agora": "RECEIVER_AGORA_SECRET",
    "kvs": "RECEIVER_KVS_SECRET",
}
#: SNS topics we accept messages from (comma-separated ARNs); unset = SNS disabled.
SNS_TOPICS_VARIABLE = "RECEIVER_SNS_TOPIC_ARNS"
VENDOR_VARIABLES = (
    *TOKEN_VARIABLES.values(),
    *SIGNING_VARIABLES.values(),
    SNS_TOPICS_VARIABLE,
)

# A shared secret shorter than this is guessable; refuse it rather than run insecurely.
MIN_SECRET_LENGTH = 16
SNS_TOPIC_ARN = re.compile(r"arn:aws(-[a-z]+)*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?")


class SettingsError(Exception):
    """A setting is missing or invalid; the message is one line meant for the operator."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    vendor_tokens: Mapping[str, str] = field(default_factory=dict)
    agora_secret: str | None = None
    kvs_secret: str | None = None  # whsec_<base64>, as Standard Webhooks writes it
    sns_topic_arns: tuple[str, ...] = ()
    max_body_bytes: int = 1024 * 1024
    retry_after_seconds: int = 30
    db_pool_size: int = 5
    db_pool_timeout: float = 5.0
    sqlite_busy_timeout: float = 5.0
    # The admin (pages and JSON API) is enabled only when a password or its hash is configured.
    admin_user: str = "admin"
    admin_password: str | None = None
    admin_password_hash: str | None = None
    admin_login_limit: str = "10 per minute"
    # Reverse proxies in front of us whose X-Forwarded-* headers are trusted (ProxyFix hops).
    trusted_proxies: int = 0
    # Where rate limits count (the admin login throttle, refused rows per sender): a `limits`
    # storage URI; memory:// is per process, redis://… is shared by every process and host.
    limiter_storage: str = "memory://"
    # A notification refused before (or at) authentication keeps this much of its body, and
    # one sender address may leave this many such rows per vendor; beyond: counted, not stored.
    refused_prefix_bytes: int = 4096
    refused_limit: str = "60 per minute"
    # Seconds a request body may take to arrive (under gunicorn) before the request gets 408.
    body_timeout_seconds: float = 10.0
    # Bearer token /metrics asks for; None = public.
    metrics_token: str | None = None
    # Alerts (receiver/alerts/): the rules file (None = the packaged default), the address that
    # links in messages point to, and the outbox worker's timing.
    alert_rules: str | None = None
    public_url: str = "http://127.0.0.1:8000"
    alert_lease_seconds: float = 60.0
    alert_max_age_seconds: float = 24 * 3600.0
    worker_poll_seconds: float = 1.0
    # One JSON object per log line (production) or readable text (development).
    log_format: str = "json"

    @property
    def admin_enabled(self) -> bool:
        return bool(self.admin_password or self.admin_password_hash)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, instance_path: str | Path = "instance"
    ) -> Settings:
        env = os.environ if environ is None else environ
        database_url = _check_database_url(
            env.get("DATABASE_URL") or default_sqlite_url(instance_path)
        )

        secret_key = env.get("RECEIVER_SECRET_KEY", "")
        if not secret_key:
            raise SettingsError(
                "RECEIVER_SECRET_KEY is not set: every process of one receiver needs the same "
                "long random key (new ones: `python -c 'import secrets; "
                "print(secrets.token_urlsafe(32))'`)"
            )
        _check_secret("RECEIVER_SECRET_KEY", secret_key)

        tokens = {}
        for vendor, variable in TOKEN_VARIABLES.items():
            if token := env.get(variable, ""):
                _check_secret(variable, token)
                tokens[vendor] = token
        agora_secret = env.get(SIGNING_VARIABLES["agora"]) or None
        if agora_secret:
            _check_secret(SIGNING_VARIABLES["agora"], agora_secret)
        kvs_secret = env.get(SIGNING_VARIABLES["kvs"]) or None
        if kvs_secret:
            _check_whsec(SIGNING_VARIABLES["kvs"], kvs_secret)
        sns_topic_arns = _sns_topic_arns(env.get(SNS_TOPICS_VARIABLE, ""))
        if not (tokens or agora_secret or kvs_secret or sns_topic_arns):
            raise SettingsError(
                "no vendor is enabled: set at least one of " + ", ".join(VENDOR_VARIABLES)
            )

        return cls(
            database_url=database_url,
            secret_key=secret_key,
            vendor_tokens=tokens,
            agora_secret=agora_secret,
            kvs_secret=kvs_secret,
            sns_topic_arns=sns_topic_arns,
            max_body_bytes=_positive_int(env, "RECEIVER_MAX_BODY_BYTES", 1024 * 1024),
            retry_after_seconds=_positive_int(env, "RECEIVER_RETRY_AFTER_SECONDS", 30),
            db_pool_size=_positive_int(env, "RECEIVER_DB_POOL_SIZE", 5),
            db_pool_timeout=_positive_float(env, "RECEIVER_DB_POOL_TIMEOUT", 5.0),
            sqlite_busy_timeout=_positive_float(env, "RECEIVER_SQLITE_BUSY_TIMEOUT", 5.0),
            **_admin_settings(env),
            trusted_proxies=_positive_int(env, "RECEIVER_TRUSTED_PROXIES", 0, minimum=0),
            log_format=_choice(env, "RECEIVER_LOG_FORMAT", ("json", "text")),
            **_abuse_settings(env),
            **_alert_settings(env),
        )

    def __repr__(self) -> str:
        # Secrets must never reach a log line, even through a debug print of the settings.
        url = make_url(self.database_url).render_as_string(hide_password=True)
        return f"Settings(database_url={url!r}, vendors={self.enabled_vendors})"

    @property
    def enabled_vendors(self) -> list[str]:
        signed = {"agora": self.agora_secret, "kvs": self.kvs_secret, "sns": self.sns_topic_arns}
        return sorted([*self.vendor_tokens, *(vendor for vendor, on in signed.items() if on)])

    @property
    def secrets(self) -> list[str]:
        """Every configured secret, for the log redaction filter."""
        return [
            self.secret_key,
            *self.vendor_tokens.values(),
            *(
                s
                for s in (
                    self.agora_secret,
                    self.kvs_secret,
                    self.admin_password,
                    self.metrics_token,
                )
                if s
            ),
        ]


def default_sqlite_url(instance_path: str | Path) -> str:
    return f"sqlite:///{Path(instance_path).resolve() / 'receiver.sqlite3'}"


def _check_database_url(url: str) -> str:
    """Validate the URL and pick psycopg 3 for a bare postgresql:// (SQLAlchemy's default is
    psycopg2, which is not installed)."""
    if url.startswith("postgres://"):  # Heroku-style alias
        url = "postgresql://" + url.removeprefix("postgres://")
    try:
        parsed = make_url(url)
    except ArgumentError:
        # Never echo the URL: it may hold a password.
        raise SettingsError("DATABASE_URL is not a valid database URL") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise SettingsError(f"DATABASE_URL must be sqlite:// or postgresql://, not {backend}://")
    if backend == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def _check_secret(variable: str, value: str) -> None:
    if len(value) < MIN_SECRET_LENGTH:
        raise SettingsError(f"{variable} is too short: use at least {MIN_SECRET_LENGTH} characters")


def _admin_settings(env: Mapping[str, str]) -> dict[str, str | None]:
    """Admin credentials: a plain password (compared in constant time) or a werkzeug hash."""
    user = env.get("RECEIVER_ADMIN_USER", "").strip() or "admin"
    password = env.get("RECEIVER_ADMIN_PASSWORD") or None
    password_hash = env.get("RECEIVER_ADMIN_PASSWORD_HASH") or None
    if password and password_hash:
        raise SettingsError("set RECEIVER_ADMIN_PASSWORD or RECEIVER_ADMIN_PASSWORD_HASH, not both")
    if password:
        _check_secret("RECEIVER_ADMIN_PASSWORD", password)
    if password_hash:
        method = password_hash.split("$", 1)[0].split(":", 1)[0]
        if password_hash.count("$") != 2 or method not in ("scrypt", "pbkdf2"):
            raise SettingsError(
                "RECEIVER_ADMIN_PASSWORD_HASH is not a werkzeug password hash "
                "(make one with `python -c 'from werkzeug.security import "
                "generate_password_hash as g; print(g(input()))'`)"
            )
    limit = env.get("RECEIVER_ADMIN_LOGIN_LIMIT", "").strip() or "10 per minute"
    try:
        parse_rate_limit(limit)
    except ValueError:
        raise SettingsError(
            f"RECEIVER_ADMIN_LOGIN_LIMIT must be a rate like '10 per minute', not {limit!r}"
        ) from None
    return {
        "admin_user": user,
        "admin_password": password,
        "admin_password_hash": password_hash,
        "admin_login_limit": limit,
    }


def _check_whsec(variable: str, value: str) -> None:
    """Standard Webhooks secrets are ``whsec_`` + base64 of at least 24 random bytes."""
    encoded = value.removeprefix("whsec_")
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not value.startswith("whsec_") or len(key) < 24:
        raise SettingsError(
            f"{variable} must be whsec_ followed by the base64 of at least 24 random bytes "
            "(see the README for a command that makes one)"
        )


def _sns_topic_arns(raw: str) -> tuple[str, ...]:
    arns = tuple(arn.strip() for arn in raw.split(",") if arn.strip())
    for arn in arns:
        if not SNS_TOPIC_ARN.fullmatch(arn):
            raise SettingsError(
                f"{SNS_TOPICS_VARIABLE}: {arn[:100]!r} is not an SNS topic ARN "
                "(arn:aws:sns:<region>:<account>:<topic>)"
            )
    return arns


def _positive_int(env: Mapping[str, str], variable: str, default: int, minimum: int = 1) -> int:
    raw = env.get(variable)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{variable} must be a whole number, not {raw!r}") from None
    if value < minimum:
        bound = "greater than zero" if minimum == 1 else f"at least {minimum}"
        raise SettingsError(f"{variable} must be {bound}, not {raw!r}")
    return value


def _choice(env: Mapping[str, str], variable: str, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (the first is the default)."""
    value = (env.get(variable) or choices[0]).strip().lower()
    if value not in choices:
        raise SettingsError(f"{variable} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _positive_float(env: Mapping[str, str], variable: str, default: float) -> float:
    raw = env.get(variable)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{variable} must be a number, not {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{variable} must be greater than zero, not {raw!r}")
    return value


def _rate(env: Mapping[str, str], variable: str, default: str) -> str:
    value = env.get(variable, "").strip() or default
    try:
        parse_rate_limit(value)
    except ValueError:
        raise SettingsError(f"{variable} must be a rate like '{default}', not {value!r}") from None
    return value


def _abuse_settings(env: Mapping[str, str]) -> dict[str, object]:
    """What bounds an unauthenticated sender: stored refusals, slow bodies, the limiter's
    storage; and who may read /metrics."""
    storage = env.get("RECEIVER_LIMITER_STORAGE", "").strip() or "memory://"
    try:
        storage_from_string(storage)
    except (ConfigurationError, ValueError) as error:
        # The URI may carry a password: name the scheme only.
        raise SettingsError(
            f"RECEIVER_LIMITER_STORAGE: cannot use {storage.split(':', 1)[0]!r} storage "
            f"({error.__class__.__name__}); use memory:// or redis://host:6379 "
            "(pip install 'video-failure-receiver[redis]')"
        ) from None
    metrics_token = env.get("RECEIVER_METRICS_TOKEN") or None
    if metrics_token:
        _check_secret("RECEIVER_METRICS_TOKEN", metrics_token)
    return {
        "limiter_storage": storage,
        "refused_prefix_bytes": _positive_int(env, "RECEIVER_REFUSED_PREFIX_BYTES", 4096),
        "refused_limit": _rate(env, "RECEIVER_REFUSED_LIMIT", "60 per minute"),
        "body_timeout_seconds": _positive_float(env, "RECEIVER_BODY_TIMEOUT_SECONDS", 10.0),
        "metrics_token": metrics_token,
    }


def _alert_settings(env: Mapping[str, str]) -> dict[str, object]:
    rules = env.get("RECEIVER_ALERT_RULES", "").strip() or None
    if rules is not None and not Path(rules).is_file():
        raise SettingsError(f"RECEIVER_ALERT_RULES: no such file {rules!r}")
    public_url = env.get("RECEIVER_PUBLIC_URL", "").strip().rstrip("/") or "http://127.0.0.1:8000"
    parsed = urlsplit(public_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SettingsError(
            f"RECEIVER_PUBLIC_URL must be an http(s) URL like https://receiver.example.com, "
            f"not {public_url!r}"
        )
    lease = _positive_float(env, "RECEIVER_ALERT_LEASE_SECONDS", 60.0)
    return {
        "alert_rules": rules,
        "public_url": public_url,
        "alert_lease_seconds": lease,
        "alert_max_age_seconds": _positive_float(env, "RECEIVER_ALERT_MAX_AGE_SECONDS", 86400.0),
        "worker_poll_seconds": _positive_float(env, "RECEIVER_WORKER_POLL_SECONDS", 1.0),
    }
