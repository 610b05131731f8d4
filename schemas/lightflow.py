"""LightFlow asset callbacks: the asset (id ``uuid``) with its ``status`` and, when processing
failed, ``assetError: {"code": int, "message": str}``."""

from __future__ import annotations

from marshmallow import fields

from schemas.common import IdField, Int32, Text, UTCDateTime, VendorSchema


class AssetErrorSchema(VendorSchema):
    code = Int32(required=True, allow_none=False)
    message = Text()


class AssetCallbackSchema(VendorSchema):
    uuid = IdField(required=True)
    status = Text(max_length=64, required=True, allow_none=False)
    assetName = Text(max_length=1000)
    inputUrl = Text()
    startDate = UTCDateTime()
    endDate = UTCDateTime()
    assetError = fields.Nested(AssetErrorSchema, allow_none=True)
