"""Zencoder API v2 job and output notifications (JSON, or XML when the job asked for it)."""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as parse_xml

from receiver.presigned import presigned_url_expiry
from receiver.records import (
    FailureReport,
    FileUpdate,
    IncomingRequest,
    JobUpdate,
    Normalized,
    Rejection,
)
from receiver.vendors.base import SharedTokenProvider
from receiver.vendors.zencoder.codes import class_in_link
from schemas.zencoder import NotificationSchema

XML_TYPES = frozenset({"application/xml", "text/xml"})
FINAL_STATES = ("finished", "failed", "cancelled")
# The part of the stored file record that comes straight from a Zencoder media file.
FILE_FIELDS = {
    "label": "label",
    "url": "url",
    "format": "format",
    "video_codec": "video_codec",
    "audio_codec": "audio_codec",
    "width": "width",
    "height": "height",
    "duration_in_ms": "duration_ms",
    "file_size_in_bytes": "file_size_bytes",
    "error_class": "error_class",
    "error_message": "error_message",
    "error_link": "error_link",
    "primary_upload_error_message": "primary_upload_error_message",
    "primary_upload_error_link": "primary_upload_error_link",
    "primary_thumbnail_upload_error_message": "primary_thumbnail_upload_error_message",
    "primary_thumbnail_upload_error_link": "primary_thumbnail_upload_error_link",
}


class ZencoderProvider(SharedTokenProvider):
    vendor = "zencoder"
    schema = NotificationSchema()
    state_ranks = {
        "pending": 1,
        "waiting": 1,
        "queued": 1,
        "assigning": 2,
        "processing": 3,
        **dict.fromkeys(FINAL_STATES, 10),
    }

    def decode(self, request: IncomingRequest) -> Any:
        if request.content_type in XML_TYPES:
            return decode_xml(request.body)
        return super().decode(request)

    def normalize(self, data: dict[str, Any]) -> Normalized:
        job = data["job"]
        job_id = job["id"]
        files = []
        if data.get("input"):
            files.append(("input", data["input"]))
        if data.get("output"):
            files.append(("output", data["output"]))
        files.extend(("output", output) for output in data.get("outputs") or ())

        update = JobUpdate(
            kind="job",
            external_id=job_id,
            state=job["state"],
            rank=self.state_rank(job["state"]),
            attributes=_job_attributes(job),
            files=[self._file_update(kind, media) for kind, media in files],
        )
        input_failed = bool(data.get("input")) and data["input"]["state"] == "failed"
        for kind, media in files:
            update.failures.extend(_file_failures(job_id, kind, media, input_failed))
        if job["state"] == "failed" and not update.failures:
            update.failures.append(
                FailureReport(code="JobFailed", fingerprint=f"zencoder:{job_id}:job:failed")
            )

        # An output notification speaks for one output; a job notification for the whole job.
        if data.get("output"):
            output = data["output"]
            dedup_key = f"zencoder:{job_id}:output:{output['id']}:{output['state']}"
        else:
            dedup_key = f"zencoder:{job_id}:job:{job['state']}"
        return Normalized(
            vendor=self.vendor,
            dedup_key=dedup_key,
            occurred_at=job.get("updated_at"),
            jobs=[update],
        )

    def _file_update(self, kind: str, media: dict[str, Any]) -> FileUpdate:
        fields = {column: media.get(name) for name, column in FILE_FIELDS.items()}
        fields["backup_server_used"] = bool(media.get("backup_server_used"))
        if fields["backup_server_used"]:
            # The file then sits in Zencoder's bucket behind a pre-signed URL that expires: the
            # output's url. Its deadline is what the operator has to beat.
            fields["backup_expires_at"] = presigned_url_expiry(media.get("url"))
        return FileUpdate(
            kind=kind,
            external_id=media["id"],
            state=media["state"],
            rank=self.state_rank(media["state"]),
            fields=fields,
        )


def _job_attributes(job: dict[str, Any]) -> dict[str, Any]:
    attributes = {key: job.get(key) for key in ("pass_through", "test")}
    for key in ("created_at", "submitted_at", "updated_at"):
        if job.get(key):
            attributes[key] = job[key].isoformat()
    return attributes


def _file_failures(
    job_id: str, kind: str, media: dict[str, Any], input_failed: bool
) -> list[FailureReport]:
    """The failures one media file reports: a failed state, and/or files sent to the backup."""
    prefix = f"zencoder:{job_id}:{kind}:{media['id']}"
    reports = []
    own_class = media.get("error_class") or _class_named_in(media.get("error_link"))
    # Outputs of a job whose input failed carry no error of their own: the input's failure
    # already says what happened, so don't invent one per output.
    explained_by_input = kind == "output" and input_failed and not own_class
    if media["state"] == "failed" and not explained_by_input:
        code = own_class or f"{kind.capitalize()}Failed"
        reports.append(
            FailureReport(
                code=code,
                fingerprint=f"{prefix}:failed:{code}",
                message=media.get("error_message"),
                link=media.get("error_link"),
                file_kind=kind,
                file_external_id=media["id"],
            )
        )
    if media.get("backup_server_used"):
        # The files exist, but in Zencoder's bucket instead of where the job asked: the cause is
        # the primary upload error, named by its documentation link.
        for upload, message_field, link_field in (
            ("video", "primary_upload_error_message", "primary_upload_error_link"),
            (
                "thumbnails",
                "primary_thumbnail_upload_error_message",
                "primary_thumbnail_upload_error_link",
            ),
        ):
            if upload == "thumbnails" and not (media.get(message_field) or media.get(link_field)):
                continue
            code = _class_named_in(media.get(link_field)) or "BackupServerUsed"
            reports.append(
                FailureReport(
                    code=code,
                    fingerprint=f"{prefix}:backup:{upload}",
                    message=media.get(message_field),
                    link=media.get(link_field),
                    file_kind=kind,
                    file_external_id=media["id"],
                    backup_server_used=True,
                    details={"primary_upload": upload},
                )
            )
    return reports


def _class_named_in(link: str | None) -> str | None:
    """The error class a documentation link names, if it names one: older notifications carry
    it only there (``http://zencoder.com/docs/errors/#NoMediaError``), not in error_class."""
    name = class_in_link(link) if link else ""
    return name if name.isidentifier() else None


def decode_xml(body: bytes) -> Any:
    """Parse Zencoder's XML into the structure the JSON schema validates.

    defusedxml refuses entity expansion and external references (billion laughs, XXE).
    """
    try:
        root = parse_xml(body)
        return _element_data(root)
    except (ParseError, DefusedXmlException, RecursionError) as error:
        raise Rejection(400, "malformed", f"malformed XML: {error}") from None


def _element_data(element: Element) -> Any:
    # Rails-style XML: nil="true" is null, type="array" is a list, other leaves are text that
    # the schema coerces (type="integer" etc. need no special handling).
    if element.get("nil") == "true":
        return None
    children = list(element)
    if element.get("type") == "array":
        return [_element_data(child) for child in children]
    if not children:
        return element.text or ""
    # Repeated sibling tags become a list, collected in one pass: rebuilding the list per
    # sibling made 200,000 siblings cost 21 s of CPU. The schema caps how many it accepts.
    values: dict[str, list[Any]] = {}
    for child in children:
        values.setdefault(child.tag.replace("-", "_"), []).append(_element_data(child))
    return {key: items[0] if len(items) == 1 else items for key, items in values.items()}
