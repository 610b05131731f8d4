"""The JSON API (``/api/...``) and its OpenAPI document at ``/openapi.json``.

flask-smorest generates the document from the marshmallow schemas the views use, so it cannot
drift from the code. The webhook endpoints are plain Flask views (they read raw bytes), so they
are added to the document here from each enabled provider's payload schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from flask_smorest import Api
from marshmallow import Schema
from werkzeug.routing import Rule

from receiver.admin import auth
from receiver.api import alerts, codes, failures, groups
from receiver.api.schemas import ErrorSchema
from receiver.vendors import BY_NAME
from receiver.vendors.base import Provider, SharedTokenProvider

API_CONFIG = {
    "API_TITLE": "video-failure-receiver",
    "API_VERSION": "1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "openapi.json",
}


def schema_name(schema: type[Schema] | Schema) -> str:
    """Component names that cannot collide across vendors (``zencoder.JobSchema`` and ours)."""
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__.removesuffix("Schema") or cls.__name__
    module = cls.__module__
    if module.startswith("schemas."):  # the vendor payload schemas
        return module.rsplit(".", 1)[1].capitalize() + name
    return name


class ReceiverApi(Api):
    # Error bodies come from receiver.errors: {"message", "reason", "errors"?}.
    ERROR_SCHEMA = ErrorSchema


def register_api(app: Flask) -> None:
    app.config.update(API_CONFIG)
    api = ReceiverApi(
        spec_kwargs={
            "marshmallow_plugin": MarshmallowPlugin(schema_name_resolver=schema_name),
            "security": [{"basicAuth": []}, {"sessionCookie": []}],
        }
    )
    api.init_app(app)
    api.spec.components.security_scheme(
        "basicAuth",
        {"type": "http", "scheme": "basic", "description": "RECEIVER_ADMIN_USER / _PASSWORD"},
    )
    api.spec.components.security_scheme(
        "sessionCookie",
        {
            "type": "apiKey",
            "in": "cookie",
            "name": "receiver_session",
            "description": "after /admin/login",
        },
    )
    for blueprint in (failures.blp, codes.blp, alerts.blp, groups.blp):
        api.register_blueprint(blueprint)
        # Every API route needs the admin login. Registered on this app (blueprints are shared
        # by every app a process creates, and are frozen after their first registration).
        app.before_request_funcs.setdefault(blueprint.name, []).extend(
            [auth.refuse_throttled_client, auth.require_api_user]
        )
    document_hooks(api, app.extensions["providers"])
    app.extensions["api"] = api


HOOK_RESPONSES = {
    "200": "the same notification was already received (`status: duplicate`)",
    "202": "stored: raw notification, jobs, outputs and failures, committed",
    "400": "malformed body (kept as rejected)",
    "401": "missing or wrong credentials (kept as rejected)",
    "404": "vendor unknown or not enabled",
    "413": "body larger than RECEIVER_MAX_BODY_BYTES (kept truncated)",
    "415": "content type that cannot be parsed",
    "422": "the payload does not match the schema; `errors` names the fields",
    "503": "database unavailable; retry after `Retry-After` seconds",
}


def document_hooks(api: Api, providers: dict[str, Provider]) -> None:
    """Describe ``POST /hooks/<vendor>`` for each enabled vendor with its payload schema."""
    api.spec.components.security_scheme(
        "vendorToken",
        {
            "type": "apiKey",
            "in": "header",
            "name": "X-Receiver-Token",
            "description": "shared-token vendors; also accepted as the Basic password or ?token=",
        },
    )
    for endpoint, provider in sorted(providers.items()):
        payload = schema_name(provider.schema)
        if payload not in api.spec.components.schemas:
            api.spec.components.schema(payload, schema=type(provider.schema))
        ok = {"description": "", "content": {"application/json": {"schema": {"type": "object"}}}}
        error = {
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        }
        responses: dict[str, Any] = {}
        for status, description in HOOK_RESPONSES.items():
            body = ok if status in ("200", "202") else error
            responses[status] = {**body, "description": description}
        vendor = BY_NAME[provider.vendor]
        api.spec.path(
            rule=Rule(f"/hooks/{endpoint}"),  # flask-smorest's plugin derives the path from a rule
            operations={
                "post": {
                    "tags": ["hooks"],
                    "summary": f"{vendor.title} notification",
                    "description": _hook_description(provider, vendor.docs),
                    **_external_docs(vendor.docs),
                    # Signing vendors authenticate in headers their docs describe, not a token.
                    "security": [{"vendorToken": []}]
                    if isinstance(provider, SharedTokenProvider)
                    else [],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": f"#/components/schemas/{payload}"}
                            }
                        },
                    },
                    "responses": responses,
                }
            },
        )


def _hook_description(provider: Provider, docs: Mapping[str, str]) -> str:
    text = (provider.__doc__ or f"A notification from {provider.vendor}.").strip()
    links = ", ".join(f"[{what}]({url})" for what, url in docs.items())
    return f"{text}\n\nThe vendor's documentation: {links}." if links else text


def _external_docs(docs: Mapping[str, str]) -> dict[str, Any]:
    """OpenAPI allows one link per operation: the vendor's first."""
    for what, url in docs.items():
        return {"externalDocs": {"description": what, "url": url}}
    return {}
