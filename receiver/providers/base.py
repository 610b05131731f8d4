"""What every vendor adapter provides, and the records it hands to the ingest path.

A provider knows its vendor's wire format and nothing else: how the sender proves who it is, how to
decode and validate a body, what the notification says about jobs and failures, and which key
identifies a repeat of the same notification. It never touches the database or the catalog.
"""

from __future__ import annotations

import hmac
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from marshmallow import Schema, ValidationError
from werkzeug.datastructures import Headers

from receiver.catalog import CatalogEntry

# The application/*+json family and text/json are all JSON; `None` means the sender sent no type.
JSON_TYPES = frozenset({"application/json", "text/json", None})
#: Field errors kept in an answer and its stored record; a body with 250,000 bad outputs would
#: otherwise make a multi-megabyte error document.
MAX_FIELD_ERRORS = 100


class Rejection(Exception):
    """A notification we refuse; becomes a JSON error response and a kept `rejected` record.

    ``auth`` says how authentication ended when that is not what the stage implies (failed in
    authenticate, passed after it): ``unchecked`` when it could not be done (SNS's certificate
    unreachable), ``outside_window`` for a valid signature with a stale timestamp (KVS).
    """

    def __init__(
        self,
        status: int,
        reason: str,
        message: str,
        errors: dict[str, Any] | None = None,
        auth: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.errors = cap_field_errors(errors) if errors else errors
        self.auth = auth


def cap_field_errors(errors: dict[Any, Any], limit: int = MAX_FIELD_ERRORS) -> dict[Any, Any]:
    """The first ``limit`` field messages, in their structure, and how many more there were."""
    kept = dropped = 0

    def walk(value: Any) -> Any:
        nonlocal kept, dropped
        if isinstance(value, dict):
            inner = {key: walk(item) for key, item in value.items()}
            return {key: item for key, item in inner.items() if item is not None} or None
        messages = value if isinstance(value, list) else [value]
        room = max(0, limit - kept)
        kept += min(room, len(messages))
        dropped += max(0, len(messages) - room)
        if room == 0:
            return None
        return messages[:room] if isinstance(value, list) else value

    capped = walk(errors) or {}
    if dropped:
        capped["_truncated"] = [f"and {dropped} more field errors"]
    return capped


@dataclass(frozen=True)
class IncomingRequest:
    """The parts of an HTTP request a provider may look at (and that replay can rebuild)."""

    body: bytes
    content_type: str | None  # mimetype only, lower case
    headers: Headers = field(default_factory=Headers)
    query: Mapping[str, str] = field(default_factory=dict)
    basic_auth_password: str | None = None


@dataclass
class FileUpdate:
    """An input or output as described by one notification."""

    kind: str  # input | output
    external_id: str
    state: str
    fields: dict[str, Any] = field(default_factory=dict)  # JobFile column -> value


@dataclass
class FailureReport:
    """Something the notification says went wrong, before classification."""

    code: str
    fingerprint: str
    message: str | None = None
    link: str | None = None
    file_kind: str | None = None  # the JobFile it concerns, if any
    file_external_id: str | None = None
    backup_server_used: bool = False
    details: dict[str, Any] = field(default_factory=dict)
    #: Set by the ingest path from the error catalog before the failure is stored.
    classification: CatalogEntry | None = None
    #: Set by storage: the id of the row this report created (None if it was already known).
    stored_id: int | None = None


@dataclass
class JobUpdate:
    kind: str  # job | asset | task | stream
    external_id: str
    state: str
    #: Orders this update against others of the same job (e.g. Agora's event `sequence`);
    #: when None the provider's state ranks decide.
    rank: int | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    files: list[FileUpdate] = field(default_factory=list)
    failures: list[FailureReport] = field(default_factory=list)
    #: The vendor says the job recovered at this time (a CloudWatch alarm back to OK): its open
    #: failures that occurred up to then are resolved; later ones (a newer ALARM) stay open.
    recovered_at: datetime | None = None


@dataclass
class Normalized:
    """Everything a valid notification tells us, in vendor-neutral terms."""

    dedup_key: str
    occurred_at: datetime | None
    jobs: list[JobUpdate]
    #: What accepting it takes besides storing (SNS: confirming a subscription); each raises a
    #: Rejection when it cannot be done. Ingest and replay run them, a replay's dry run never.
    before_store: list[Callable[[], None]] = field(default_factory=list)

    def failures(self) -> Iterator[FailureReport]:
        for job in self.jobs:
            yield from job.failures


class Provider(ABC):
    """One vendor's adapter. Subclasses are instantiated once at start-up.

    ``vendor`` names whose jobs and failures these are (and the catalog that decodes them); the
    registry key in :func:`receiver.providers.build_providers` names the endpoint, which is what a
    stored notification records so that replay finds the same provider. They differ when one
    vendor has two endpoints (Agora) or a transport carries another service's news (SNS).
    """

    vendor: ClassVar[str]
    schema: ClassVar[Schema]
    #: Agora insists on 200; most senders are happy with 202 Accepted.
    accepted_status: ClassVar[int] = 202
    #: Higher ranks win; states missing here rank 0. Final states share the top rank so the last
    #: final word wins, while a late non-final state never moves a job back.
    state_ranks: ClassVar[Mapping[str, int]] = {}

    def state_rank(self, state: str) -> int:
        return self.state_ranks.get(state, 0)

    #: The auth outcomes at receipt (``Notification.auth``) of notifications this provider can
    #: replay, each after :meth:`reverify`. Tokens are never stored, so a token vendor's
    #: notification is replayable only if its token was right when it came.
    replayable_auth: ClassVar[frozenset[str]] = frozenset({"passed"})

    @abstractmethod
    def authenticate(self, request: IncomingRequest) -> None:
        """Raise a 401 :class:`Rejection` unless the request comes from the vendor."""

    def reverify(self, request: IncomingRequest, received_at: datetime, auth: str) -> str:
        """Check a stored notification's credentials again before it is replayed.

        ``request`` is rebuilt from the stored body and headers, ``auth`` is how authentication
        ended at receipt. Raises a :class:`Rejection` if they do not verify with today's
        secret; returns what was verified, for the replay's record.
        """
        self.authenticate(request)
        return "signature verified again with the current secret"

    def sender_headers(self, body: bytes) -> dict[str, str]:
        """The credentials the vendor would send with ``body`` (for `receiver send-test`)."""
        raise NotImplementedError(f"{self.vendor} messages cannot be signed here")

    def decode(self, request: IncomingRequest) -> Any:
        """Turn the body into Python data; JSON unless a provider knows better."""
        if request.content_type not in JSON_TYPES and not _is_json_suffix(request.content_type):
            raise Rejection(
                415,
                "unsupported_media_type",
                f"cannot parse content type {request.content_type!r}; send application/json",
            )
        return decode_json(request.body)

    def validate(self, payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict):
            raise Rejection(422, "invalid", "the body must be a JSON object")
        try:
            return self.schema.load(payload)
        except ValidationError as error:
            raise Rejection(
                422,
                "invalid",
                "the notification does not match the schema",
                error.normalized_messages(),
            ) from None

    @abstractmethod
    def normalize(self, data: dict[str, Any]) -> Normalized:
        """Describe a validated payload as jobs, files and failures with a dedup key."""

    def parse(self, request: IncomingRequest) -> Normalized:
        """Decode, validate and normalize: everything but authentication."""
        return self.normalize(self.validate(self.decode(request)))


class SharedTokenProvider(Provider):
    """Vendors that cannot sign: the sender proves itself with a token we gave it.

    Accepted as the password of HTTP Basic auth (a `user:token@` notification URL), as an
    ``X-Receiver-Token`` header or as a ``token`` query parameter.
    """

    def __init__(self, token: str) -> None:
        self._token = token.encode()

    def reverify(self, request: IncomingRequest, received_at: datetime, auth: str) -> str:
        # Only notifications whose token was right at receipt get here (replayable_auth).
        return "token checked at receipt; tokens are never stored, so not again"

    def sender_headers(self, body: bytes) -> dict[str, str]:
        return {"X-Receiver-Token": self._token.decode()}

    def authenticate(self, request: IncomingRequest) -> None:
        offered = (
            request.basic_auth_password
            or request.headers.get("X-Receiver-Token")
            or request.query.get("token")
        )
        if not offered:
            raise Rejection(401, "unauthorized", "missing credentials: send the receiver token")
        # compare_digest runs in time independent of where the strings differ.
        if not hmac.compare_digest(offered.encode("utf-8", "surrogateescape"), self._token):
            raise Rejection(401, "unauthorized", "invalid credentials")


def decode_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise Rejection(400, "malformed", f"malformed JSON: {error}") from None


def _is_json_suffix(content_type: str | None) -> bool:
    return (
        bool(content_type)
        and content_type.startswith("application/")
        and content_type.endswith("+json")
    )
