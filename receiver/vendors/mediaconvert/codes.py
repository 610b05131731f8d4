"""How MediaConvert writes its codes, and the ranges that place a code the data file does not
list.

Error codes are four digits (``errorCode``: an integer), warning codes six (``warningCode``: a
string of digits; ``warnings[].code``: an integer). AWS groups its error codes in two ranges,
1xxx for problems with the job, its inputs and its outputs and 3xxx for access to inputs and
the service; an unlisted code in a range is decoded as ``unknown`` with an action that names the
range, and stays unknown to ``receiver codes explain`` (exit 1) until the data file lists it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from receiver.catalog import (
    UNKNOWN_CATEGORY,
    CatalogEntry,
    CodeRules,
    Parsed,
    VendorData,
    frozen_details,
    int_value,
    integer_parse,
)

ERROR_CODES_URL = "https://docs.aws.amazon.com/mediaconvert/latest/ug/mediaconvert_error_codes.html"
WARNING_CODES_URL = "https://docs.aws.amazon.com/mediaconvert/latest/ug/warning_codes.html"


@dataclass(frozen=True)
class CodeRange:
    """A range of codes AWS uses for one kind of problem."""

    first: int
    last: int
    name: str
    severity: str
    doc_url: str
    advice: str

    def holds(self, value: int) -> bool:
        return self.first <= value <= self.last


RANGES = (
    CodeRange(
        1000,
        1999,
        "1xxx: the job, its inputs or its outputs",
        "error",
        ERROR_CODES_URL,
        "Read the event's errorMessage: it names the input, output or setting at fault. Check "
        "the input files open and play, and the job's settings against the codecs and "
        "containers MediaConvert supports, then resubmit.",
    ),
    CodeRange(
        3000,
        3999,
        "3xxx: access to inputs and the service",
        "error",
        ERROR_CODES_URL,
        "Read the event's errorMessage: it names the location or service that refused or "
        "failed. Check the input URL or S3 location, the job's IAM role and any policy that "
        "limits input locations; if they are right, retry later or ask AWS Support.",
    ),
    CodeRange(
        100000,
        999999,
        "6-digit warning codes",
        "warning",
        WARNING_CODES_URL,
        "The job went on (it may still complete). Read the event's warningMessage and check the "
        "outputs of the job for what it says (audio/video sync, captions, duration).",
    ),
)


class MediaConvertCodes(CodeRules):
    pattern = re.compile(r"^[1-9][0-9]{3}$|^[1-9][0-9]{5}$")
    numeric = True

    def parse(self, raw: object) -> Parsed:
        return integer_parse(raw)

    def fallback(self, parsed: Parsed, data: VendorData) -> CatalogEntry | None:
        for value in parsed.values:
            code_range = next((r for r in RANGES if r.holds(value)), None)
            if code_range is not None:
                return _in_range(value, code_range, data)
        return None

    def value_of(self, code: str) -> int | None:
        return int_value(code)


def _in_range(value: int, code_range: CodeRange, data: VendorData) -> CatalogEntry:
    return CatalogEntry(
        vendor=data.vendor,
        code=str(value),
        name=None,
        category=UNKNOWN_CATEGORY,
        severity=code_range.severity,
        retryable="no",
        description=(
            f"MediaConvert code {value} is not in catalog version {data.version}; it is in "
            f"AWS's range {code_range.name}."
        ),
        action=(
            f"{code_range.advice} Then look {value} up on AWS's page ({code_range.doc_url}) "
            "and add it to receiver/vendors/mediaconvert/codes.toml."
        ),
        doc_url=code_range.doc_url,
        known=False,
        details=frozen_details({"range": code_range.name, "rule": "MediaConvert code ranges"}),
    )
