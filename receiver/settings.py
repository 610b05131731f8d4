"""Every setting of the receiver, declared once and read from the environment once.

A :class:`Setting` says everything about one environment variable: how it is parsed, its
default, what it means and whether it is a secret. The core settings are declared here, each
vendor's in its folder (``receiver/vendors/<vendor>/``); the README's Configuration table is
made from the declarations (``scripts/settings_table.py``), and a test fails when it differs.

A bad value stops start-up with a single :class:`SettingsError` line naming the variable,
because an operator reading a crash loop in journald needs the cause, not a traceback.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar, cast
from urllib.parse import urlsplit

from limits import parse as parse_rate_limit
from limits.errors import ConfigurationError
from limits.storage import Storage, storage_from_string
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

T = TypeVar("T")

# A shared secret shorter than this is guessable; refuse it rather than run insecurely.
MIN_SECRET_LENGTH = 16
SNS_TOPIC_ARN = re.compile(r"arn:aws(-[a-z]+)*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?")


class SettingsError(Exception):
    """A setting is missing or invalid; the message is one line meant for the operator."""


#: Reads a variable's text (never empty) into its value, or None for "the default"; raises
#: SettingsError naming the variable.
Parser = Callable[[str, str], T | None]


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One environment variable, declared once."""

    variable: str
    #: What it means, for the README's Configuration table.
    description: str
    default: T
    #: None for a variable read elsewhere (gunicorn.conf.py, prometheus_client, the alert
    #: rules file), declared here so that it is documented with the rest.
    parse: Parser[T] | None = None
    #: Never logged: its value joins the log redaction filter.
    secret: bool = False
    #: How the README shows the default when the value alone says too little.
    shown_default: str | None = None
    #: Makes the value `receiver run` writes into <instance>/receiver.env when the variable is
    #: set nowhere, so that a local trial works at once (a random secret; None: nothing).
    local_value: Callable[[], str] | None = None
    #: Only a `receiver run` on a loopback address writes that value (it serves local trials only).
    loopback_only: bool = False
    #: Unset is an error, with this advice.
    required: str | None = None

    def read(self, environ: Mapping[str, str]) -> T:
        raw = environ.get(self.variable, "")
        if raw == "" or self.parse is None:
            if self.required:
                raise SettingsError(f"{self.variable} is not set: {self.required}")
            return self.default
        value = self.parse(self.variable, raw)
        return self.default if value is None else value

    def value(self, settings: Settings) -> T:
        """A vendor setting's value in ``settings``."""
        return cast(T, settings.vendor_values.get(self.variable, self.default))

    @property
    def default_text(self) -> str:
        if self.shown_default is not None:
            return self.shown_default
        value: object = self.default
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return "unset" if value is None else f"`{value}`"


# --- local values (what `receiver run` generates) ---------------------------------------------------


def random_secret() -> str:
    """A shared secret for a local install: 32 random bytes, URL-safe."""
    return secrets.token_urlsafe(32)


def random_standard_webhooks_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


# --- parsers --------------------------------------------------------------------------------------


def text(variable: str, raw: str) -> str | None:
    return raw.strip() or None


def shared_secret(variable: str, raw: str) -> str:
    if len(raw) < MIN_SECRET_LENGTH:
        raise SettingsError(f"{variable} is too short: use at least {MIN_SECRET_LENGTH} characters")
    return raw


def standard_webhooks_secret(variable: str, raw: str) -> str:
    """Standard Webhooks secrets are ``whsec_`` + base64 of at least 24 random bytes."""
    try:
        key = base64.b64decode(raw.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not raw.startswith("whsec_") or len(key) < 24:
        raise SettingsError(
            f"{variable} must be whsec_ followed by the base64 of at least 24 random bytes "
            "(see the README for a command that makes one)"
        )
    return raw


def sns_topic_arns(variable: str, raw: str) -> tuple[str, ...] | None:
    arns = tuple(arn.strip() for arn in raw.split(",") if arn.strip())
    for arn in arns:
        if not SNS_TOPIC_ARN.fullmatch(arn):
            raise SettingsError(
                f"{variable}: {arn[:100]!r} is not an SNS topic ARN "
                "(arn:aws:sns:<region>:<account>:<topic>)"
            )
    return arns or None


def whole_number(minimum: int = 1) -> Parser[int]:
    def parse(variable: str, raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{variable} must be a whole number, not {raw!r}") from None
        if value < minimum:
            bound = "greater than zero" if minimum == 1 else f"at least {minimum}"
            raise SettingsError(f"{variable} must be {bound}, not {raw!r}")
        return value

    return parse


def positive_number(variable: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{variable} must be a number, not {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{variable} must be greater than zero, not {raw!r}")
    return value


def one_of(*choices: str) -> Parser[str]:
    def parse(variable: str, raw: str) -> str | None:
        value = raw.strip().lower()
        if value and value not in choices:
            raise SettingsError(f"{variable} must be one of {', '.join(choices)}, not {value!r}")
        return value or None

    return parse


def database_url(variable: str, raw: str) -> str:
    """Validate the URL and pick psycopg 3 for a bare postgresql:// (SQLAlchemy's default is
    psycopg2, which is not installed)."""
    url = raw
    if url.startswith("postgres://"):  # Heroku-style alias
        url = "postgresql://" + url.removeprefix("postgres://")
    try:
        parsed = make_url(url)
    except ArgumentError:
        # Never echo the URL: it may hold a password.
        raise SettingsError(f"{variable} is not a valid database URL") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise SettingsError(f"{variable} must be sqlite:// or postgresql://, not {backend}://")
    if backend == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def password_hash(variable: str, raw: str) -> str:
    method = raw.split("$", 1)[0].split(":", 1)[0]
    if raw.count("$") != 2 or method not in ("scrypt", "pbkdf2"):
        raise SettingsError(
            f"{variable} is not a werkzeug password hash "
            "(make one with `python -c 'from werkzeug.security import "
            "generate_password_hash as g; print(g(input()))'`)"
        )
    return raw


def rate_limit(variable: str, raw: str) -> str | None:
    limit = raw.strip()
    if not limit:
        return None
    try:
        parse_rate_limit(limit)
    except ValueError:
        raise SettingsError(
            f"{variable} must be a rate like '10 per minute', not {limit!r}"
        ) from None
    return limit


def limiter_storage(variable: str, raw: str) -> str | None:
    storage = raw.strip()
    if not storage:
        return None
    try:
        usable = isinstance(storage_from_string(storage), Storage)  # not an asyncio one
        problem = "an asyncio storage"
    except (ConfigurationError, ValueError) as error:
        usable, problem = False, error.__class__.__name__
    if not usable:
        # The URI may carry a password: name the scheme only.
        raise SettingsError(
            f"{variable}: cannot use {storage.split(':', 1)[0]!r} storage "
            f"({problem}); use memory:// or redis://host:6379 "
            "(pip install 'video-failure-receiver[redis]')"
        )
    return storage


def existing_file(variable: str, raw: str) -> str | None:
    path = raw.strip()
    if path and not Path(path).is_file():
        raise SettingsError(f"{variable}: no such file {path!r}")
    return path or None


def http_url(variable: str, raw: str) -> str | None:
    url = raw.strip().rstrip("/")
    if not url:
        return None
    parsed = urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SettingsError(
            f"{variable} must be an http(s) URL like https://receiver.example.com, not {url!r}"
        )
    return url


# --- the core settings ------------------------------------------------------------------------------

DATABASE_URL = Setting[str | None](
    "DATABASE_URL",
    "`sqlite:///path` or `postgresql://user:pw@host/db` (psycopg 3)",
    None,
    database_url,
    shown_default="`sqlite:///<repo>/instance/receiver.sqlite3`",
)
SECRET_KEY = Setting[str](
    "RECEIVER_SECRET_KEY",
    "signs sessions",
    "",
    shared_secret,
    secret=True,
    shown_default="— (required; `receiver run` generates one)",
    local_value=random_secret,
    required=(
        "every process of one receiver needs the same long random key (new ones: "
        "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
    ),
)
MAX_BODY_BYTES = Setting(
    "RECEIVER_MAX_BODY_BYTES", "larger bodies get 413", 1024 * 1024, whole_number()
)
RETRY_AFTER_SECONDS = Setting(
    "RECEIVER_RETRY_AFTER_SECONDS", "`Retry-After` on 503", 30, whole_number()
)
DB_POOL_SIZE = Setting(
    "RECEIVER_DB_POOL_SIZE",
    "PostgreSQL connections per process (plus as many overflow)",
    5,
    whole_number(),
)
DB_POOL_TIMEOUT = Setting(
    "RECEIVER_DB_POOL_TIMEOUT",
    "seconds to wait for a connection before answering 503",
    5.0,
    positive_number,
)
SQLITE_BUSY_TIMEOUT = Setting(
    "RECEIVER_SQLITE_BUSY_TIMEOUT",
    "seconds a SQLite writer waits for the lock",
    5.0,
    positive_number,
)
ADMIN_USER = Setting(
    "RECEIVER_ADMIN_USER", "the operator's user name (admin pages and JSON API)", "admin", text
)
ADMIN_PASSWORD = Setting[str | None](
    "RECEIVER_ADMIN_PASSWORD",
    "≥ 16 characters, compared in constant time",
    None,
    shared_secret,
    secret=True,
    shown_default="unset = admin disabled (503); `receiver run` generates one",
    local_value=random_secret,
)
ADMIN_PASSWORD_HASH = Setting[str | None](
    "RECEIVER_ADMIN_PASSWORD_HASH",
    "instead of the password: a werkzeug hash (`scrypt:…` / `pbkdf2:…`)",
    None,
    password_hash,
)
ADMIN_LOGIN_LIMIT = Setting(
    "RECEIVER_ADMIN_LOGIN_LIMIT",
    "failed logins (form or Basic) allowed per client address (per process, unless "
    "`RECEIVER_LIMITER_STORAGE` is shared)",
    "10 per minute",
    rate_limit,
)
TRUSTED_PROXIES = Setting(
    "RECEIVER_TRUSTED_PROXIES",
    "reverse proxies whose `X-Forwarded-For/-Proto/-Host` are trusted (then the session cookie "
    "is `Secure` over HTTPS); a warning is logged once when requests do not fit it",
    0,
    whole_number(minimum=0),
)
LIMITER_STORAGE = Setting(
    "RECEIVER_LIMITER_STORAGE",
    "where rate limits count (login throttle, refusals per sender): a [`limits` storage "
    "URI](https://limits.readthedocs.io/en/stable/storage.html); `memory://` is per process, "
    "`redis://host:6379` is shared by every process and host "
    "(`pip install 'video-failure-receiver[redis]'`)",
    "memory://",
    limiter_storage,
)
REFUSED_PREFIX_BYTES = Setting(
    "RECEIVER_REFUSED_PREFIX_BYTES",
    "body bytes kept of a notification refused at authentication (401, 403, unchecked 413)",
    4096,
    whole_number(),
)
REFUSED_LIMIT = Setting(
    "RECEIVER_REFUSED_LIMIT",
    "such refusals stored per sender address and endpoint; beyond: answered and counted, "
    "not stored",
    "60 per minute",
    rate_limit,
)
BODY_TIMEOUT_SECONDS = Setting(
    "RECEIVER_BODY_TIMEOUT_SECONDS",
    "a request body not received within this (under gunicorn) gets 408 and frees its thread",
    10.0,
    positive_number,
)
METRICS_TOKEN = Setting[str | None](
    "RECEIVER_METRICS_TOKEN",
    "bearer token `/metrics` asks for (≥ 16 characters): `Authorization: Bearer …`",
    None,
    shared_secret,
    secret=True,
    shown_default="unset = `/metrics` public",
)
ALERT_RULES = Setting[str | None](
    "RECEIVER_ALERT_RULES",
    "alert rules file (TOML), validated at start-up",
    None,
    existing_file,
    shown_default="the packaged `receiver/alerts/default_rules.toml`",
)
ALERT_URLS = Setting[str | None](
    "RECEIVER_ALERT_URLS",
    "Apprise URLs, space-separated (read by the default rules as `${RECEIVER_ALERT_URLS}`)",
    None,
    shown_default="unset = chat/webhook alerts off",
)
PAGERDUTY_ROUTING_KEY = Setting[str | None](
    "RECEIVER_PAGERDUTY_ROUTING_KEY",
    "Events API v2 integration key (default rules: `${RECEIVER_PAGERDUTY_ROUTING_KEY}`)",
    None,
    shown_default="unset = PagerDuty off",
)
PUBLIC_URL = Setting(
    "RECEIVER_PUBLIC_URL",
    "where links in alert messages point (`…/admin/groups/<id>`, `…/admin/backups`)",
    "http://127.0.0.1:8000",
    http_url,
    shown_default="`http://127.0.0.1:8000` (`receiver run`: the address it serves on)",
)
ALERT_LEASE_SECONDS = Setting(
    "RECEIVER_ALERT_LEASE_SECONDS",
    "how long a worker owns a claimed message; a dead worker's messages go out after it",
    60.0,
    positive_number,
)
ALERT_MAX_AGE_SECONDS = Setting(
    "RECEIVER_ALERT_MAX_AGE_SECONDS",
    "failed deliveries are retried (backoff 5 s … 10 min, jittered) until this old",
    24 * 3600.0,
    positive_number,
)
WORKER_POLL_SECONDS = Setting(
    "RECEIVER_WORKER_POLL_SECONDS",
    "how often an idle alert worker looks for due messages",
    1.0,
    positive_number,
)
LOG_FORMAT = Setting(
    "RECEIVER_LOG_FORMAT",
    "one JSON object per log line, or readable text",
    "json",
    one_of("json", "text"),
    shown_default="`json` (`receiver run`: `text`)",
)
INSTANCE_DIR = Setting[str | None](
    "RECEIVER_INSTANCE_DIR",
    "where `receiver run` keeps the SQLite file and generated secrets",
    None,
    shown_default="`<repo>/instance`",
)
PROMETHEUS_MULTIPROC_DIR = Setting[str | None](
    "PROMETHEUS_MULTIPROC_DIR",
    "prometheus_client's multiprocess folder",
    None,
    shown_default="a fresh temporary folder (gunicorn.conf.py, `receiver run`)",
)
GUNICORN_BIND = Setting(
    "GUNICORN_BIND", "the address gunicorn listens on (read by `gunicorn.conf.py`)", "0.0.0.0:8000"
)
GUNICORN_WORKERS = Setting(
    "GUNICORN_WORKERS",
    "gunicorn worker processes (`gunicorn.conf.py`, `receiver run`)",
    2,
    shown_default="`2`; `1` on SQLite",
)
GUNICORN_THREADS = Setting(
    "GUNICORN_THREADS",
    "threads per gunicorn worker (`gunicorn.conf.py`, `receiver run`)",
    4,
    shown_default="`4`; `8` on SQLite",
)

#: gunicorn's (workers, threads) on SQLite when neither is set: see :func:`server_shape`.
SQLITE_SHAPE = (1, 8)


def server_shape(environ: Mapping[str, str]) -> tuple[int, int]:
    """gunicorn's worker processes and threads per worker: as set, else 2 x 4, or 1 x 8 when
    the database is SQLite.

    SQLite has one writer at a time. The threads of one process take turns on a lock and get
    the file as soon as it is free (``Database.write_turn``); processes meet SQLite's busy
    handler, which sleeps 1, 2, 5, 10, 15, 20 ms … between tries even when the file was freed
    just after it looked. Ingest bench, SQLite, the same rate either way (writes take turns):
    p99 at the maximum 100 to 270 ms with 2 x 4, 48 to 51 ms with 1 x 8; at half of it over
    40 ms in three runs of ten with 2 x 4, 5 to 6 ms in four of four with 1 x 8.
    """
    url = environ.get(DATABASE_URL.variable) or "sqlite://"  # unset: the instance's SQLite file
    default_workers, default_threads = (
        SQLITE_SHAPE
        if url.startswith("sqlite")
        else (GUNICORN_WORKERS.default, GUNICORN_THREADS.default)
    )
    workers = int(environ.get(GUNICORN_WORKERS.variable) or default_workers)
    threads = int(environ.get(GUNICORN_THREADS.variable) or default_threads)
    return workers, threads


GUNICORN_TIMEOUT = Setting(
    "GUNICORN_TIMEOUT",
    "seconds before gunicorn kills a stuck request's worker (read by `gunicorn.conf.py`)",
    30,
)

#: The core settings, in the README's order; the vendors' come after RECEIVER_SECRET_KEY.
CORE_FIRST: tuple[Setting[Any], ...] = (DATABASE_URL, SECRET_KEY)
CORE_REST: tuple[Setting[Any], ...] = (
    MAX_BODY_BYTES,
    RETRY_AFTER_SECONDS,
    DB_POOL_SIZE,
    DB_POOL_TIMEOUT,
    SQLITE_BUSY_TIMEOUT,
    ADMIN_USER,
    ADMIN_PASSWORD,
    ADMIN_PASSWORD_HASH,
    ADMIN_LOGIN_LIMIT,
    TRUSTED_PROXIES,
    LIMITER_STORAGE,
    REFUSED_PREFIX_BYTES,
    REFUSED_LIMIT,
    BODY_TIMEOUT_SECONDS,
    METRICS_TOKEN,
    ALERT_RULES,
    ALERT_URLS,
    PAGERDUTY_ROUTING_KEY,
    PUBLIC_URL,
    ALERT_LEASE_SECONDS,
    ALERT_MAX_AGE_SECONDS,
    WORKER_POLL_SECONDS,
    LOG_FORMAT,
    INSTANCE_DIR,
    PROMETHEUS_MULTIPROC_DIR,
    GUNICORN_BIND,
    GUNICORN_WORKERS,
    GUNICORN_THREADS,
    GUNICORN_TIMEOUT,
)


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    max_body_bytes: int = MAX_BODY_BYTES.default
    retry_after_seconds: int = RETRY_AFTER_SECONDS.default
    db_pool_size: int = DB_POOL_SIZE.default
    db_pool_timeout: float = DB_POOL_TIMEOUT.default
    sqlite_busy_timeout: float = SQLITE_BUSY_TIMEOUT.default
    # The admin (pages and JSON API) is enabled only when a password or its hash is configured.
    admin_user: str = ADMIN_USER.default
    admin_password: str | None = ADMIN_PASSWORD.default
    admin_password_hash: str | None = ADMIN_PASSWORD_HASH.default
    admin_login_limit: str = ADMIN_LOGIN_LIMIT.default
    # Reverse proxies in front of us whose X-Forwarded-* headers are trusted (ProxyFix hops).
    trusted_proxies: int = TRUSTED_PROXIES.default
    # Where rate limits count (the admin login throttle, refused rows per sender): a `limits`
    # storage URI; memory:// is per process, redis://… is shared by every process and host.
    limiter_storage: str = LIMITER_STORAGE.default
    # A notification refused before (or at) authentication keeps this much of its body, and
    # one sender address may leave this many such rows per vendor; beyond: counted, not stored.
    refused_prefix_bytes: int = REFUSED_PREFIX_BYTES.default
    refused_limit: str = REFUSED_LIMIT.default
    # Seconds a request body may take to arrive (under gunicorn) before the request gets 408.
    body_timeout_seconds: float = BODY_TIMEOUT_SECONDS.default
    # Bearer token /metrics asks for; None = public.
    metrics_token: str | None = METRICS_TOKEN.default
    # Alerts (receiver/alerts/): the rules file (None = the packaged default), the address that
    # links in messages point to, and the outbox worker's timing.
    alert_rules: str | None = ALERT_RULES.default
    public_url: str = PUBLIC_URL.default
    alert_lease_seconds: float = ALERT_LEASE_SECONDS.default
    alert_max_age_seconds: float = ALERT_MAX_AGE_SECONDS.default
    worker_poll_seconds: float = WORKER_POLL_SECONDS.default
    # One JSON object per log line (production) or readable text (development).
    log_format: str = LOG_FORMAT.default
    #: The vendors' settings (declared in their folders): variable -> value, for those set.
    vendor_values: Mapping[str, object] = field(default_factory=dict)
    #: The values of the secret ones among them, for the log redaction filter.
    vendor_secrets: tuple[str, ...] = ()

    @property
    def admin_enabled(self) -> bool:
        return bool(self.admin_password or self.admin_password_hash)

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        instance_path: str | Path = "instance",
        vendor_settings: Sequence[Setting[Any]] = (),
    ) -> Settings:
        """The core settings and the given vendors' settings from ``env``."""
        password, password_hash = ADMIN_PASSWORD.read(env), ADMIN_PASSWORD_HASH.read(env)
        if password and password_hash:
            raise SettingsError(
                "set RECEIVER_ADMIN_PASSWORD or RECEIVER_ADMIN_PASSWORD_HASH, not both"
            )
        vendor_values = {s.variable: s.read(env) for s in vendor_settings if env.get(s.variable)}
        return cls(
            database_url=DATABASE_URL.read(env) or default_sqlite_url(instance_path),
            secret_key=SECRET_KEY.read(env),
            max_body_bytes=MAX_BODY_BYTES.read(env),
            retry_after_seconds=RETRY_AFTER_SECONDS.read(env),
            db_pool_size=DB_POOL_SIZE.read(env),
            db_pool_timeout=DB_POOL_TIMEOUT.read(env),
            sqlite_busy_timeout=SQLITE_BUSY_TIMEOUT.read(env),
            admin_user=ADMIN_USER.read(env),
            admin_password=password,
            admin_password_hash=password_hash,
            admin_login_limit=ADMIN_LOGIN_LIMIT.read(env),
            trusted_proxies=TRUSTED_PROXIES.read(env),
            limiter_storage=LIMITER_STORAGE.read(env),
            refused_prefix_bytes=REFUSED_PREFIX_BYTES.read(env),
            refused_limit=REFUSED_LIMIT.read(env),
            body_timeout_seconds=BODY_TIMEOUT_SECONDS.read(env),
            metrics_token=METRICS_TOKEN.read(env),
            alert_rules=ALERT_RULES.read(env),
            public_url=PUBLIC_URL.read(env),
            alert_lease_seconds=ALERT_LEASE_SECONDS.read(env),
            alert_max_age_seconds=ALERT_MAX_AGE_SECONDS.read(env),
            worker_poll_seconds=WORKER_POLL_SECONDS.read(env),
            log_format=LOG_FORMAT.read(env),
            vendor_values=vendor_values,
            vendor_secrets=tuple(
                str(vendor_values[s.variable])
                for s in vendor_settings
                if s.secret and s.variable in vendor_values
            ),
        )

    def __repr__(self) -> str:
        # Secrets must never reach a log line, even through a debug print of the settings.
        url = make_url(self.database_url).render_as_string(hide_password=True)
        return f"Settings(database_url={url!r}, vendor_settings={sorted(self.vendor_values)})"

    @property
    def secrets(self) -> list[str]:
        """Every configured secret, for the log redaction filter."""
        optional = (self.admin_password, self.metrics_token)
        return [self.secret_key, *self.vendor_secrets, *(s for s in optional if s)]


def default_sqlite_url(instance_path: str | Path) -> str:
    return f"sqlite:///{Path(instance_path).resolve() / 'receiver.sqlite3'}"


def markdown_table(settings: Iterable[Setting[Any]]) -> str:
    """The README's Configuration table of these settings."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    rows += [f"| `{s.variable}` | {s.default_text} | {s.description} |" for s in settings]
    return "\n".join(rows) + "\n"
