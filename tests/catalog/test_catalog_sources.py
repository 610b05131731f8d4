"""Every code in the vendors' own texts must decode to a known, actionable entry.

Codes are extracted from the seed texts at test time (not copied into the tests), so a vendor
text update that adds a code fails here until the catalog covers it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from receiver.catalog import CATEGORIES, RETRYABLE, SEVERITIES, Catalog, CatalogEntry

# Blocks in the KVS seed: a hex line immediately followed by a symbol line.
KVS_BLOCK = re.compile(r"^(0x[0-9A-Fa-f]+)\n([A-Z][A-Z0-9_]+)$", re.MULTILINE)
KVS_SEED_CODE_COUNT = 233


def assert_actionable(entry: CatalogEntry, what: str) -> None:
    assert entry.known, f"{what}: not in catalog ({entry.description})"
    assert entry.category in CATEGORIES, what
    assert entry.severity in SEVERITIES, what
    assert entry.retryable in RETRYABLE, what
    assert entry.action.strip(), what
    assert entry.description.strip(), what


# --- LightFlow -----------------------------------------------------------------------------------


def lightflow_codes(text: str) -> list[int]:
    listed = {int(c) for c in re.findall(r"^(\d{4}): ", text, re.MULTILINE)}
    examples = {int(c) for c in re.findall(r'"code":\s*(\d+)', text)}
    return sorted(listed | examples)


def test_lightflow_seed_parses_to_expected_families(lightflow_seed: str) -> None:
    codes = lightflow_codes(lightflow_seed)
    assert len(codes) >= 45
    for family in (1001, 2001, 2050, 2066, 2070, 2401, 2500, 3001, 4001, 4014, 6001, 7001):
        assert family in codes


def test_every_lightflow_seed_code_decodes(catalog: Catalog, lightflow_seed: str) -> None:
    for code in lightflow_codes(lightflow_seed):
        for spelling in (code, str(code)):
            assert_actionable(catalog.lookup("lightflow", spelling), f"lightflow {spelling!r}")


def test_lightflow_seed_descriptions_match(catalog: Catalog, lightflow_seed: str) -> None:
    for code, text in re.findall(r"^(\d{4}): (.+)$", lightflow_seed, re.MULTILINE):
        assert catalog.lookup("lightflow", code).description == text.strip()


def test_lightflow_http_range_examples_carry_status(catalog: Catalog, lightflow_seed: str) -> None:
    ranged = [c for c in lightflow_codes(lightflow_seed) if 2400 <= c <= 2599]
    assert ranged == [2401, 2403, 2404, 2429, 2500, 2503, 2504]
    for code in ranged:
        assert catalog.lookup("lightflow", code).details["remote_http_status"] == str(code - 2000)


# --- Zencoder ------------------------------------------------------------------------------------


def zencoder_example(text: str) -> dict:
    start = text.index("{", text.index("Example"))
    return json.loads(text[start : text.rindex("}") + 1])


def test_zencoder_backup_example_decodes(catalog: Catalog, zencoder_seed: str) -> None:
    output = zencoder_example(zencoder_seed)["output"]
    assert output["backup_server_used"] is True
    backup = catalog.lookup("zencoder", "BackupServerUsed")
    assert_actionable(backup, "BackupServerUsed")
    assert (backup.category, backup.severity) == ("upload", "error")
    assert "primary_upload_error_message" in backup.action

    link = output["primary_upload_error_link"]
    by_link = catalog.lookup("zencoder", link)
    assert_actionable(by_link, link)
    assert by_link.code == link.rsplit("/", 1)[-1] == "UnableToResolveHostError"
    assert by_link.doc_url == link


def test_zencoder_seed_fields_have_entries(catalog: Catalog, zencoder_seed: str) -> None:
    fields = set(re.findall(r"\b(backup_server_used|primary_\w+)\b", zencoder_seed))
    assert "primary_thumbnail_upload_error_message" in fields
    thumb = catalog.lookup("zencoder", "PrimaryThumbnailUploadFailed")
    assert_actionable(thumb, "PrimaryThumbnailUploadFailed")
    assert thumb.category == "upload"
    for synthetic in ("JobFailed", "InputFailed", "OutputFailed"):
        assert_actionable(catalog.lookup("zencoder", synthetic), synthetic)


# --- Agora ---------------------------------------------------------------------------------------


def agora_rows(text: str) -> dict[int, str]:
    return {int(m[1]): m[0] for m in re.finditer(r"^(\d{3}) \S.*$", text, re.MULTILINE)}


def test_every_agora_status_in_seed_table_decodes(catalog: Catalog, agora_seed: str) -> None:
    rows = agora_rows(agora_seed)
    assert sorted(rows) == [200, 201, 202, 400, 401, 403, 404, 409, 429, 500, 501, 503, 504]
    for status, row in rows.items():
        for spelling in (status, str(status)):
            entry = catalog.lookup("agora", spelling)
            assert_actionable(entry, f"agora {spelling!r}")
        assert row.startswith(f"{status} {entry.name}"), row


def test_agora_success_statuses_are_informational(catalog: Catalog) -> None:
    for status in (200, 201, 202):
        entry = catalog.lookup("agora", status)
        assert (entry.category, entry.severity, entry.retryable) == ("ok", "info", "no")


def test_agora_seed_retry_guidance(catalog: Catalog) -> None:
    assert catalog.lookup("agora", 409).retryable == "no"
    assert "delete the existing transcoder" in catalog.lookup("agora", 409).action
    assert catalog.lookup("agora", 429).category == "rate_limited"
    for status in (404, 429, 500, 503, 504):
        assert catalog.lookup("agora", status).retryable == "backoff", status


# --- KVS -----------------------------------------------------------------------------------------


def kvs_seed_blocks(path: Path) -> list[tuple[str, str]]:
    return KVS_BLOCK.findall(path.read_text(encoding="utf-8"))


def test_kvs_seed_has_all_codes(kvs_seed_path: Path) -> None:
    assert len(kvs_seed_blocks(kvs_seed_path)) == KVS_SEED_CODE_COUNT


def test_every_kvs_code_as_written_in_seed_decodes(catalog: Catalog, kvs_seed_path: Path) -> None:
    for written, name in kvs_seed_blocks(kvs_seed_path):
        entry = catalog.lookup("kvs", written)
        assert_actionable(entry, f"kvs {written} {name}")
        names = {entry.name, *entry.details.get("alt_names", "").split(", ")}
        assert name in names, f"{written}: {name} decoded as {entry.name}"
        assert entry.details.get("library"), written
        # The name as written in the seed decodes to the same entry.
        assert catalog.lookup("kvs", name) == entry


@pytest.mark.parametrize(
    ("written", "real"),
    [
        ("0x01000001", "0x10000001"),
        ("0x01000014", "0x10000014"),
        ("0x150000010", "0x15000010"),
        ("0x150000018", "0x15000018"),
        ("0xFFFFFFFFFFFFFFFF", "0xffffffffffffffff"),
    ],
)
def test_kvs_seed_typos_decode_to_real_values(catalog: Catalog, written: str, real: str) -> None:
    assert catalog.lookup("kvs", written).code == real


def test_every_kvs_reference_row_decodes(
    catalog: Catalog, kvs_status_rows: list[dict[str, str]]
) -> None:
    """Name, library and SDK classification match the TSV row for that hex.

    Where one hex has two names the catalog reports one and keeps the other in ``alt_names``:
    STATUS_SUCCESS over STATUS_BASE, STATUS_CLIENT_BASE over STATUS_STATE_BASE and
    STATUS_PRODUCER_BASE over STATUS_COMMON_PRODUCER_BASE.
    """
    by_hex: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in kvs_status_rows:
        by_hex[row["code_hex"].lower()].append(row)
    assert len(kvs_status_rows) >= 330
    for code, rows in by_hex.items():
        entry = catalog.lookup("kvs", code)
        assert_actionable(entry, code)
        assert entry.code == code
        row = next((r for r in rows if r["name"] == entry.name), None)
        assert row is not None, f"{code}: {entry.name} not among {[r['name'] for r in rows]}"
        assert entry.details["library"] == row["library"], code
        assert entry.details.get("sdk_classification", "") == row["sdk_classification"], code
        is_base = any(r["is_base"] == "base" for r in rows)
        assert entry.details.get("is_base") == ("true" if is_base else None), code
        others = {r["name"] for r in rows} - {entry.name}
        assert others <= set(entry.details.get("alt_names", "").split(", ")) | {""}
        for r in rows:
            assert catalog.lookup("kvs", r["name"]).code == code


@pytest.mark.parametrize(
    ("code", "winner", "other"),
    [
        ("0x00000000", "STATUS_SUCCESS", "STATUS_BASE"),
        ("0x52000000", "STATUS_CLIENT_BASE", "STATUS_STATE_BASE"),
        ("0x15000000", "STATUS_PRODUCER_BASE", "STATUS_COMMON_PRODUCER_BASE"),
    ],
)
def test_kvs_shared_hex_winners(catalog: Catalog, code: str, winner: str, other: str) -> None:
    entry = catalog.lookup("kvs", code)
    assert entry.name == winner
    assert other in entry.details["alt_names"]


def test_kvs_sdk_classification_drives_retry(
    catalog: Catalog, kvs_status_rows: list[dict[str, str]]
) -> None:
    for row in kvs_status_rows:
        entry = catalog.lookup("kvs", row["code_hex"])
        if row["sdk_classification"] == "IS_RECOVERABLE_ERROR":
            assert entry.retryable == "yes", row["name"]
        elif row["sdk_classification"].startswith("IS_RETRIABLE"):
            assert entry.retryable == "backoff", row["name"]


def test_kvs_ack_map_matches(catalog: Catalog, kvs_ack_rows: list[dict[str, str]]) -> None:
    for row in kvs_ack_rows:
        entry = catalog.lookup("kvs", row["status_hex"])
        assert entry.name == row["status_name"]
        assert entry.details.get("sdk_classification", "") == row["sdk_classification"]
        assert entry.details["ack_error_id"] == row["ack_error_id"]
        if row["status_name"].startswith("STATUS_ACK_ERR_KMS"):
            assert entry.category in {"credentials", "remote_unavailable"}
        elif row["status_name"].startswith("STATUS_ACK_ERR_"):
            assert entry.category in {"stream", "remote_unavailable", "remote_not_found"}


def test_committed_kvs_catalog_matches_generator(
    tmp_path: Path, kvs_seed_path: Path, reference_dir: Path
) -> None:
    """kvs.toml is generated: regenerating from the same inputs must not change it."""
    script = Path(__file__).resolve().parents[2] / "scripts" / "build_kvs_catalog.py"
    out = tmp_path / "kvs.toml"
    subprocess.run(
        [
            sys.executable, str(script),
            "--seed", str(kvs_seed_path),
            "--tsv", str(reference_dir / "kvs_status_codes.tsv"),
            "--ack-map", str(reference_dir / "kvs_ack_error_map.tsv"),
            "--out", str(out),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    committed = script.parents[1] / "receiver" / "vendors" / "kvs" / "codes.toml"
    assert out.read_text(encoding="utf-8") == committed.read_text(encoding="utf-8"), (
        "receiver/vendors/kvs/codes.toml is stale: rerun scripts/build_kvs_catalog.py"
    )
