"""Agora Cloud Transcoding: NCS events (``/hooks/agora``) and the REST failures our users' code
reports (``/hooks/agora/api-errors``). Both are signed like NCS signs: a hex HMAC of the raw body
keyed with ``RECEIVER_AGORA_SECRET``."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from receiver.records import FailureReport, IncomingRequest, JobUpdate, Normalized, Rejection
from receiver.vendors.base import Provider
from schemas.agora import TRANSCODER_EVENTS, ApiErrorSchema, NotificationSchema

# Strongest first: NCS sends both; a sender that signs only one way is still accepted.
SIGNATURE_HEADERS = (("Agora-Signature-V2", hashlib.sha256), ("Agora-Signature", hashlib.sha1))
#: Keys of API-error reports start differently from NCS events' ``agora:<noticeId>``: under a
#: shared ``agora:`` an NCS noticeId ``api:<id>`` made a later report ``<id>`` a duplicate.
API_KEY_PREFIX = "agora-api:"


class AgoraSignedProvider(Provider):
    vendor = "agora"
    # NCS resends unless it gets a 200 with a JSON body within 10 seconds.
    accepted_status = 200

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()

    def authenticate(self, request: IncomingRequest) -> None:
        for header, digest in SIGNATURE_HEADERS:
            offered = request.headers.get(header)
            if offered is None:
                continue
            expected = hmac.new(self._secret, request.body, digest).hexdigest()
            # compare_digest runs in time independent of where the strings differ.
            if not hmac.compare_digest(
                offered.strip().lower().encode("utf-8", "surrogateescape"), expected.encode()
            ):
                raise Rejection(401, "unauthorized", f"invalid {header}")
            return
        raise Rejection(401, "unauthorized", "missing Agora-Signature-V2 / Agora-Signature")

    def sender_headers(self, body: bytes) -> dict[str, str]:
        return {
            header: hmac.new(self._secret, body, digest).hexdigest()
            for header, digest in SIGNATURE_HEADERS
        }


class AgoraProvider(AgoraSignedProvider):
    """NCS events. A task's state follows its event ``sequence``, so late or resent events
    never move it back; an abnormal stop reason or state is a failure (the catalog says which
    ones are normal)."""

    schema = NotificationSchema()

    def normalize(self, data: dict[str, Any]) -> Normalized:
        dedup_key = f"agora:{data['noticeId']}"
        occurred_at = _from_ms(data.get("notifyMs"))
        event = TRANSCODER_EVENTS.get(data["eventType"])
        if event is None:  # another product's event on the same URL: kept, describes no task
            return Normalized(self.vendor, dedup_key, occurred_at, jobs=[])
        payload = data["payload"]
        details = payload["details"]
        task_id = payload["taskId"]
        update = JobUpdate(
            kind="task",
            external_id=task_id,
            state=(details.get("state") if event == "status" else None) or event,
            rank=payload["sequence"],
            attributes={
                "instance_id": payload.get("instanceId"),
                "service_scene": payload.get("serviceScene"),
                "event_type": data["eventType"],
                "sequence": payload["sequence"],
                "stop_reason": details.get("stopReason"),
            },
        )
        code = details.get("stopReason") if event == "stopped" else None
        if event == "status":
            code = details.get("state")
        if code:
            update.failures.append(
                FailureReport(
                    code=code,
                    fingerprint=f"agora:{task_id}:{event}:{code}",
                    message=f"cloud transcoder {event}: {code}",
                    details={
                        "instance_id": payload.get("instanceId"),
                        "notice_id": data["noticeId"],
                    },
                )
            )
        return Normalized(
            vendor=self.vendor,
            dedup_key=dedup_key,
            occurred_at=_from_ms(payload.get("sendts")) or occurred_at,
            jobs=[update],
        )


class AgoraApiErrorProvider(AgoraSignedProvider):
    """A failed REST call reported by the caller; the HTTP status is the catalog code."""

    schema = ApiErrorSchema()
    # Never outranks an NCS event (rank = sequence >= 0): a report names the task, not its state.
    REPORT_RANK = -1

    def normalize(self, data: dict[str, Any]) -> Normalized:
        # X-Request-ID identifies the failed call; Agora may omit it on errors, and then the
        # report's own content does (so an identical resend is still a duplicate).
        call_id = (
            data.get("requestId")
            or "sha256:"
            + hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()
        )
        external_id = data.get("taskId") or f"instance:{data['instanceId']}"
        status = str(data["status"])
        update = JobUpdate(
            kind="task",
            external_id=external_id,
            state="api_error",
            rank=self.REPORT_RANK,
            attributes={"instance_id": data.get("instanceId")},
            failures=[
                FailureReport(
                    code=status,
                    fingerprint=f"{API_KEY_PREFIX}{call_id}",
                    message=data.get("message"),
                    details={
                        key: data.get(key)
                        for key in ("requestId", "resourceId", "method", "path", "instanceId")
                    },
                )
            ],
        )
        return Normalized(
            vendor=self.vendor,
            dedup_key=f"{API_KEY_PREFIX}{call_id}",
            occurred_at=data.get("occurredAt"),
            jobs=[update],
        )


def _from_ms(value: int | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):  # far outside any real clock
        return None
