"""Marshmallow schemas for the vendor data files, and one-line error messages for them.

Validation happens at load time (not in tests only) so a bad edit to a TOML file stops the app
from starting with a message that names the file, the entry and the field, instead of producing
wrong alerts later.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, cast

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    validate,
    validates_schema,
)

from ._model import CATEGORIES, RETRYABLE, SEVERITIES, CatalogError
from ._rules import CodeRules

not_blank = validate.Regexp(r"\s*\S", error="Must not be empty.")


class CodeField(fields.Field[str]):
    """A code as the vendor writes it: an integer (LightFlow) or a non-empty string."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValidationError("Must be an integer or a string.")
        text = str(value).strip()
        if not text:
            raise ValidationError("Must not be empty.")
        return text


class EntrySchema(Schema):
    """One ``[[entries]]`` table: the fields every vendor's entries have (a vendor's rules may
    add their own, :attr:`CodeRules.entry_fields`)."""

    class Meta:
        unknown = RAISE

    code = CodeField(required=True)
    name = fields.String(load_default=None, validate=not_blank)
    category = fields.String(required=True, validate=validate.OneOf(list(CATEGORIES)))
    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES))
    retryable = fields.String(required=True, validate=validate.OneOf(RETRYABLE))
    description = fields.String(required=True, validate=not_blank)
    action = fields.String(required=True, validate=not_blank)
    doc_url = fields.Url(load_default=None, schemes={"http", "https"})
    aliases = fields.List(fields.String(validate=not_blank), load_default=list)
    alt_names = fields.List(fields.String(validate=not_blank), load_default=list)
    source = fields.String(load_default=None, validate=validate.OneOf(["vendor", "derived"]))
    definition = fields.Url(load_default=None, schemes={"http", "https"})


class ForeignField(fields.Field[None]):
    """A field another vendor's entries have, named as such rather than as unknown."""

    def __init__(self, owner: str) -> None:
        super().__init__(load_default=None)
        self.owner = owner

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> None:
        raise ValidationError(f"Only allowed in the {self.owner} catalog.")


class CatalogFileSchema(Schema):
    """A whole vendor file: header fields plus entries, with cross-entry checks. One subclass
    per vendor (:func:`file_schema`) adds its entry fields and knows its rules."""

    class Meta:
        unknown = RAISE

    rules: ClassVar[CodeRules]
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    vendor = fields.String(required=True)
    source = fields.String(load_default=None)
    # Said before the entry's action for a failure whose files went to the backup server.
    backup_server_action = fields.String(load_default=None, validate=not_blank)

    @validates_schema
    def _check_entries(self, data: dict[str, Any], **kwargs: Any) -> None:
        """The vendor's code format, and codes/aliases/names that collide."""
        vendor, pattern = data["vendor"], self.rules.pattern
        errors: dict[int, dict[str, list[str]]] = {}
        seen: dict[str, int] = {}

        def fail(index: int, name: str, message: str) -> None:
            errors.setdefault(index, {}).setdefault(name, []).append(message)

        for index, entry in enumerate(data["entries"]):
            if not pattern.match(entry["code"]):
                fail(index, "code", f"Not a {vendor} code (expected {pattern.pattern}).")
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


def file_schema(rules: CodeRules, foreign: Mapping[str, str]) -> CatalogFileSchema:
    """The schema of a file of the vendor with these ``rules``; ``foreign`` maps the entry
    fields only other vendors have to their vendor."""
    own: dict[str, fields.Field[Any]] = {
        name: ForeignField(owner) for name, owner in foreign.items()
    }
    own.update(rules.entry_fields)
    entries = fields.List(
        fields.Nested(EntrySchema.from_dict(own)), required=True, validate=validate.Length(min=1)
    )
    schema = type("VendorFileSchema", (CatalogFileSchema,), {"entries": entries, "rules": rules})
    return cast(type[CatalogFileSchema], schema)()


def validate_file(
    label: str, raw: Mapping[str, Any], vendor: str, rules: CodeRules, foreign: Mapping[str, str]
) -> dict[str, Any]:
    """Validate one parsed TOML document of ``vendor``; raise ``CatalogError`` with one line.

    ``label`` names the file in messages; ``foreign`` maps the entry fields only other vendors
    have to their vendor.
    """
    # Before the entries: they are read with the rules of the vendor the file claims to be.
    if "vendor" in raw and raw["vendor"] != vendor:
        raise CatalogError(f"{label}: field 'vendor': {raw['vendor']!r} is not {vendor!r}")
    try:
        data: dict[str, Any] = file_schema(rules, foreign).load(raw)
    except ValidationError as exc:
        raise CatalogError(_one_line(label, raw, exc.messages)) from None
    return data


def _one_line(label: str, raw: Mapping[str, Any], messages: Any) -> str:
    """Turn marshmallow's nested error dict into 'file: entries[3] (code X): field 'f': msg'."""
    flat = list(_flatten(messages, ()))
    if not flat:
        return f"{label}: invalid catalog file"
    where, message = flat[0]
    more = f" (and {len(flat) - 1} more problem(s))" if len(flat) > 1 else ""
    if len(where) >= 2 and where[0] == "entries" and isinstance(where[1], int):
        index = where[1]
        entries = raw.get("entries")
        code = None
        if isinstance(entries, list) and index < len(entries) and isinstance(entries[index], dict):
            code = entries[index].get("code")
        field = ".".join(str(p) for p in where[2:]) or "entries"
        entry = f"entries[{index}]" + (f" (code {code!r})" if code is not None else "")
        return f"{label}: {entry}: field {field!r}: {message}{more}"
    field = ".".join(str(p) for p in where) or "(file)"
    return f"{label}: field {field!r}: {message}{more}"


def _flatten(messages: Any, where: tuple[Any, ...]):  # type: ignore[no-untyped-def]
    if isinstance(messages, dict):
        for key in sorted(messages, key=lambda k: (isinstance(k, str), str(k).zfill(12))):
            yield from _flatten(messages[key], (*where, key))
    elif isinstance(messages, list):
        for item in messages:
            yield from _flatten(item, where)
    else:
        yield where, str(messages)
