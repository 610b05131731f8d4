"""CloudWatch alarm state changes, as SNS carries them: an alarm going to ALARM is a failure of
that alarm; back to OK resolves its open failures."""

from __future__ import annotations

from typing import Any

from receiver.records import FailureReport, JobUpdate, Normalized
from receiver.vendors.base import CarriedMessage, CarriedVendor, clock_rank
from schemas.cloudwatch import AlarmSchema


class CloudWatchAlarms(CarriedVendor):
    vendor = "cloudwatch"
    schema = AlarmSchema()

    def claim(self, message: CarriedMessage) -> Normalized | None:
        alarm = message.data
        if not isinstance(alarm, dict) or "AlarmName" not in alarm:
            return None
        loaded = self.load(self.schema, alarm, "the CloudWatch alarm")
        return Normalized(
            vendor=self.vendor,
            # The carrier's message id, as SNS's x-amz-sns-message-id header gives it.
            dedup_key=f"{message.carrier}:{message.message_id}",
            occurred_at=loaded["StateChangeTime"],
            jobs=[_alarm_update(loaded)],
        )


def _alarm_update(alarm: dict[str, Any]) -> JobUpdate:
    trigger = alarm["Trigger"]
    alarm_id = alarm.get("AlarmArn") or alarm["AlarmName"]
    changed = alarm["StateChangeTime"]
    dimensions = {d["name"]: d["value"] for d in trigger.get("Dimensions") or ()}
    update = JobUpdate(
        kind="alarm",
        external_id=alarm_id,
        state=alarm["NewStateValue"],
        # A late delivery of an older transition never overrides a newer one; an alarm has no
        # final state (it can go back to ALARM any time).
        rank=clock_rank(changed),
        attributes={
            "alarm_name": alarm["AlarmName"],
            "namespace": trigger.get("Namespace"),
            "metric": trigger.get("MetricName"),
            "dimensions": dimensions,
            "region": alarm.get("Region"),
            "account": alarm.get("AWSAccountId"),
            "state_changed_at": changed.isoformat(),
        },
    )
    if alarm["NewStateValue"] == "ALARM":
        update.failures.append(
            FailureReport(
                code=trigger.get("MetricName") or "",
                fingerprint=f"sns:{alarm_id}:{changed.isoformat()}",
                message=alarm.get("NewStateReason"),
                details={
                    "alarm_name": alarm["AlarmName"],
                    "namespace": trigger.get("Namespace"),
                    "dimensions": dimensions,
                    "description": alarm.get("AlarmDescription"),
                },
            )
        )
    elif alarm["NewStateValue"] == "OK":
        update.recovered_at = changed
    return update
