"""Hypothesis strategies for hostile webhook bodies and headers.

Values a JSON encoder cannot produce from Python objects (100k-deep nesting, ``NaN``, numbers
past any float, invalid UTF-8) are spliced into the serialized text as raw fragments, so the
generated bodies reach the wire exactly as a hostile sender would write them.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

MAX_TEXT = 10_000  # schemas.common.Text's default bound: longer strings must be refused


@dataclass(frozen=True)
class RawJson:
    """A JSON fragment written verbatim into the body (it may be invalid JSON on purpose)."""

    text: str


def deep_nesting(depth: int, kind: str) -> RawJson:
    if kind == "array":
        return RawJson("[" * depth + "]" * depth)
    return RawJson('{"a":' * depth + "1" + "}" * depth)


NUMBER_LITERALS = [
    "NaN",
    "Infinity",
    "-Infinity",
    "-NaN",  # not even Python's JSON extension
    "1e400",
    "-1e400",
    "1e-400",
    "-0",
    "0.5",
    "1E2",
    "2147483648",  # INT32_MAX + 1
    "9223372036854775808",  # INT64_MAX + 1
    "18446744073709551616",  # 2**64
    "-9223372036854775809",
    "1" + "0" * 40,
    "9" * 5000,  # past Python's int-from-string digit limit
]

# Latin-1 without what the deployed server (gunicorn) refuses in a header value.
HEADER_ALPHABET = st.characters(
    min_codepoint=0x09, max_codepoint=0xFF, exclude_characters="\n\x0b\x0c\r\x7f"
).filter(lambda c: c == "\t" or ord(c) >= 0x20)
header_text = st.text(HEADER_ALPHABET, max_size=60)


EDGE_MOMENTS = [datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59)]


@st.composite
def timestamps(draw: st.DrawFn) -> str:
    """ISO 8601 times across the whole datetime range, half of them at its ends (where an
    offset overflows on conversion to UTC) or past 2088 (beyond 32-bit seconds since 2020)."""
    moment = draw(
        st.one_of(
            st.sampled_from(EDGE_MOMENTS),
            st.sampled_from(EDGE_MOMENTS),
            st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
            st.datetimes(min_value=datetime(2088, 1, 1), max_value=datetime(2200, 1, 1)),
        )
    )
    minutes = draw(
        st.sampled_from([0, 840, -840, 1439, -1439]) | st.integers(-23 * 60 - 59, 23 * 60 + 59)
    )
    return moment.replace(tzinfo=timezone(timedelta(minutes=minutes))).isoformat()


def _is_timestamp(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


SPECIAL_STRINGS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "\ufeff",
    "\u202e",
    "<script>alert(1)</script>",
    '=HYPERLINK("http://x")',
    "'; DROP TABLE jobs; --",
    "%s%n%x",
    "../../etc/passwd",
    "0x5200005c",
    "0xffffffffffffffffffff",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "2100-01-01T00:00:00Z",
    "2024-02-30T00:00:00Z",
    "https://sns.eu-west-1.amazonaws.com/x.pem",
]

hostile_text = st.one_of(
    st.text(max_size=40),
    # Lone surrogates and NUL: valid in a Python str and a JSON escape, refused by PostgreSQL.
    st.text(st.characters(codec=None) | st.characters(categories=["Cs"]) | st.just("\x00")),
    st.sampled_from(SPECIAL_STRINGS),
    timestamps(),
    st.integers(MAX_TEXT + 1, 400_000).map(lambda n: "x" * n),
)

hostile_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([-1, 2**31, 2**63, 2**64, -(2**63) - 1, 10**30]),
    st.floats(allow_nan=True, allow_infinity=True),
    hostile_text,
    st.sampled_from(NUMBER_LITERALS).map(RawJson),
    st.tuples(st.integers(2, 100_000), st.sampled_from(["array", "object"])).map(
        lambda depth_kind: deep_nesting(*depth_kind)
    ),
)

json_values = st.recursive(
    hostile_scalar,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def dumps(value: Any, ascii_only: bool = True) -> bytes:
    """Serialize with raw fragments spliced in; lone surrogates become invalid UTF-8 unless
    escaped (``ascii_only``), which is what a careless sender's encoder would produce."""
    fragments: list[str] = []

    def placeholder(item: Any) -> str:
        if isinstance(item, RawJson):
            fragments.append(item.text)
            return f"\x01raw{len(fragments) - 1}\x01"
        raise TypeError(type(item))

    text = json.dumps(_replace_raw(value, placeholder), ensure_ascii=ascii_only, allow_nan=True)
    for index, fragment in enumerate(fragments):
        text = text.replace(json.dumps(f"\x01raw{index}\x01"), fragment)
    return text.encode("utf-8", "surrogatepass")


def _replace_raw(value: Any, placeholder: Any) -> Any:
    if isinstance(value, RawJson):
        return placeholder(value)
    if isinstance(value, dict):
        return {key: _replace_raw(item, placeholder) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace_raw(item, placeholder) for item in value]
    return value


def _slots(doc: Any) -> Iterator[tuple[Any, Any]]:
    """Every (container, key) in a JSON document, the root's own slot excluded."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield doc, key
            yield from _slots(value)
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield doc, index
            yield from _slots(value)


def similar(value: Any) -> st.SearchStrategy[Any]:
    """A hostile value of the same JSON type: what gets past a type check to the validators."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.one_of(st.integers(), st.sampled_from([-1, 0, 2**31, 2**63, 2**64]))
    if isinstance(value, str) and _is_timestamp(value):
        return st.one_of(timestamps(), timestamps(), hostile_text)
    if isinstance(value, str):
        return st.one_of(hostile_text, st.sampled_from(SPECIAL_STRINGS))
    return json_values


@st.composite
def mutated(draw: st.DrawFn, seeds: list[Any]) -> Any:
    """A real payload with a few fields replaced by hostile values, removed, or added."""
    doc = copy.deepcopy(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.sampled_from([1, 1, 2, 3]))):
        slots = list(_slots(doc))
        if not slots:
            break
        container, key = draw(st.sampled_from(slots))
        action = draw(st.sampled_from(["replace", "replace", "delete", "add", "wrap"]))
        if action == "replace":
            value = container[key]
            container[key] = draw(st.one_of(similar(value), similar(value), json_values))
        elif action == "delete":
            del container[key]
        elif action == "wrap":  # the right value at the wrong type: [v] or {"v": v}
            container[key] = draw(st.sampled_from([[container[key]], {"value": container[key]}]))
        elif isinstance(container, dict):
            container[draw(st.text(max_size=20))] = draw(json_values)
        else:
            container.append(draw(json_values))
    return doc


@st.composite
def one_field_edited(draw: st.DrawFn, seeds: list[Any]) -> bytes:
    """A real payload with one value swapped for a hostile one of the same type: everything
    else valid, so the value travels past validation as far as the product lets it."""
    doc = copy.deepcopy(draw(st.sampled_from(seeds)))
    # Times and numbers first: few fields, and the ones whose edge values overflow later on.
    by_kind: dict[str, list[tuple[Any, Any]]] = {}
    for container, key in _slots(doc):
        by_kind.setdefault(_kind(container[key]), []).append((container, key))
    container, key = draw(st.sampled_from(by_kind[draw(st.sampled_from(sorted(by_kind)))]))
    container[key] = draw(similar(container[key]))
    return dumps(doc)


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return "time" if _is_timestamp(value) else "text"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "number"
    return "other"


def broken_bytes(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    """Bytes that are not JSON, or almost JSON: cut, spliced with invalid UTF-8, or random."""

    @st.composite
    def damaged(draw: st.DrawFn) -> bytes:
        body = draw(st.sampled_from(seeds))
        at = draw(st.integers(0, len(body)))
        junk = draw(
            st.sampled_from([b"", b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\x00", b"\xef\xbb\xbf"])
            | st.binary(max_size=8)
        )
        return draw(st.sampled_from([body[:at], body[:at] + junk + body[at:]]))

    return st.one_of(
        st.binary(max_size=200),
        damaged(),
        st.sampled_from([b"", b"{", b"[", b'{"a":}', b"\xef\xbb\xbf{}", b"{}", b"[]", b"null"]),
        st.sampled_from(seeds).map(lambda body: body.decode().encode("utf-16")),
    )


def bodies(seeds: list[Any]) -> st.SearchStrategy[bytes]:
    """Every kind of hostile body for an endpoint whose real payloads look like ``seeds``."""
    seed_bytes = [json.dumps(seed).encode() for seed in seeds]
    return st.one_of(
        broken_bytes(seed_bytes),
        st.builds(dumps, json_values, st.booleans()),
        st.builds(dumps, mutated(seeds), st.booleans()),
        st.builds(dumps, mutated(seeds), st.booleans()),  # weighted: the schema is the target
        st.tuples(st.integers(1_000, 100_000), st.sampled_from(["array", "object"])).map(
            lambda depth_kind: deep_nesting(*depth_kind).text.encode()
        ),
    )


JSON_CONTENT_TYPES = st.sampled_from(
    [None, "application/json", "application/json; charset=utf-8", "text/plain; charset=UTF-8"]
)
content_types = st.one_of(
    JSON_CONTENT_TYPES,  # what vendors send, first: the body should reach the schema
    st.sampled_from(
        [
            None,
            "application/json",
            "application/json; charset=utf-8",
            "application/json; charset=latin-1",
            "APPLICATION/JSON;CHARSET=UTF-16",
            "application/vnd.vendor+json",
            "text/json",
            "text/plain",
            "text/plain; charset=UTF-8",
            "application/xml",
            "text/xml; charset=utf-8",
            "multipart/form-data; boundary=xyz",
            "multipart/form-data",
            "application/x-www-form-urlencoded",
            "application/octet-stream",
            "application/json; boundary=",
            ";;;",
            "",
        ]
    ),
    header_text,
)

# Extra request headers, stored with the notification: any name, any value a server lets through.
extra_headers = st.dictionaries(
    st.sampled_from(["X-Fuzz", "User-Agent", "X-Request-ID", "X-Forwarded-For", "Accept"]),
    header_text,
    max_size=2,
)
