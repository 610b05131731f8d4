"""MediaConvert codes in the catalog: every code AWS's pages list (the copies in
``fixtures/mediaconvert/source/``), the spellings events use, and the ranges that place an
unlisted code; ``receiver codes explain`` as on-call runs it."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from receiver.catalog import Catalog
from receiver.catalog.cli import codes
from tests.helpers import FIXTURES

SOURCE = FIXTURES / "mediaconvert" / "source"


def listed(name: str) -> dict[str, dict[str, str]]:
    """The codes of one of AWS's lists, with the heading and where it was read."""
    lines = [line for line in (SOURCE / name).read_text().splitlines() if not line.startswith("#")]
    return {row["code"]: row for row in csv.DictReader(lines, delimiter="\t")}


ERRORS = listed("error-codes.tsv")
WARNINGS = listed("warning-codes.tsv")


def test_the_lists_are_awss_46_error_and_18_warning_codes():
    assert len(ERRORS) == 46 and len(WARNINGS) == 18
    assert all(code.isdigit() and len(code) == 4 for code in ERRORS)
    assert all(code.isdigit() and len(code) == 6 for code in WARNINGS)


@pytest.mark.parametrize(
    ("code", "severity"), [*((c, "error") for c in ERRORS), *((c, "warning") for c in WARNINGS)]
)
def test_every_documented_code_is_in_the_catalog(catalog: Catalog, code: str, severity: str):
    entry = catalog.lookup("mediaconvert", code)
    assert entry.known and entry.code == code
    assert entry.severity == severity
    assert entry.doc_url.startswith("https://docs.aws.amazon.com/mediaconvert/latest/ug/")
    assert entry.doc_url.endswith(f"#{code}")
    assert entry.action and entry.description


@pytest.mark.parametrize("code", [*ERRORS, *WARNINGS])
def test_a_code_whose_text_was_not_retrieved_says_so(catalog: Catalog, code: str):
    row = ERRORS.get(code) or WARNINGS[code]
    entry = catalog.lookup("mediaconvert", code)
    if row["text_from"] == "none":
        assert entry.details["source"] == "derived"
        assert "could not be retrieved" in entry.description
    else:
        assert entry.details["source"] == "vendor"
        assert entry.name is not None


def test_awss_heading_is_the_entrys_name(catalog: Catalog):
    assert catalog.lookup("mediaconvert", "1010").name == ERRORS["1010"]["title"]
    assert catalog.lookup("mediaconvert", "3457").name == ERRORS["3457"]["title"]


@pytest.mark.parametrize("spelling", [1040, "1040", " 1040 ", "001040"])
def test_spellings_of_one_code(catalog: Catalog, spelling: object):
    entry = catalog.lookup("mediaconvert", spelling)  # type: ignore[arg-type]
    assert (entry.code, entry.known) == ("1040", True)


@pytest.mark.parametrize(
    ("code", "range_name", "severity"),
    [
        ("1888", "1xxx: the job, its inputs or its outputs", "error"),
        ("3777", "3xxx: access to inputs and the service", "error"),
        ("555555", "6-digit warning codes", "warning"),
    ],
)
def test_unlisted_codes_decode_by_range_to_unknown(catalog: Catalog, code, range_name, severity):
    entry = catalog.lookup("mediaconvert", code)
    assert not entry.known
    assert (entry.category, entry.severity) == ("unknown", severity)
    assert range_name in entry.description and "receiver/vendors/mediaconvert/codes.toml" in (
        entry.action
    )


@pytest.mark.parametrize("code", ["2500", "12", "abc", ""])
def test_codes_outside_every_range_are_unrecognised(catalog: Catalog, code: str):
    entry = catalog.lookup("mediaconvert", code)
    assert (entry.known, entry.category, entry.severity) == (False, "unknown", "error")


def explain(*args: str):
    return CliRunner(env={"COLUMNS": "200"}).invoke(
        codes, ["explain", *args], catch_exceptions=False
    )


def test_codes_explain_mediaconvert_1010():
    result = explain("mediaconvert", "1010")
    assert result.exit_code == 0, result.output
    for text in ("mediaconvert 1010", "File access error", "input", "IAM role"):
        assert text in result.output


@pytest.mark.parametrize(("code", "range_name"), [("1888", "1xxx"), ("3777", "3xxx")])
def test_codes_explain_exits_1_for_an_unlisted_code_and_names_its_range(code, range_name):
    result = explain("mediaconvert", code)
    assert result.exit_code == 1
    assert range_name in result.output and "not in catalog" in result.output
    assert "Nearest known mediaconvert codes" in result.output


def test_the_data_file_lists_nothing_twice():
    text = (Path(__file__).parents[3] / "receiver/vendors/mediaconvert/codes.toml").read_text()
    listed_codes = [
        line.split("=")[1].strip() for line in text.splitlines() if line.startswith("code =")
    ]
    assert len(listed_codes) == len(set(listed_codes)) == 46 + 2 + 18  # 1050, 1507: archived
