"""MediaConvert job state changes, as EventBridge delivers them: straight to
``/hooks/mediaconvert`` (an EventBridge API destination, with our token) or carried by SNS (an
SNS topic as the rule's target). Both read the same event the same way, so a job, its failures
and the dedup key (the EventBridge event's ``id``) do not depend on the path it came by.

A job's state is the MediaConvert status the event says it is in, forward-only by the event's
``detail.timestamp``: COMPLETE, ERROR and CANCELED are final, so a late PROGRESSING (or a
STATUS_UPDATE, an INPUT_INFORMATION) never undoes them. ERROR is a failure coded by its
``errorCode``; a NEW_WARNING, and each warning a COMPLETE event counts, is a failure coded by
its warning code (the catalog makes it severity ``warning``). One warning code is one failure
per job, however many events report it.
"""

from __future__ import annotations

from typing import Any

from receiver.records import FailureReport, JobUpdate, Normalized
from receiver.vendors.base import CarriedMessage, CarriedVendor, SharedTokenProvider, clock_rank
from receiver.vendors.mediaconvert.codes import MediaConvertCodes
from schemas.mediaconvert import DETAIL_TYPE, SOURCE, JobStateChangeSchema

VENDOR = "mediaconvert"
FINAL_STATUSES = frozenset({"COMPLETE", "ERROR", "CANCELED"})
#: Events that report on a job without being a state of it: the state they imply.
IMPLIED_STATE = {
    "INPUT_INFORMATION": "PROGRESSING",
    "STATUS_UPDATE": "PROGRESSING",
    "NEW_WARNING": "PROGRESSING",
    # A job hops queues while it waits in one.
    "QUEUE_HOP": "SUBMITTED",
}
#: The code of an ERROR event that carries none (the catalog calls it unrecognised).
NO_ERROR_CODE = "ERROR"

_CODES = MediaConvertCodes()


def canonical_code(raw: str) -> str:
    """``"000270000"`` and ``270000`` are one code: the catalog's spelling of it."""
    keys = _CODES.parse(raw).keys
    return keys[0] if keys else raw


def normalize_event(event: dict[str, Any]) -> Normalized:
    """A validated event (:class:`JobStateChangeSchema`) as the job and failures it reports."""
    detail = event["detail"]
    status = detail["status"]
    job_id = detail["jobId"]
    update = JobUpdate(
        kind="job",
        external_id=job_id,
        state=IMPLIED_STATE.get(status, status),
        rank=clock_rank(detail["timestamp"], final=status in FINAL_STATUSES),
        attributes=_attributes(event),
        failures=_failures(job_id, detail),
    )
    return Normalized(
        vendor=VENDOR,
        # The same on both paths: EventBridge keeps an event's id when it retries a target.
        dedup_key=f"{VENDOR}:{event['id']}",
        occurred_at=detail["timestamp"],
        jobs=[update],
    )


def _attributes(event: dict[str, Any]) -> dict[str, Any]:
    detail = event["detail"]
    attributes: dict[str, Any] = {
        "last_event": detail["status"],
        "region": event.get("region"),
        "account": detail.get("accountId") or event.get("account"),
        "queue": detail.get("queue"),
        "user_metadata": detail["userMetadata"],
        "event_time": detail["timestamp"].isoformat(),
    }
    if detail.get("previousQueue"):
        attributes["previous_queue"] = detail["previousQueue"]
    progress = detail.get("jobProgress") or {}
    if progress.get("jobPercentComplete") is not None:
        attributes["percent_complete"] = progress["jobPercentComplete"]
    return attributes


def _failures(job_id: str, detail: dict[str, Any]) -> list[FailureReport]:
    """The event's error (ERROR), its new warning (NEW_WARNING) and the warnings it counts
    (COMPLETE, and ERROR may too); a code reported twice in one event is one failure."""
    status = detail["status"]
    context = {"status": status, "queue": detail.get("queue")}
    reports = []
    if status == "ERROR":
        code = canonical_code(detail["errorCode"]) if detail.get("errorCode") else NO_ERROR_CODE
        reports.append(
            FailureReport(
                code=code,
                fingerprint=f"{VENDOR}:{job_id}:error:{code}",
                message=detail.get("errorMessage"),
                details=context,
            )
        )
    if status == "NEW_WARNING" and detail.get("warningCode"):
        reports.append(
            _warning(job_id, detail["warningCode"], detail.get("warningMessage"), context)
        )
    reports.extend(
        _warning(job_id, warning["code"], _times(warning.get("count")), context)
        for warning in detail["warnings"]
    )
    first: dict[str, FailureReport] = {}
    for report in reports:
        first.setdefault(report.fingerprint, report)
    return list(first.values())


def _warning(
    job_id: str, raw_code: str, message: str | None, context: dict[str, Any]
) -> FailureReport:
    code = canonical_code(raw_code)
    return FailureReport(
        code=code,
        # One failure per warning code and job: NEW_WARNING and COMPLETE's count report it twice.
        fingerprint=f"{VENDOR}:{job_id}:warning:{code}",
        message=message,
        details=context,
    )


def _times(count: int | None) -> str | None:
    if count is None:
        return None
    return f"occurred {count} time{'' if count == 1 else 's'} in the job (COMPLETE's count)"


class MediaConvertProvider(SharedTokenProvider):
    """``/hooks/mediaconvert``: an EventBridge API destination, authenticated by the connection's
    API-key header (``X-Receiver-Token``) or Basic auth, with ``RECEIVER_MEDIACONVERT_TOKEN``."""

    vendor = VENDOR
    schema = JobStateChangeSchema()

    def normalize(self, data: dict[str, Any]) -> Normalized:
        return normalize_event(data)


class MediaConvertEvents(CarriedVendor):
    """The same events when an EventBridge rule targets an SNS topic the receiver subscribes."""

    vendor = VENDOR
    schema = JobStateChangeSchema()

    def claim(self, message: CarriedMessage) -> Normalized | None:
        event = message.data
        if not (
            isinstance(event, dict)
            and event.get("source") == SOURCE
            and event.get("detail-type") == DETAIL_TYPE
        ):
            return None
        loaded = self.load(self.schema, event, "the MediaConvert event")
        return normalize_event(loaded)
