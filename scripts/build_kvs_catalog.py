#!/usr/bin/env python3
"""Regenerate ``receiver/vendors/kvs/codes.toml`` from the KVS sources.

Why a generator: the KVS catalog is the union of ~330 status codes from two sources that disagree
in small ways, and hand-editing it would drift. Inputs:

* ``--seed``: AWS "Error Code Reference" for the producer libraries, as plain text (blocks of
  hex code / STATUS name / description / recommended action). It has typos that devices and
  people copy, so every code *as written there* is kept as an alias of the real code:
  heap codes written ``0x01000001`` (real ``0x10000001``), C-producer codes written with nine hex
  digits (``0x150000010`` for ``0x15000010``), and names spelled differently from the SDK headers.
* ``--tsv``: every ``STATUS_*`` define from the PIC and producer-c headers (hex, name, library,
  base rows, the SDK's own retry classification). The TSV is authoritative for value, name,
  library and classification; the seed is preferred for description and action text.
* ``--ack-map`` (optional): service ACK error id -> STATUS code, added as ``ack_error_id``.

Codes the seed does not describe get a description derived from the symbol name and an action
templated from the derived category (each template says what to check). Category, severity and
retryable are derived from name patterns, library and SDK classification by ``classify``.

Usage::

    python scripts/build_kvs_catalog.py \\
        --seed fixtures/kvs/source/producer-sdk-errors.txt \\
        --tsv fixtures/kvs/source/kvs_status_codes.tsv \\
        --ack-map fixtures/kvs/source/kvs_ack_error_map.tsv \\
        --out receiver/vendors/kvs/codes.toml
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

DOC_PAGE = "https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/producer-sdk-errors.html"

#: Seed section title fragment -> (library name for codes only the seed has, doc page anchor).
SEED_SECTIONS = {
    "Client Library": ("client", "producer-sdk-errors-client"),
    "Duration Library": ("duration", "producer-sdk-errors-duration"),
    "Common Library": ("common", "producer-sdk-errors-common"),
    "Heap Library": ("heap", "producer-sdk-errors-heap"),
    "MKVGen Library": ("mkvgen", "producer-sdk-errors-mkvgen"),
    "Trace Library": ("trace", "producer-sdk-errors-trace"),
    "Utils Library": ("utils", "producer-sdk-errors-utils"),
    "View Library": ("view", "producer-sdk-errors-view"),
    "C Producer Library": ("cproducer", "producer-sdk-errors-putframe-c"),
}

HEX_LINE = re.compile(r"^0x[0-9A-Fa-f]+$")
NAME_LINE = re.compile(r"^[A-Z][A-Z0-9_]+$")
IMPERATIVE = re.compile(
    r"(^|[.!]\s+)(Ensure|Specify|Check|Verify|Refer|Use|Choose|Contact|Reduce|Increase|Set|Fix|"
    r"Make|Avoid|Express|Retry|Wait|Delete|Investigate|Query|Confirm|Remove|Configure)\b"
)


@dataclass
class TsvRow:
    value: int
    name: str
    library: str
    repo: str
    header: str
    line: str
    is_base: bool
    sdk: str


@dataclass
class SeedBlock:
    written: str
    value: int
    name: str
    description: str | None
    action: str | None
    library: str
    anchor: str
    combined_column: bool


@dataclass
class Entry:
    value: int
    name: str
    library: str
    sdk: str = ""
    is_base: bool = False  # the reported name is a range base (STATUS_*_BASE)
    range_base: bool = False  # some define for this value is a range base (written as is_base)
    alt_names: list[str] = field(default_factory=list)
    alt_libraries: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    seed: SeedBlock | None = None
    definition: str | None = None
    ack_error_id: str | None = None

    @property
    def code(self) -> str:
        width = 8 if self.value < 2**32 else 16
        return f"0x{self.value:0{width}x}"


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


def read_tsv(path: Path) -> tuple[list[TsvRow], dict[str, str]]:
    """Read the STATUS table; return rows and ``repo -> 'owner/name@commit'`` from its header."""
    text = path.read_text(encoding="utf-8")
    first = text.splitlines()[0]
    repos = {
        key: f"awslabs/amazon-kinesis-video-streams-{key}@{commit}"
        for key, commit in re.findall(r"\b([a-z][a-z-]*)=awslabs/[\w.-]+@([0-9a-f]+)", first)
    }
    rows: list[TsvRow] = []
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    for rec in csv.DictReader(lines, delimiter="\t"):
        rows.append(
            TsvRow(
                value=int(rec["code_hex"], 16),
                name=rec["name"].strip(),
                library=rec["library"].strip(),
                repo=rec["repo"].strip(),
                header=rec["header"].strip(),
                line=rec["line"].strip(),
                is_base=rec["is_base"].strip() == "base",
                sdk=(rec.get("sdk_classification") or "").strip(),
            )
        )
    return rows, repos


def read_ack_map(path: Path | None) -> dict[int, str]:
    if path is None:
        return {}
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln and ln[0] != "#"]
    return {
        int(rec["status_hex"], 16): rec["ack_error_id"].strip()
        for rec in csv.DictReader(lines, delimiter="\t")
    }


def clean_seed_text(text: str) -> str:
    """Undo the markdown escaping the seed picked up (``\\(`` and a ``+`` that became ``\\``)."""
    text = re.sub(r"\s+\\~", " + ~", text)
    text = re.sub(r"\s\\\s", " + ", text)
    text = re.sub(r"\\([()\-~*_\[\]])", r"\1", text)
    return re.sub(r"\s{2,}", " ", text).strip()


def read_seed(path: Path) -> list[SeedBlock]:
    """Split the seed into blank-line separated blocks and keep those that start with a code."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[SeedBlock] = []
    library, anchor, combined = "unknown", "", False
    group: list[str] = []

    def flush() -> None:
        if len(group) >= 2 and HEX_LINE.match(group[0]) and NAME_LINE.match(group[1]):
            rest = [clean_seed_text(x) for x in group[2:]]
            description = rest[0] if rest else None
            action = " ".join(rest[1:]) if len(rest) > 1 else None
            blocks.append(
                SeedBlock(
                    written=group[0],
                    value=int(group[0], 16),
                    name=group[1],
                    description=description,
                    action=action,
                    library=library,
                    anchor=anchor,
                    combined_column=combined,
                )
            )
        group.clear()

    for raw in lines:
        line = raw.strip()
        if line.startswith(("Error and Status Codes Returned by", "Errors and Status Codes")):
            flush()
            for title, (lib, anc) in SEED_SECTIONS.items():
                if line.endswith(title) or line.endswith(f"- {title}"):
                    library, anchor, combined = lib, anc, False
            continue
        if line == "Description / Recommended Action":
            combined = True
        if not line:
            flush()
            continue
        group.append(line)
    flush()
    return blocks


# --------------------------------------------------------------------------------------------
# Merge
# --------------------------------------------------------------------------------------------


def merge(
    rows: list[TsvRow], repos: dict[str, str], seed: list[SeedBlock], acks: dict[int, str]
) -> tuple[list[Entry], list[str]]:
    """Union TSV and seed into one entry per value; return entries and human-readable notes."""
    notes: list[str] = []
    by_value: dict[int, list[TsvRow]] = {}
    for row in rows:
        by_value.setdefault(row.value, []).append(row)

    entries: dict[int, Entry] = {}
    for value, group in by_value.items():
        winner = pick_winner(group, rows)
        losers = [r for r in group if r is not winner]
        entry = Entry(
            value=value,
            name=winner.name,
            library=winner.library,
            sdk=winner.sdk,
            is_base=winner.is_base,
            range_base=any(r.is_base for r in group),
            alt_names=[r.name for r in losers],
            alt_libraries=sorted({r.library for r in losers} - {winner.library}),
            definition=definition_url(winner, repos),
            ack_error_id=acks.get(value),
        )
        entries[value] = entry
        if losers:
            notes.append(
                f"{entry.code}: {len(group)} names; {winner.name} ({winner.library}) wins, "
                f"{', '.join(f'{r.name} ({r.library})' for r in losers)} kept as alt_names"
            )

    by_name = {e.name: e for e in entries.values()}
    for block in seed:
        entry = by_name.get(block.name)
        if entry is not None and entry.value != block.value:
            entry.aliases.append(block.written)
            notes.append(f"seed {block.written} {block.name}: typo for {entry.code}, kept as alias")
        elif entry is None and block.value in entries:
            entry = entries[block.value]
            if block.name not in entry.alt_names:
                entry.alt_names.append(block.name)
            notes.append(f"seed {block.written}: name {block.name} != SDK name {entry.name}")
        elif entry is None:
            entry = Entry(value=block.value, name=block.name, library=block.library)
            entries[block.value] = entry
            notes.append(f"seed {block.written} {block.name}: not in TSV, library {block.library}")
        spelled_differently = block.written.lower() != entry.code
        if spelled_differently and block.written not in entry.aliases:
            entry.aliases.append(block.written)
        entry.seed = block
    return sorted(entries.values(), key=lambda e: e.value), notes


def pick_winner(group: list[TsvRow], rows: list[TsvRow]) -> TsvRow:
    """Choose the name reported for a value that several defines share.

    A non-base define beats a base (``STATUS_SUCCESS`` over ``STATUS_BASE``). Between bases, the
    library with more codes inside the base's span wins (client over state); ties go to the row
    defined last, i.e. the C producer header layered on top of its common helpers.
    """
    if len(group) == 1:
        return group[0]
    plain = [r for r in group if not r.is_base]
    if plain:
        return plain[0]
    value = group[0].value
    span = 1 << ((value & -value).bit_length() - 1) if value else 1 << 28

    def weight(row: TsvRow) -> tuple[int, int]:
        inside = sum(
            1 for r in rows if r.library == row.library and value <= r.value < value + span
        )
        return inside, rows.index(row)

    return max(group, key=weight)


def definition_url(row: TsvRow, repos: dict[str, str]) -> str | None:
    ref = repos.get(row.repo)
    if not ref or not row.header:
        return None
    repo, commit = ref.split("@")
    suffix = f"#L{row.line}" if row.line else ""
    return f"https://github.com/{repo}/blob/{commit}/{row.header}{suffix}"


# --------------------------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------------------------

#: Names whose meaning a pattern cannot guess: (category, severity, retryable).
OVERRIDES: dict[str, tuple[str, str, str]] = {
    "SUCCESS": ("ok", "info", "no"),
    "NO_MORE_DATA_AVAILABLE": ("stream", "info", "no"),
    "END_OF_STREAM": ("stream", "info", "no"),
    "AWAITING_PERSISTED_ACK": ("stream", "info", "no"),
    "CONTENT_VIEW_NO_MORE_ITEMS": ("stream", "info", "no"),
    "STOP_CALLBACK_CHAIN": ("internal", "info", "no"),
    "HASH_ENTRY_ITERATION_ABORT": ("internal", "info", "no"),
    "TIMER_QUEUE_STOP_SCHEDULING": ("internal", "info", "no"),
    "HEAP_CORRUPTED": ("internal", "critical", "no"),
    "INVALID_DURATION_VALUE": ("configuration", "error", "no"),
    "ACK_TIMESTAMP_NOT_IN_VIEW_WINDOW": ("stream", "warning", "yes"),
    "CLIENT_PROVISION_CALL_FAILED": ("internal", "error", "no"),
    "NOT_IMPLEMENTED": ("internal", "error", "no"),
    "MEMORY_NOT_FREED": ("internal", "warning", "no"),
    "CONTENT_VIEW_INVALID_TIMESTAMP": ("encoding", "error", "no"),
    "SERVICE_CALL_RESOURCE_IN_USE_ERROR": ("stream", "warning", "backoff"),
    "FORMAT_ERROR": ("input", "error", "no"),
    "UNEXPECTED_EOF": ("input", "error", "no"),
}

#: Ordered (regex on the name without ``STATUS_``, category); first match wins.
RULES: list[tuple[str, str]] = [
    (r"KMS_KEY_UNAVAILABLE", "remote_unavailable"),
    (r"KMS_", "credentials"),
    (r"ACK_ERR_(ACK_INTERNAL_ERROR|FRAGMENT_ARCHIVAL_ERROR)", "remote_unavailable"),
    (r"_VERSION$", "configuration"),
    (r"^IOT_|CREDENTIAL|NOT_AUTHORIZED|HMAC|TOKEN", "credentials"),
    (r"ACK_ERR_STREAM_DELETED|STREAM_IS_BEING_DELETED|RESOURCE_DELETED", "remote_not_found"),
    (r"RESOURCE_NOT_FOUND|DEVICE_NOT_FOU?ND|DEVICE_NOT_PROVISIONED", "remote_not_found"),
    (r"(^|_)ACK(_|$)", "stream"),
    (r"_LEN$|_LENGTH$|_LEN_EXCEEDED$|_LENGTH_EXCEEDED$", "configuration"),
    (r"^DUPLICATE_|^(MAX|MIN)_STREAM_COUNT$|TAGS_NULL|BUFFER_TOO_SMALL", "configuration"),
    (r"CALLBACKS_MISSING|CALLBACK_CHAIN|SETTING_KEY_FRAME|OFFLINE_MODE", "configuration"),
    (r"CLIENT_FREED|METADATA", "configuration"),
    (r"(^|_)AUTH(_|$)", "credentials"),
    (r"SERVICE_CALL_.*_LIMIT_ERROR", "account_limit"),
    (r"RETURN_JSON", "remote_unavailable"),
    (r"SERVICE_CALL_TIMEOUT|TIMED_OUT|CURL_PERFORM|SERVICE_CALL_UNK|_CALL_FAILED$", "network"),
    (r"RETRIES_EXHAUSTED", "network"),
    (r"OUT_OF_MEMORY|NOT_ENOUGH_(MEMORY|RESOURCES)|ALLOC_FAILED|REALLOC", "resource_exhausted"),
    (r"THREADPOOL_MAX|MAX_TIMER_COUNT", "resource_exhausted"),
    (r"HEAP_VRAM_.*(LIB|SYMBOL)", "configuration"),
    (r"^HEAP_", "internal"),
    (r"_RESPONSE$|READY_STATE|VIEW_ITEM_SIZE|ALLOCATION_SIZE|NON_ALIGNED_HEAP", "internal"),
    (r"TIMESTAMP_DELTA", "encoding"),
    (r"FRAGMENT|EOFR|STREAM|UPLOAD_HANDLE|SHUTTING_DOWN|BEING_SHUTDOWN|FRAMES_MISSING", "stream"),
    (
        r"^MKV_.*(FRAME|NALU|CPD|SPS|HEVC|H264|AAC|ANNEX|AVCC|PTS_DTS|TIMECODE$|BIH|CODEC_PRIV)",
        "encoding",
    ),
    (r"^MKV_(NUMBER_TOO_BIG|INVALID_PARENT_TYPE|INVALID_GENERATOR_STATE)", "internal"),
    (r"^MKV_", "configuration"),
    (r"THREAD|SEMAPHORE|TIMER_QUEUE|HASH_|BIT_READER|STATE_MACHINE|INTERNAL_ERROR", "internal"),
    (r"(^|_)FILE(_|$)|DIRECTORY|REMOVE_|HANDLE|INVALID_OPERATION|CALLBACK_FAILED", "internal"),
    (r"^INVALID_|^MAX_|^MIN_|NULL_ARG|INVALID_ARG|MISSING|EMPTY_STRING|OVERFLOW", "configuration"),
    (r"TOO_LONG|TRACK_INFO|DEVICE_FINGERPRINT", "configuration"),
]


def classify(entry: Entry) -> tuple[str, str, str]:
    """Derive (category, severity, retryable) from name, library and SDK classification."""
    short = entry.name.removeprefix("STATUS_")
    if short in OVERRIDES:
        category, severity, retryable = OVERRIDES[short]
    elif entry.is_base:
        category, severity, retryable = "internal", "warning", "no"
    else:
        category = next((cat for pattern, cat in RULES if re.search(pattern, short)), "internal")
        severity = "critical" if category in {"credentials", "account_limit"} else "error"
        retryable = "backoff" if category in {"network", "remote_unavailable"} else "no"
    if entry.sdk == "IS_RECOVERABLE_ERROR":
        retryable = "yes"
    elif entry.sdk.startswith("IS_RETRIABLE"):
        retryable = "backoff"
    if entry.sdk and severity in {"error", "critical"}:
        # The SDK handles it by itself; it only needs a human when it keeps coming back.
        severity = "error" if category == "credentials" else "warning"
    return category, severity, retryable


# --------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------

ACTION_TEMPLATES = {
    "ok": "No action needed; this status reports success.",
    "configuration": (
        "Fix the producer application: check the values and structure versions it passes to the "
        "{library} library against the KVS Producer SDK limits and the SDK headers of the version "
        "it is built with, then redeploy. Retrying without a change fails the same way."
    ),
    "credentials": (
        "Check the credentials the device uses for Kinesis Video Streams: IAM policy "
        "(kinesisvideo:* on this stream, kms:* if the stream is encrypted), access keys or the IoT "
        "credential provider (certificate, role alias, thing name), token expiry and the device "
        "clock. Fix them and restart the stream."
    ),
    "remote_not_found": (
        "Check that the stream (or device/KMS key) exists in the region and account the device "
        "uses and was not deleted while in use; recreate it or fix the stream name, then restart."
    ),
    "remote_unavailable": (
        "Kinesis Video Streams failed server-side; the SDK retries with backoff. If it persists, "
        "check the AWS Health Dashboard for the region and open an AWS support case with the "
        "stream ARN and timestamps."
    ),
    "network": (
        "Check the device's connectivity to the Kinesis Video Streams endpoint (DNS, proxy, "
        "firewall on 443, TLS/CA certificates, bandwidth) and the SDK log for the failed API call; "
        "the SDK retries, so act if the error keeps recurring."
    ),
    "account_limit": (
        "An AWS account quota for Kinesis Video Streams was reached: delete unused streams or "
        "devices, or request a quota increase in Service Quotas, then restart the stream."
    ),
    "resource_exhausted": (
        "The device ran out of memory/buffer/thread capacity: increase the content store "
        "(StorageInfo.storageSize) or reduce buffer duration, bitrate, resolution or the number of "
        "streams, and check for leaks in the application."
    ),
    "stream": (
        "The stream session is in a bad state: check the SDK log around the error, the stream's "
        "status in the console, and that frames are only put after the stream is ready; restart "
        "the stream if the SDK does not recover on its own."
    ),
    "encoding": (
        "The media handed to the SDK is invalid: check the encoder output (key frames, timestamps, "
        "codec private data / SPS-PPS, NAL packaging Annex-B vs AVCC) and the stream's codec "
        "settings, and fix the media pipeline."
    ),
    "input": (
        "The data read or parsed was malformed or ended early: check the file or buffer the "
        "application passes in and the SDK log for the operation that failed."
    ),
    "internal": (
        "Unexpected SDK/platform condition in the {library} library: collect the SDK debug log, "
        "check the device's resources and the SDK version, restart the producer, and report it "
        "to the SDK maintainers if it repeats."
    ),
}

SDK_NOTES = {
    "IS_RECOVERABLE_ERROR": (
        "The SDK treats this as recoverable and restarts the stream/connection itself "
        "(IS_RECOVERABLE_ERROR); act only if it keeps recurring."
    ),
    "IS_RETRIABLE_ERROR": (
        "The SDK retries this call with backoff (IS_RETRIABLE_ERROR); "
        "act only if retries are exhausted."
    ),
    "IS_RETRIABLE_COMMON_LIB_ERROR": (
        "The SDK retries this with backoff (IS_RETRIABLE_COMMON_LIB_ERROR); "
        "act only if retries are exhausted."
    ),
    "IS_RETRIABLE_PRODUCER_ERROR": (
        "The SDK retries this with backoff (IS_RETRIABLE_PRODUCER_ERROR); "
        "act only if retries are exhausted."
    ),
}


def humanize(name: str) -> str:
    words = name.removeprefix("STATUS_").replace("_", " ").lower()
    return words[:1].upper() + words[1:] + "."


def describe(entry: Entry, category: str) -> tuple[str, str, str]:
    """Return (description, action, source) preferring the seed's text."""
    block = entry.seed
    template = ACTION_TEMPLATES[category].format(library=entry.library)
    if entry.is_base:
        others = f" (also {', '.join(entry.alt_names)})" if entry.alt_names else ""
        libs = ", ".join([entry.library, *entry.alt_libraries])
        return (
            f"Base value of the {libs} status range{others}; not an error by itself.",
            "A bare range base was reported: the device probably sent the base constant instead "
            "of the real status. Check the producer's error reporting code and its SDK logs.",
            "derived",
        )
    description = block.description if block and block.description else None
    action = block.action if block and block.action else None
    if block and block.combined_column and description and not action:
        imperative = [s for s in re.split(r"(?<=\.)\s+", description) if IMPERATIVE.match(s)]
        action = " ".join(imperative) or None
    if action and not IMPERATIVE.search(action):
        action = f"{action} {template}"
    if description is None:
        description = f"{humanize(entry.name)} ({entry.library} library; no vendor description)"
    source = "vendor" if block and block.description else "derived"
    action = action or template
    if entry.sdk:
        action = f"{action} {SDK_NOTES[entry.sdk]}"
    return description, action, source


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def toml_str(value: str) -> str:
    out = value.replace("\\", "\\\\").replace('"', '\\"')
    out = re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", out)
    return f'"{out}"'


def toml_list(values: list[str]) -> str:
    return "[" + ", ".join(toml_str(v) for v in values) + "]"


def render(entries: list[Entry], args: argparse.Namespace, version: int) -> str:
    counts = Counter(classify(e)[0] for e in entries)
    lines = [
        "# Amazon Kinesis Video Streams producer SDK status codes (PIC + C producer).",
        "#",
        "# GENERATED FILE - do not edit by hand. Regenerate with:",
        "#   python scripts/build_kvs_catalog.py --seed <seeds>/003_*.txt \\",
        "#       --tsv <reference>/kvs_status_codes.tsv \\",
        "#       --ack-map <reference>/kvs_ack_error_map.tsv \\",
        "#       --out receiver/vendors/kvs/codes.toml",
        "# (change the rules in that script, or its inputs, then regenerate and review the diff).",
        "#",
        "# Sources:",
        f"#   * {DOC_PAGE} (seed {Path(args.seed).name}):",
        '#     descriptions and recommended actions (`source = "vendor"`); its typo',
        "#     spellings are kept in `aliases` / `alt_names` so every code as written there",
        "#     still decodes;",
        f"#   * {Path(args.tsv).name}: value, SDK symbol name, library, base rows and the",
        "#     SDK's retry classification for every STATUS_* define; `definition` links to the",
        '#     header line. Codes the seed does not describe (`source = "derived"`) get a',
        "#     description derived from the symbol name and an action templated from their",
        "#     category.",
        "# category / severity / retryable are derived by the script's rules, not by AWS.",
        f"# Entries: {len(entries)}; by category: "
        + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
        f"version = {version}",
        'vendor = "kvs"',
        f"source = {toml_str(DOC_PAGE)}",
        "",
    ]
    for entry in entries:
        category, severity, retryable = classify(entry)
        description, action, source = describe(entry, category)
        doc_url = f"{DOC_PAGE}#{entry.seed.anchor}" if entry.seed else entry.definition
        lines.append("[[entries]]")
        lines.append(f"code = {toml_str(entry.code)}")
        lines.append(f"name = {toml_str(entry.name)}")
        if entry.alt_names:
            lines.append(f"alt_names = {toml_list(entry.alt_names)}")
        if entry.aliases:
            lines.append(f"aliases = {toml_list(entry.aliases)}")
        lines.append(f"library = {toml_str(entry.library)}")
        if entry.alt_libraries:
            lines.append(f"alt_libraries = {toml_list(entry.alt_libraries)}")
        if entry.sdk:
            lines.append(f"sdk_classification = {toml_str(entry.sdk)}")
        if entry.range_base:
            lines.append("is_base = true")
        if entry.ack_error_id:
            lines.append(f"ack_error_id = {toml_str(entry.ack_error_id)}")
        lines.append(f"category = {toml_str(category)}")
        lines.append(f"severity = {toml_str(severity)}")
        lines.append(f"retryable = {toml_str(retryable)}")
        lines.append(f"description = {toml_str(description)}")
        lines.append(f"action = {toml_str(action)}")
        if doc_url:
            lines.append(f"doc_url = {toml_str(doc_url)}")
        if entry.definition:
            lines.append(f"definition = {toml_str(entry.definition)}")
        lines.append(f"source = {toml_str(source)}")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", required=True, type=Path, help="AWS error reference as text")
    parser.add_argument("--tsv", required=True, type=Path, help="kvs_status_codes.tsv")
    parser.add_argument("--ack-map", type=Path, help="kvs_ack_error_map.tsv (optional)")
    parser.add_argument("--out", required=True, type=Path, help="kvs.toml to write")
    parser.add_argument("--version", type=int, default=1, help="catalog version to write")
    args = parser.parse_args(argv)

    rows, repos = read_tsv(args.tsv)
    seed = read_seed(args.seed)
    entries, notes = merge(rows, repos, seed, read_ack_map(args.ack_map))
    args.out.write_text(render(entries, args, args.version), encoding="utf-8")
    for note in notes:
        print(note, file=sys.stderr)
    print(
        f"wrote {args.out}: {len(entries)} entries ({len(seed)} seed blocks, {len(rows)} TSV rows)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
