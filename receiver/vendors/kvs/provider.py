"""Kinesis Video Streams producer error reports (``/hooks/kvs``), signed with Standard Webhooks.

Nothing in AWS forwards the errors a producer SDK reports to ``streamErrorReportFn``; devices post
them here themselves (format in the README). A stream is a job; each report is a failure whose
code is the SDK STATUS in the catalog's canonical spelling.
"""

from __future__ import annotations

import hmac
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from marshmallow import ValidationError
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from receiver.catalog import Catalog
from receiver.records import FailureReport, IncomingRequest, JobUpdate, Normalized, Rejection
from receiver.vendors.base import Provider
from schemas.kvs import MAX_BATCH, ReportSchema

WEBHOOK_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
#: Standard Webhooks' tolerance for the sender's clock (the library's own, restated for replay).
TIMESTAMP_TOLERANCE = timedelta(minutes=5)


class KvsProvider(Provider):
    vendor = "kvs"
    schema = ReportSchema()
    # A report refused only for its timestamp (a device that was offline, or whose clock is
    # off) still carries a valid signature: it can be replayed, the window waived on record.
    replayable_auth = frozenset({"passed", "outside_window"})

    def __init__(self, secret: str, catalog: Catalog) -> None:
        self._webhook = Webhook(secret)
        # Reports name a status as the SDK logs or the callback got it; the failure's code is
        # the catalog's spelling (a seed's typo spelling is an alias of the real code).
        self._catalog = catalog

    def authenticate(self, request: IncomingRequest) -> None:
        headers = {name: request.headers.get(name, "") for name in WEBHOOK_HEADERS}
        try:
            # Checks the signature over id.timestamp.body and a timestamp within 5 minutes.
            self._webhook.verify(request.body, headers, json_parse=False)
        except WebhookVerificationError as error:
            signed = "timestamp" in str(error) and self._signature_matches(request)
            raise Rejection(
                401,
                "unauthorized",
                f"webhook signature: {error}"
                + (" (the signature itself verifies)" if signed else ""),
                auth="outside_window" if signed else None,
            ) from None
        except ValueError:  # a malformed timestamp header
            raise Rejection(401, "unauthorized", "webhook signature: malformed") from None

    def reverify(self, request: IncomingRequest, received_at: datetime, auth: str) -> str:
        if not self._signature_matches(request):
            raise Rejection(401, "unauthorized", "webhook signature: no longer verifies")
        if auth == "outside_window":
            return "signature verified again; its timestamp was outside ±5 min at receipt: waived"
        # The window is judged against when it came, not now: a replay is always later.
        sent = _timestamp(request.headers.get("webhook-timestamp", ""))
        if sent is None or abs(sent - received_at) > TIMESTAMP_TOLERANCE:
            raise Rejection(401, "unauthorized", "webhook timestamp: not within 5 min of receipt")
        return "signature verified again; timestamp within ±5 min of receipt"

    def _signature_matches(self, request: IncomingRequest) -> bool:
        """The signature alone, whatever the timestamp (compared as the library compares)."""
        message_id = request.headers.get("webhook-id", "")
        sent = _timestamp(request.headers.get("webhook-timestamp", ""))
        if not message_id or sent is None:
            return False
        expected = self._webhook.sign(message_id, sent, request.body).encode()
        offered = request.headers.get("webhook-signature", "").split(" ")
        return any(
            hmac.compare_digest(expected, signature.encode("utf-8", "surrogateescape"))
            for signature in offered
        )

    def sender_headers(self, body: bytes) -> dict[str, str]:
        message_id, now = f"msg_{uuid.uuid4().hex}", datetime.now(UTC)
        return {
            "webhook-id": message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": self._webhook.sign(message_id, now, body),
        }

    def validate(self, payload: Any) -> dict[str, Any]:
        if isinstance(payload, dict):
            payload = [payload]
        if not isinstance(payload, list) or not payload or len(payload) > MAX_BATCH:
            raise Rejection(
                422, "invalid", f"send a report object or an array of 1 to {MAX_BATCH} of them"
            )
        if not all(isinstance(item, dict) for item in payload):
            raise Rejection(422, "invalid", "every report must be a JSON object")
        try:
            return {"reports": self.schema.load(payload, many=True)}
        except ValidationError as error:
            raise Rejection(
                422, "invalid", "the report does not match the schema", error.normalized_messages()
            ) from None

    def parse(self, request: IncomingRequest) -> Normalized:
        data = self.validate(self.decode(request))
        # Standard Webhooks: a resend keeps its webhook-id, so that is the delivery's identity.
        # (Authentication has checked the header is there; replay reads the stored one.)
        data["webhook_id"] = request.headers.get("webhook-id", "")
        return self.normalize(data)

    def normalize(self, data: dict[str, Any]) -> Normalized:
        webhook_id = data["webhook_id"]
        jobs = []
        for index, report in enumerate(data["reports"]):
            stream = report["streamName"]
            code = self._catalog.lookup(self.vendor, report["status"]).code
            timecode = report.get("erroredTimecode")
            # One failure per errored fragment, however many times the device reports it; a
            # report without a timecode is identified by its place in the delivery.
            fingerprint = (
                f"kvs:{stream}:{report.get('deviceId') or ''}:{code}:{timecode}"
                if timecode is not None
                else f"kvs:{webhook_id}:{index}"
            )
            jobs.append(
                JobUpdate(
                    kind="stream",
                    external_id=stream,
                    state="error",
                    rank=self.state_rank("error"),
                    attributes={
                        "stream_arn": report.get("streamArn"),
                        "device_id": report.get("deviceId"),
                        "sdk_version": report.get("sdkVersion"),
                    },
                    failures=[
                        FailureReport(
                            code=code,
                            fingerprint=fingerprint,
                            message=report.get("message"),
                            details={
                                "status": report["status"],
                                "device_id": report.get("deviceId"),
                                "stream_arn": report.get("streamArn"),
                                "errored_timecode": timecode,
                                "upload_handle": report.get("uploadHandle"),
                                "sdk_version": report.get("sdkVersion"),
                                "occurred_at": _iso(report.get("occurredAt")),
                            },
                        )
                    ],
                )
            )
        occurred = [r["occurredAt"] for r in data["reports"] if r.get("occurredAt")]
        return Normalized(
            vendor=self.vendor,
            dedup_key=f"kvs:{webhook_id}",
            occurred_at=max(occurred, default=None),
            jobs=jobs,
        )


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def _timestamp(header: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(header), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None
