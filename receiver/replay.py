"""Replaying a stored notification through the pipeline again (after a schema or catalog fix).

A notification is evidence of what was sent, and only sometimes input. Whether it may be
replayed is decided here, once, for the admin (button or "why not"), the CLI and the API:

- a token vendor's notification only if its token was right when it came: tokens are never
  stored, so a 401 can never be checked again;
- a signed vendor's notification only if its signature verified when it came, or could not be
  checked then (the provider's ``replayable_auth``), and every replay verifies the stored body
  and signature headers again with today's secret, certificate and topic list. The one failed
  authentication that may be replayed: a KVS report refused only for its timestamp whose
  signature verifies; the replay records that the window was waived;
- never a body kept only in part (too large, or refused before authentication).

A replay that would create failures is shown first (:func:`preview`, a dry run that decodes and
classifies without storing or confirming anything) and then done (:func:`replay`). Every replay
or refused attempt is recorded (:class:`receiver.models.ReplayEvent`): who, when, what was
verified, what came of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import Headers
from werkzeug.http import parse_options_header

from receiver.db import utcnow
from receiver.ingest import Outcome, classify, rejection_outcome, triage_new
from receiver.models import Failure, Notification, ReplayEvent
from receiver.records import ClassifiedNotification, IncomingRequest, Normalized, Rejection
from receiver.storage import bounded_key, save_normalized
from receiver.vendors.base import Provider, SharedTokenProvider

#: Why a notification cannot be replayed, as words (counted by `receiver replay`).
VENDOR_DISABLED = "vendor_disabled"
TOKEN_NOT_VERIFIED = "token_not_verified"  # noqa: S105 - a reason, not a password
FAILED_AUTHENTICATION = "failed_authentication"
NEVER_AUTHENTICATED = "never_authenticated"
INCOMPLETE_BODY = "incomplete_body"
NOT_VERIFIED_AGAIN = "not_verified_again"


class Replayable(Protocol):
    """What the decision looks at: a Notification, or a row with these columns (no body)."""

    vendor: str
    auth: str
    body_truncated: bool


@dataclass(frozen=True)
class Eligibility:
    allowed: bool
    reason: str  # "replayable", or one of the words above
    explanation: str


def eligibility(notification: Replayable, providers: Mapping[str, Provider]) -> Eligibility:
    """May ``notification`` be replayed (with the providers enabled now), and if not, why."""
    provider = providers.get(notification.vendor)
    if provider is None:
        return Eligibility(
            False, VENDOR_DISABLED, f"vendor {notification.vendor!r} is not enabled here"
        )
    if notification.auth not in provider.replayable_auth:
        return _refused_auth(provider, notification.auth)
    if notification.body_truncated:
        return Eligibility(
            False,
            INCOMPLETE_BODY,
            "only the first bytes of its body were kept: there is nothing whole to replay",
        )
    if isinstance(provider, SharedTokenProvider):
        return Eligibility(True, "replayable", "its token was right when it came")
    return Eligibility(True, "replayable", "its signature is verified again on replay")


def _refused_auth(provider: Provider, auth: str) -> Eligibility:
    if isinstance(provider, SharedTokenProvider):
        return Eligibility(
            False,
            TOKEN_NOT_VERIFIED,
            "its token was missing or wrong when it came; tokens are never stored, so it "
            "can never be checked again",
        )
    if auth == "failed":
        return Eligibility(
            False,
            FAILED_AUTHENTICATION,
            "it failed authentication when it came (signature, or an SNS topic not allowed): "
            "such a notification is evidence, never input",
        )
    return Eligibility(
        False, NEVER_AUTHENTICATED, "its sender was never authenticated (the body was too large)"
    )


@dataclass
class Preview:
    """What a replay would do, found without storing anything."""

    eligibility: Eligibility
    #: replay (would store what it says) | duplicate | rejected (still refused) | refused
    outcome: str
    message: str
    verified: str | None = None
    #: The failures it would create: code, code_name, category, severity, job, message.
    new_failures: list[dict[str, Any]] = field(default_factory=list)
    known_failures: int = 0
    duplicate_of: int | None = None

    @property
    def needs_confirmation(self) -> bool:
        return self.outcome == "replay" and bool(self.new_failures)


def preview(session: Session, notification: Notification) -> Preview:
    """A dry run: verify again, decode, validate and classify, and compare with what is stored.

    Nothing is written and nothing is sent (an SNS subscription is not confirmed).
    """
    allowed = eligibility(notification, _providers())
    if not allowed.allowed:
        return Preview(allowed, "refused", allowed.explanation)
    try:
        verified, classified = _verified_and_parsed(notification)
    except _Refused as refused:
        return Preview(allowed, "refused", refused.message)
    except Rejection as rejection:
        return Preview(allowed, "rejected", f"still refused: {rejection.message}")
    duplicate_of = _duplicate_of(session, notification, classified.normalized)
    if duplicate_of is not None:
        return Preview(
            allowed,
            "duplicate",
            f"a duplicate of notification {duplicate_of}: nothing would change",
            verified,
            duplicate_of=duplicate_of,
        )
    failures = [(job.update, failure) for job in classified.jobs for failure in job.failures]
    keys = [bounded_key(failure.report.fingerprint) for _job, failure in failures]
    known = set(session.scalars(select(Failure.fingerprint).where(Failure.fingerprint.in_(keys))))
    new = [
        {
            "code": failure.report.code,
            "code_name": failure.code_name,
            "category": failure.category,
            "severity": failure.severity,
            "job": job.external_id,
            "message": failure.report.message,
        }
        for job, failure in failures
        if bounded_key(failure.report.fingerprint) not in known
    ]
    what = f"would create {len(new)} failure" + ("" if len(new) == 1 else "s")
    return Preview(allowed, "replay", what, verified, new, known_failures=len(failures) - len(new))


def replay(session: Session, notification: Notification, actor: str) -> Outcome:
    """Replay ``notification`` if it may be, record who did it and what came of it, commit.

    A rejected notification that now parses becomes ``stored``; a stored one re-applies its
    updates (repeats change nothing).
    """
    allowed = eligibility(notification, _providers())
    if not allowed.allowed:
        _record(session, notification, actor, "refused", allowed.explanation)
        return _refusal(allowed)
    provider = _providers()[notification.vendor]
    try:
        verified, classified = _verified_and_parsed(notification)
        for action in classified.normalized.before_store:
            action()
    except _Refused as refused:
        _record(session, notification, actor, "refused", refused.message)
        return _refusal(Eligibility(False, NOT_VERIFIED_AGAIN, refused.message))
    except Rejection as rejection:
        notification.replayed_at = utcnow()
        notification.reason, notification.errors = rejection.message, rejection.errors
        notification.reason_code = rejection.reason
        _record(session, notification, actor, "rejected", rejection.message)
        return rejection_outcome(rejection, notification.id)
    notification.replayed_at = utcnow()
    duplicate_of = _duplicate_of(session, notification, classified.normalized)
    if duplicate_of is not None:
        notification.reason = f"replayed: a duplicate of notification {duplicate_of}"
        _record(session, notification, actor, "duplicate", verified)
        return Outcome(200, {"status": "duplicate", "id": duplicate_of})
    if notification.status == "rejected":
        notification.dedup_key = bounded_key(classified.normalized.dedup_key)
        notification.status, notification.reason, notification.errors = "stored", None, None
        notification.reason_code = None
        notification.http_status = provider.accepted_status
    saved = save_normalized(
        session.connection(), notification.id, classified, notification.received_at
    )
    triage_new(session, saved)
    created = len(saved.new_failures)
    _record(session, notification, actor, "replayed", verified, created=created)
    return Outcome(200, {"status": "replayed", "id": notification.id, "failures": created})


def _refusal(why: Eligibility) -> Outcome:
    return Outcome(409, {"message": why.explanation, "reason": why.reason})


class _Refused(Exception):
    """The stored credentials do not verify again: nothing is decoded."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _verified_and_parsed(notification: Notification) -> tuple[str, ClassifiedNotification]:
    """Verify the stored credentials again, then decode, validate, normalize and classify."""
    provider = _providers()[notification.vendor]
    request = stored_request(notification)
    try:
        verified = provider.reverify(request, notification.received_at, notification.auth)
    except Rejection as rejection:
        raise _Refused(f"its credentials do not verify again: {rejection.message}") from None
    return verified, classify(provider.parse(request))


def stored_request(notification: Notification) -> IncomingRequest:
    """The request as a provider sees it, rebuilt from the stored body and headers."""
    content_type, _options = parse_options_header(notification.content_type or "")
    return IncomingRequest(
        body=notification.body,
        content_type=content_type.lower() or None,
        headers=Headers(notification.headers),
    )


def _duplicate_of(
    session: Session, notification: Notification, normalized: Normalized
) -> int | None:
    """For a rejected notification: the stored one it repeats, if any."""
    if notification.status != "rejected":
        return None
    return session.scalar(
        select(Notification.id).where(
            Notification.dedup_key == bounded_key(normalized.dedup_key),
            Notification.id != notification.id,
        )
    )


def _record(
    session: Session,
    notification: Notification,
    actor: str,
    outcome: str,
    detail: str,
    created: int = 0,
) -> None:
    """Keep who replayed (or tried to), when, what came of it; commit with the replay."""
    session.add(
        ReplayEvent(
            notification_id=notification.id,
            actor=actor[:255],
            at=utcnow(),
            outcome=outcome,
            detail=detail,
            failures_created=created,
        )
    )
    session.commit()


def _providers() -> Mapping[str, Provider]:
    return cast(Mapping[str, Provider], current_app.extensions["providers"])
