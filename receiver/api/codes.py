"""``GET /api/codes`` and ``GET /api/codes/<vendor>/<code>``: the error catalog as JSON."""

from __future__ import annotations

from typing import Any, cast

from flask import abort, current_app, jsonify
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint

from receiver.api.schemas import CatalogEntrySchema, CodesQuerySchema, ErrorSchema
from receiver.catalog import Catalog

blp = Blueprint("api_codes", __name__, url_prefix="/api/codes", description="Error catalog")


def catalog() -> Catalog:
    return cast(Catalog, current_app.extensions["catalog"])


@blp.get("")
@blp.arguments(CodesQuerySchema, location="query", as_kwargs=True)
@blp.response(200, CatalogEntrySchema(many=True))
def list_codes(vendor: str | None = None, category: str | None = None) -> list[dict[str, Any]]:
    """Every listed code, optionally of one vendor and/or category."""
    return [entry.to_dict() for entry in catalog().entries(vendor=vendor, category=category)]


@blp.get("/<vendor>/<path:code>")
@blp.response(200, CatalogEntrySchema)
@blp.alt_response(404, schema=ErrorSchema, description="vendor or code not in the catalog")
def explain_code(vendor: str, code: str) -> ResponseReturnValue:
    """What a vendor's code means and what to do about it.

    An unlisted code answers 404 with the fallback entry and the nearest known codes.
    """
    name = vendor.strip().lower()
    if name not in catalog().vendors:
        abort(404, f"{vendor!r} is not one of {', '.join(catalog().vendors)}")
    entry = catalog().lookup(name, code)
    if entry.known:
        return entry.to_dict()
    suggestions = [s.code for s in catalog().nearest(name, code)]
    response = jsonify(
        {
            "message": f"{name} code {code!r} is not in the catalog",
            "reason": "unknown_code",
            "entry": {**entry.to_dict(), "suggestions": suggestions},
        }
    )
    response.status_code = 404
    return response
