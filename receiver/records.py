"""The records that flow through the pipeline, in vendor-neutral terms.

    provider --IncomingRequest--> Normalized (jobs, files, FailureReports) | Rejection
    ingest   --classify--> ClassifiedNotification (ClassifiedFailures)
    storage  --store-->   NewFailure (what alert rules match and group on)

Each layer hands the next a record of its own making, complete when created: classification
is a new record made by the layer that reads the catalog, a stored id a new record made by
storage, never a field someone fills in later on another layer's object. Nothing here knows a
vendor, the database or the catalog.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from werkzeug.datastructures import Headers

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
    #: Orders this state against the file's others (the vendor's state ranks): a late
    #: non-final state never moves a file back.
    rank: int
    fields: dict[str, Any] = field(default_factory=dict)  # JobFile column -> value


@dataclass
class FailureReport:
    """Something the notification says went wrong, in the vendor's own code."""

    code: str
    fingerprint: str
    message: str | None = None
    link: str | None = None
    file_kind: str | None = None  # the JobFile it concerns, if any
    file_external_id: str | None = None
    backup_server_used: bool = False
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class JobUpdate:
    kind: str  # job | asset | task | stream | alarm
    external_id: str
    state: str
    #: Orders this update against others of the same job: the vendor's rank of ``state``, or a
    #: sequence the vendor sends (Agora's event ``sequence``, an alarm's change time).
    rank: int
    attributes: dict[str, Any] = field(default_factory=dict)
    files: list[FileUpdate] = field(default_factory=list)
    failures: list[FailureReport] = field(default_factory=list)
    #: The vendor says the job recovered at this time (a CloudWatch alarm back to OK): its open
    #: failures that occurred up to then are resolved; later ones (a newer ALARM) stay open.
    recovered_at: datetime | None = None


@dataclass
class Normalized:
    """Everything a valid notification tells us, in vendor-neutral terms.

    ``vendor`` owns the jobs and failures (and names the catalog that decodes them). It is not
    always the endpoint the notification came to: SNS carries CloudWatch alarms.
    """

    vendor: str
    dedup_key: str
    occurred_at: datetime | None
    jobs: list[JobUpdate]
    #: What accepting it takes besides storing (SNS: confirming a subscription); each raises a
    #: Rejection when it cannot be done. Ingest and replay run them, a replay's dry run never.
    before_store: list[Callable[[], None]] = field(default_factory=list)

    def failures(self) -> Iterator[FailureReport]:
        for job in self.jobs:
            yield from job.failures


# The records made per notification after it is normalized are named tuples: immutable and
# typed like frozen dataclasses, and built in C (a frozen dataclass sets each field through
# object.__setattr__, which cost ~15,000 instructions per notification in the bench's mix).


class ClassifiedFailure(NamedTuple):
    """A failure report with the catalog's reading of its code."""

    report: FailureReport
    code_name: str | None
    category: str
    severity: str
    retryable: str


class ClassifiedJob(NamedTuple):
    """A job update with its failures as the catalog reads them; codes the catalog calls ``ok``
    (news, not failures) are left out."""

    update: JobUpdate
    failures: tuple[ClassifiedFailure, ...]


class ClassifiedNotification(NamedTuple):
    """A normalized notification ready to store."""

    normalized: Normalized
    jobs: tuple[ClassifiedJob, ...]

    @property
    def vendor(self) -> str:
        return self.normalized.vendor


class NewFailure(NamedTuple):
    """A failure a notification created (a repeat of a known one creates none), with what
    alert rules match and group on, and what its group keeps."""

    id: int
    vendor: str
    category: str
    severity: str
    code: str
    backup_server: bool
    label: str | None  # of the output or input it concerns
    job: str  # the job's external id
    job_id: int
    occurred_at: datetime
    #: When it came in, if not just now (failures grouped later: ``receiver groups backfill``).
    received_at: datetime | None = None


class Recovery(NamedTuple):
    """A job the vendor says is back to normal (a CloudWatch alarm back to OK), and since when:
    the triage model resolves its failures up to then."""

    job_id: int
    recovered_at: datetime
