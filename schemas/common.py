"""Field types shared by the vendor schemas.

Every value a schema lets through must be storable as is: PostgreSQL refuses NUL characters and
lone surrogates in text and integers past 64 bits, so those are schema errors (422), never a
database error (500) later on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1


class VendorSchema(Schema):
    """Base for vendor payloads: unknown fields are dropped here but kept in the raw body."""

    class Meta:
        unknown = EXCLUDE


class Text(fields.String):
    """A string that fits a text column: no NUL, no lone surrogates, bounded length."""

    def __init__(self, *, max_length: int = 10_000, **kwargs: Any) -> None:
        kwargs.setdefault("allow_none", True)
        super().__init__(validate=validate.Length(max=max_length), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ValidationError("must not contain NUL characters")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError("must be valid Unicode text") from None
        return text


class IdField(Text):
    """Vendor ids arrive as integers (Zencoder) or strings (LightFlow); store both as text."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_none", False)
        super().__init__(max_length=255, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool):
            raise ValidationError("must be a string or an integer")
        if isinstance(value, int):
            value = str(value)
        text = super()._deserialize(value, attr, data, **kwargs)
        if not text.strip():
            raise ValidationError("must not be empty")
        return text


class BoundedList(fields.List[Any]):
    """A list of at most ``max_length`` items, refused before any item is deserialized (a
    body with 250,000 outputs would otherwise be loaded item by item first)."""

    def __init__(self, cls_or_instance: Any, *, max_length: int, **kwargs: Any) -> None:
        super().__init__(cls_or_instance, **kwargs)
        self.max_length = max_length

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, list | tuple) and len(value) > self.max_length:
            raise ValidationError(f"at most {self.max_length} items, not {len(value)}")
        return super()._deserialize(value, attr, data, **kwargs)


class UTCDateTime(fields.AwareDateTime):
    """An ISO 8601 time, loaded as UTC; one without a zone is taken as UTC, as vendors mean it.

    A time at the edge of the calendar whose offset has no UTC equivalent
    (``0001-01-01T00:00:00+01:00``) is a field error here, not an OverflowError when stored.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_none", True)
        super().__init__(default_timezone=UTC, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise self.make_error("invalid", obj_type=self.OBJ_TYPE) from None


class BoundedInteger(fields.Integer):
    """A non-negative integer that fits its column; overflowing input is a field error."""

    def __init__(self, maximum: int, **kwargs: Any) -> None:
        kwargs.setdefault("allow_none", True)
        super().__init__(validate=validate.Range(0, maximum), **kwargs)

    def _validated(self, value: Any) -> int:
        try:
            return super()._validated(value)
        except OverflowError:  # int(float("inf")) and friends
            raise self.make_error("invalid") from None


def Int32(**kwargs: Any) -> BoundedInteger:
    return BoundedInteger(INT32_MAX, **kwargs)


def Int64(**kwargs: Any) -> BoundedInteger:
    return BoundedInteger(INT64_MAX, **kwargs)
