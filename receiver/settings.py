"""Every setting of the receiver, read from the environment once and validated.

A bad value stops start-up with a single :class:`SettingsError` line naming the variable,
because an operator reading a crash loop in journald needs the cause, not a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

#: Vendors whose notifications are authenticated with a shared token, and the variable holding it.
TOKEN_VARIABLES = {
    "zencoder": "RECEIVER_ZENCODER_TOKEN",
    "lightflow": "RECEIVER_LIGHTFLOW_TOKEN",
}

# A shared secret shorter than this is guessable; refuse it rather than run insecurely.
MIN_SECRET_LENGTH = 16


class SettingsError(Exception):
    """A setting is missing or invalid; the message is one line meant for the operator."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    vendor_tokens: Mapping[str, str] = field(default_factory=dict)
    max_body_bytes: int = 1024 * 1024
    retry_after_seconds: int = 30
    db_pool_size: int = 5
    db_pool_timeout: float = 5.0
    sqlite_busy_timeout: float = 5.0

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
                "RECEIVER_SECRET_KEY is not set: set it to a long random string "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
            )
        _check_secret("RECEIVER_SECRET_KEY", secret_key)

        tokens = {}
        for vendor, variable in TOKEN_VARIABLES.items():
            if token := env.get(variable, ""):
                _check_secret(variable, token)
                tokens[vendor] = token
        if not tokens:
            raise SettingsError(
                "no vendor is enabled: set at least one of " + ", ".join(TOKEN_VARIABLES.values())
            )

        return cls(
            database_url=database_url,
            secret_key=secret_key,
            vendor_tokens=tokens,
            max_body_bytes=_positive_int(env, "RECEIVER_MAX_BODY_BYTES", 1024 * 1024),
            retry_after_seconds=_positive_int(env, "RECEIVER_RETRY_AFTER_SECONDS", 30),
            db_pool_size=_positive_int(env, "RECEIVER_DB_POOL_SIZE", 5),
            db_pool_timeout=_positive_float(env, "RECEIVER_DB_POOL_TIMEOUT", 5.0),
            sqlite_busy_timeout=_positive_float(env, "RECEIVER_SQLITE_BUSY_TIMEOUT", 5.0),
        )

    def __repr__(self) -> str:
        # Secrets must never reach a log line, even through a debug print of the settings.
        url = make_url(self.database_url).render_as_string(hide_password=True)
        return f"Settings(database_url={url!r}, vendors={sorted(self.vendor_tokens)})"


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


def _positive_int(env: Mapping[str, str], variable: str, default: int) -> int:
    raw = env.get(variable)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{variable} must be a whole number, not {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{variable} must be greater than zero, not {raw!r}")
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
