"""What every list's query string has in common, for the admin pages, the JSON API and the CLI."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, pre_load


class QueryArgsSchema(Schema):
    """Unknown arguments are ignored, and an empty one means "no filter" (an HTML form submits
    every field, filled or not)."""

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def drop_empty(self, data: Any, **kwargs: Any) -> Any:
        if hasattr(data, "items"):
            return {key: value.strip() for key, value in data.items() if value.strip()}
        return data
