"""Marshmallow schemas for the vendor data files, and one-line error messages for them.

Validation happens at load time (not in tests only) so a bad edit to a TOML file stops the app
from starting with a message that names the file, the entry and the field, instead of producing
wrong alerts later.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    validate,
    validates_schema,
)

from ._model import CATEGORIES, RETRYABLE, SEVERITIES, CatalogError

#: How each vendor writes its codes in the data files (the canonical spelling).
CODE_PATTERNS: Mapping[str, re.Pattern[str]] = {
    "lightflow": re.compile(r"^[1-9][0-9]{3}$"),
    # REST API HTTP statuses, then NCS task states and stop reasons (FAILURE_STOP).
    "agora": re.compile(r"^([1-5][0-9]{2}|[A-Z][A-Z0-9_]+)$"),
    # Metric names of alarmed metrics (PutMedia.Success).
    "cloudwatch": re.compile(r"^[A-Za-z][A-Za-z0-9_.-]+$"),
    "kvs": re.compile(r"^0x([0-9a-f]{8}|[0-9a-f]{16})$"),
    "zencoder": re.compile(r"^[A-Z][A-Za-z0-9]+$"),
}

#: Fields that only make sense for the KVS SDK status codes.
KVS_ONLY = ("library", "sdk_classification", "is_base", "alt_libraries", "ack_error_id")

SDK_CLASSES = (
    "IS_RECOVERABLE_ERROR",
    "IS_RETRIABLE_ERROR",
    "IS_RETRIABLE_COMMON_LIB_ERROR",
    "IS_RETRIABLE_PRODUCER_ERROR",
)

_not_blank = validate.Regexp(r"\s*\S", error="Must not be empty.")


class CodeField(fields.Field):
    """A code as the vendor writes it: an integer (LightFlow) or a non-empty string."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValidationError("Must be an integer or a string.")
        text = str(value).strip()
        if not text:
            raise ValidationError("Must not be empty.")
        return text


class EntrySchema(Schema):
    """One ``[[entries]]`` table."""

    class Meta:
        unknown = RAISE

    code = CodeField(required=True)
    name = fields.String(load_default=None, validate=_not_blank)
    category = fields.String(required=True, validate=validate.OneOf(list(CATEGORIES)))
    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES))
    retryable = fields.String(required=True, validate=validate.OneOf(RETRYABLE))
    description = fields.String(required=True, validate=_not_blank)
    action = fields.String(required=True, validate=_not_blank)
    doc_url = fields.Url(load_default=None, schemes={"http", "https"})
    aliases = fields.List(fields.String(validate=_not_blank), load_default=list)
    alt_names = fields.List(fields.String(validate=_not_blank), load_default=list)
    source = fields.String(load_default=None, validate=validate.OneOf(["vendor", "derived"]))
    definition = fields.Url(load_default=None, schemes={"http", "https"})
    # KVS only (checked per vendor in CatalogFileSchema):
    library = fields.String(load_default=None, validate=_not_blank)
    sdk_classification = fields.String(load_default=None, validate=validate.OneOf(SDK_CLASSES))
    is_base = fields.Boolean(load_default=False)
    alt_libraries = fields.List(fields.String(validate=_not_blank), load_default=list)
    ack_error_id = fields.String(load_default=None, validate=_not_blank)


class CatalogFileSchema(Schema):
    """A whole vendor file: header fields plus entries, with cross-entry checks."""

    class Meta:
        unknown = RAISE

    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    vendor = fields.String(required=True, validate=validate.OneOf(list(CODE_PATTERNS)))
    source = fields.String(load_default=None)
    # Said before the entry's action for a failure whose files went to the backup server.
    backup_server_action = fields.String(load_default=None, validate=_not_blank)
    entries = fields.List(
        fields.Nested(EntrySchema), required=True, validate=validate.Length(min=1)
    )

    @validates_schema
    def _check_entries(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Per-vendor code format, KVS-only fields, and codes/aliases/names that collide."""
        vendor = data["vendor"]
        pattern = CODE_PATTERNS[vendor]
        errors: dict[int, dict[str, list[str]]] = {}
        seen: dict[str, int] = {}

        def fail(index: int, name: str, message: str) -> None:
            errors.setdefault(index, {}).setdefault(name, []).append(message)

        for index, entry in enumerate(data["entries"]):
            if not pattern.match(entry["code"]):
                fail(index, "code", f"Not a {vendor} code (expected {pattern.pattern}).")
            if vendor == "kvs" and not entry["library"]:
                fail(index, "library", "Missing data for required field.")
            if vendor != "kvs":
                for name in KVS_ONLY:
                    if entry[name] not in (None, False, []):
                        fail(index, name, "Only allowed in the kvs catalog.")
            keys = [("code", entry["code"])]
            keys += [("aliases", a) for a in entry["aliases"]]
            keys += [("name", n) for n in [entry["name"], *entry["alt_names"]] if n]
            for field_name, key in keys:
                norm = key.strip().lower()
                other = seen.setdefault(norm, index)
                if other != index:
                    fail(index, field_name, f"{key!r} is already used by entries[{other}].")
        if errors:
            raise ValidationError({"entries": errors})


def validate_file(path: Path, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Validate one parsed TOML document; raise ``CatalogError`` with a one-line message."""
    try:
        data: dict[str, Any] = CatalogFileSchema().load(raw)
    except ValidationError as exc:
        raise CatalogError(_one_line(path, raw, exc.messages)) from None
    if data["vendor"] != path.stem:
        raise CatalogError(
            f"{path.name}: field 'vendor': {data['vendor']!r} does not match the file name"
        )
    return data


def _one_line(path: Path, raw: Mapping[str, Any], messages: Any) -> str:
    """Turn marshmallow's nested error dict into 'file: entries[3] (code X): field 'f': msg'."""
    flat = list(_flatten(messages, ()))
    if not flat:
        return f"{path.name}: invalid catalog file"
    where, message = flat[0]
    more = f" (and {len(flat) - 1} more problem(s))" if len(flat) > 1 else ""
    if len(where) >= 2 and where[0] == "entries" and isinstance(where[1], int):
        index = where[1]
        entries = raw.get("entries")
        code = None
        if isinstance(entries, list) and index < len(entries) and isinstance(entries[index], dict):
            code = entries[index].get("code")
        field = ".".join(str(p) for p in where[2:]) or "entries"
        label = f"entries[{index}]" + (f" (code {code!r})" if code is not None else "")
        return f"{path.name}: {label}: field {field!r}: {message}{more}"
    field = ".".join(str(p) for p in where) or "(file)"
    return f"{path.name}: field {field!r}: {message}{more}"


def _flatten(messages: Any, where: tuple[Any, ...]):  # type: ignore[no-untyped-def]
    if isinstance(messages, dict):
        for key in sorted(messages, key=lambda k: (isinstance(k, str), str(k).zfill(12))):
            yield from _flatten(messages[key], (*where, key))
    elif isinstance(messages, list):
        for item in messages:
            yield from _flatten(item, where)
    else:
        yield where, str(messages)
