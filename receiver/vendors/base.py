"""What every vendor adapter provides: authenticate, decode, validate and normalize.

A provider knows its vendor's wire format and nothing else: how the sender proves who it is, how to
decode and validate a body, what the notification says about jobs and failures, and which key
identifies a repeat of the same notification. It never touches the database; the records it hands
on are in :mod:`receiver.records`. A vendor whose news another service carries (CloudWatch alarms
in SNS messages) reads what that service verified (:class:`CarriedVendor`).
"""

from __future__ import annotations

import hmac
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, ClassVar

from marshmallow import Schema, ValidationError

from receiver.records import IncomingRequest, Normalized, Rejection

# The application/*+json family and text/json are all JSON; `None` means the sender sent no type.
JSON_TYPES = frozenset({"application/json", "text/json", None})

#: Ranks by the vendor's clock count seconds from here (``Job.state_rank`` is a 32-bit column).
CLOCK_RANK_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
#: Seconds a clock rank can count (until 2054); a final state ranks above every non-final one.
CLOCK_RANK_SPAN = 2**30


def clock_rank(when: datetime, *, final: bool = False) -> int:
    """A job update's rank from the time the vendor says it happened: a late delivery of an
    older update never overrides a newer one, and a ``final`` state (done, failed, cancelled)
    is never undone by a non-final one, whatever their times. Updates in the same second rank
    equal (the latest delivery wins); times past the span share its top rank."""
    seconds = int((when - CLOCK_RANK_EPOCH).total_seconds())
    return min(CLOCK_RANK_SPAN - 1, max(0, seconds)) + (CLOCK_RANK_SPAN if final else 0)


class Provider(ABC):
    """One vendor's adapter. Subclasses are instantiated once at start-up.

    ``vendor`` names whose jobs and failures these are (and the catalog that decodes them); the
    key in :func:`receiver.vendors.build_providers` names the endpoint, which is what a stored
    notification records so that replay finds the same provider. They differ when one vendor has
    two endpoints (Agora); a transport (SNS) hands what it carries to the vendor whose news it is.
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

    def sender_request(self, body: bytes) -> tuple[bytes, dict[str, str]]:
        """``body`` and headers as the vendor would send them (`receiver send-test`): the
        body unchanged, with :meth:`sender_headers`, unless the signature is in the body."""
        return body, self.sender_headers(body)

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
            loaded: dict[str, Any] = self.schema.load(payload)
        except ValidationError as error:
            raise Rejection(
                422,
                "invalid",
                "the notification does not match the schema",
                error.normalized_messages(),
            ) from None
        return loaded

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


@dataclass(frozen=True)
class CarriedMessage:
    """A message another service delivered and vouched for (SNS checked its signature)."""

    carrier: str  # the endpoint it came to: "sns"
    message_id: str  # the carrier's id of this message (a redelivery keeps it)
    sent_at: datetime
    topic: str
    text: str

    @cached_property
    def data(self) -> Any:
        """The text as JSON, or None if it is not JSON."""
        try:
            return json.loads(self.text)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
            return None


class CarriedVendor(ABC):
    """A vendor whose news another service carries: it says which messages are its own."""

    vendor: ClassVar[str]

    @abstractmethod
    def claim(self, message: CarriedMessage) -> Normalized | None:
        """The message as this vendor's jobs and failures, or None if it is not this vendor's.

        Raise a 422 :class:`Rejection` for a message that is this vendor's but invalid
        (:meth:`load`).
        """

    def load(self, schema: Schema, data: Any, what: str) -> dict[str, Any]:
        """``data`` loaded by ``schema``, or the 422 that says ``what`` did not match it."""
        try:
            loaded: dict[str, Any] = schema.load(data)
        except ValidationError as error:
            raise Rejection(
                422,
                "invalid",
                f"{what} does not match the schema",
                {"Message": error.normalized_messages()},
            ) from None
        return loaded


def decode_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise Rejection(400, "malformed", f"malformed JSON: {error}") from None


def _is_json_suffix(content_type: str | None) -> bool:
    return (
        content_type is not None
        and content_type.startswith("application/")
        and content_type.endswith("+json")
    )
