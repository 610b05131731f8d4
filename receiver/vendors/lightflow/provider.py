"""LightFlow asset callbacks (POST with the asset as JSON)."""

from __future__ import annotations

from typing import Any

from receiver.records import FailureReport, JobUpdate, Normalized
from receiver.vendors.base import SharedTokenProvider
from schemas.lightflow import AssetCallbackSchema

# LightFlow's own "Unknown error": used when an asset reports status error without assetError.
UNKNOWN_ERROR_CODE = "1001"


class LightFlowProvider(SharedTokenProvider):
    vendor = "lightflow"
    schema = AssetCallbackSchema()
    state_ranks = {"queued": 1, "running": 2, "finished": 10, "error": 10, "canceled": 10}

    def normalize(self, data: dict[str, Any]) -> Normalized:
        asset_id = data["uuid"]
        status = data["status"]
        error = data.get("assetError")
        update = JobUpdate(
            kind="asset",
            external_id=asset_id,
            state=status,
            rank=self.state_rank(status),
            attributes={
                "name": data.get("assetName"),
                "input_url": data.get("inputUrl"),
                "started_at": _iso(data.get("startDate")),
                "ended_at": _iso(data.get("endDate")),
            },
        )
        code = str(error["code"]) if error else None
        if error or status == "error":
            failure_code = code or UNKNOWN_ERROR_CODE
            update.failures.append(
                FailureReport(
                    code=failure_code,
                    fingerprint=f"lightflow:{asset_id}:{failure_code}",
                    message=error.get("message") if error else None,
                    details={} if error else {"assetError": "absent"},
                )
            )
        return Normalized(
            vendor=self.vendor,
            dedup_key=f"lightflow:{asset_id}:{status}:{code or ''}",
            occurred_at=data.get("endDate") or data.get("startDate"),
            jobs=[update],
        )


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None
