"""A realistic on-call morning, through real ingest, for the admin's browser tests and screenshots.

About 64 notifications from all five senders, most in the last hours: a Zencoder S3 credentials
outage (15 outputs saved on Zencoder's backup server, with deadlines in both signing styles),
failed transcodes, LightFlow assets with their UUIDs and long messages, Agora task and REST
failures, KVS producer reports with long stream ARNs and SDK codes, a CloudWatch alarm via SNS,
and 11 rejected notifications. Some groups are acknowledged or resolved through the triage model.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from receiver import create_app
from receiver.alerts.triage import Actor, change_groups
from receiver.db import get_database
from receiver.models import AlertGroup
from tests.admin.conftest import admin_settings
from tests.helpers import FIXTURES, post
from tests.vendors.agora.kit import agora_headers
from tests.vendors.kits import environment, install
from tests.vendors.kvs.kit import kvs_headers
from tests.vendors.sns.kit import SNS_SIGNER, SnsSigner, sns_body

ALICE = Actor("alice@example.com", "admin")


def operator_app(database_url: str, **settings: Any) -> Flask:
    """The admin app with every sender enabled (SNS certificates from a local key)."""
    app = create_app(admin_settings(database_url, vendor_environment=environment(), **settings))
    app.extensions["sns_signer"] = SNS_SIGNER
    return install(app)


def seed(app: Flask, now: datetime | None = None) -> dict[str, Any]:
    """Post the morning's notifications; returns what the tests look for."""
    now = now or datetime.now(UTC).replace(microsecond=0)
    client = app.test_client()
    sent = Sender(client, now)
    sent.zencoder_s3_outage()
    sent.zencoder_transcodes()
    sent.lightflow_assets()
    sent.agora()
    sent.kvs()
    sent.cloudwatch(app.extensions["sns_signer"])
    sent.rejected()
    triaged = triage_some(app, now)
    return {"now": now, "posted": sent.count, **triaged}


class Sender:
    def __init__(self, client: FlaskClient, now: datetime) -> None:
        self.client, self.now, self.count = client, now, 0

    def ago(self, **delta: float) -> datetime:
        return self.now - timedelta(**delta)

    def post(self, vendor: str, body: Any, expect: tuple[int, ...] = (200, 202), **kw: Any) -> Any:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        response = post(self.client, vendor, raw, **kw)
        assert response.status_code in expect, (vendor, response.status_code, response.json)
        self.count += 1
        return response

    def signed(self, path: str, raw: bytes, headers: dict[str, str]) -> None:
        response = self.client.post(path, data=raw, headers=headers)
        assert response.status_code in (200, 202), (path, response.status_code, response.json)
        self.count += 1

    # -- Zencoder -----------------------------------------------------------------------------

    def zencoder_s3_outage(self) -> None:
        """15 outputs Zencoder could not upload to S3 (credentials rotated): on its backup
        server until their signed URLs expire."""
        template = fixture("zencoder", "output_backup_thumbnail_failed.json")
        for n in range(15):
            body = json.loads(json.dumps(template))
            body["job"]["id"] = 48300001 + n
            body["job"]["updated_at"] = iso(self.ago(minutes=12 + n * 11))
            body["output"]["id"] = 99900001 + n
            body["output"]["label"] = ["mp4-1080p", "mp4-720p", "hls-480p"][n % 3]
            body["output"]["url"] = backup_url(n, self.now)
            self.post("zencoder", body)

    def zencoder_transcodes(self) -> None:
        template = fixture("zencoder", "output_failed.json")
        for n in range(3):
            body = json.loads(json.dumps(template))
            body["job"]["id"] = 48310001 + n
            body["job"]["updated_at"] = iso(self.ago(hours=2 + n * 7))
            body["output"]["id"] = 99910001 + n
            self.post("zencoder", body)
        download = fixture("zencoder", "job_failed_input_download.json")
        download["job"]["updated_at"] = iso(self.ago(days=1, hours=3))
        self.post("zencoder", download)

    # -- LightFlow ----------------------------------------------------------------------------

    def lightflow_assets(self) -> None:
        cases = [
            (2404, 6, 35, "Error downloading input file: remote server returned HTTP 404 for "
             "https://media-origin.example.com/uploads/2026/12/06/customer-8812/"
             "masters/quarterly-results-webcast-final-final-v7-with-captions-burned-in.mov"),
            (2007, 4, 50, "Storage credentials error: the access key for bucket "
             "s3://acme-video-masters-eu-west-1-production was rejected"),
            (2429, 3, 20, "Error downloading input file: remote server returned HTTP 429"),
            (2503, 2, 180, "Error downloading input file: remote server returned HTTP 503"),
            (1003, 1, 60 * 24 * 6, "Error on asset processing"),
        ]  # fmt: skip
        template = fixture("lightflow", "asset_error_2007.json")
        for code, count, minutes, message in cases:
            for n in range(count):
                ended = self.ago(minutes=minutes + n * 17)
                body = {
                    **template,
                    "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"lightflow/{code}/{n}")),
                    "assetName": f"customer-8812-episode-{code}-{n}",
                    "startDate": iso(ended - timedelta(minutes=3)),
                    "endDate": iso(ended),
                    "assetError": {"code": code, "message": message},
                }
                self.post("lightflow", body)

    # -- Agora (signed) -------------------------------------------------------------------------

    def agora(self) -> None:
        stop = fixture("agora", "transcoder_status_failure_stop_112.json")
        for n in range(2):
            at = int(self.ago(minutes=25 + n * 40).timestamp() * 1000)
            stop["noticeId"] = f"2f6b7c0e-1d2a-4b3c-8e9f-0a1b2c3d4e{n:02d}"
            stop["notifyMs"] = at
            stop["payload"] = {**stop["payload"], "taskId": f"6c8e1f9a2b3d4e{n:02d}", "sendts": at}
            raw = json.dumps(stop).encode()
            self.signed("/hooks/agora", raw, agora_headers(raw))
        for name, minutes in (("api_error_503_without_request_id.json", 30),
                              ("api_error_409.json", 90), ("api_error_404.json", 300)):  # fmt: skip
            body = fixture("agora", name)
            body["occurredAt"] = iso(self.ago(minutes=minutes))
            raw = json.dumps(body).encode()
            self.signed("/hooks/agora/api-errors", raw, agora_headers(raw))

    # -- Kinesis Video Streams (Standard Webhooks) ----------------------------------------------

    def kvs(self) -> None:
        stream = (
            "arn:aws:kinesisvideo:eu-west-1:123456789012:stream/"
            "warehouse-loading-dock-north-entrance-camera-07/1700000000000"
        )
        batch = fixture("kvs", "batch_after_offline.json")
        for n, report in enumerate(batch):
            report["occurredAt"] = iso(self.ago(minutes=70 - n * 4))
        raw = json.dumps(batch).encode()
        self.signed("/hooks/kvs", raw, kvs_headers(raw, webhook_id="msg_batch_garage"))
        reports = [
            {
                "streamName": stream,
                "deviceId": "dock-cam-07",
                "status": status,
                "erroredTimecode": 17180000456780000 + n,
                "message": "PutMedia connection closed by the service while the fragment "
                "was being acknowledged; the SDK will retry with a new upload handle",
                "sdkVersion": "3.4.1",
                "occurredAt": iso(self.ago(minutes=8 + n * 9)),
            }
            for n, status in enumerate(["0x52000037", "0x5200005c", "0x52000037", "0x15000010"])
        ]
        raw = json.dumps(reports).encode()
        self.signed("/hooks/kvs", raw, kvs_headers(raw, webhook_id="msg_dock_cam"))
        single = fixture("kvs", "report_integer_status.json")
        single["occurredAt"] = iso(self.ago(minutes=41))
        raw = json.dumps(single).encode()
        self.signed("/hooks/kvs", raw, kvs_headers(raw, webhook_id="msg_front_door"))

    # -- CloudWatch alarm via SNS ---------------------------------------------------------------

    def cloudwatch(self, signer: SnsSigner) -> None:
        message = fixture("cloudwatch", "alarm_putmedia_success_alarm.json")
        alarm = json.loads(message["Message"])
        alarm["StateChangeTime"] = self.ago(minutes=33).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        message["Message"] = json.dumps(alarm)
        message["Timestamp"] = iso(self.ago(minutes=33))
        raw = sns_body(signer.sign(message))
        self.signed("/hooks/sns", raw, {"Content-Type": "text/plain; charset=UTF-8",
                                         "x-amz-sns-message-type": "Notification",
                                         "x-amz-sns-message-id": message["MessageId"]})  # fmt: skip

    # -- refused ---------------------------------------------------------------------------------

    def rejected(self) -> None:
        body = fixture("zencoder", "output_failed.json")
        for _ in range(5):  # the token was rotated on our side only
            self.post("zencoder", body, expect=(401,), headers={"X-Receiver-Token": "old-token"})
        for _ in range(3):
            self.post("lightflow", fixture("lightflow", "asset_error_2404.json"), expect=(401,),
                      headers={})  # fmt: skip
        for _ in range(2):
            self.post("lightflow", {"uuid": "no-status"}, expect=(422,))
        self.post("lightflow", b"{not json", expect=(400,))


def triage_some(app: Flask, now: datetime) -> dict[str, Any]:
    """Acknowledge the transcode group and resolve the week-old LightFlow one, as people would."""
    rules = app.extensions["alert_rules"]
    with get_database(app).sessionmaker() as session:
        groups = {tuple(g.labels.get(k) for k in ("vendor", "code")): g.id for g in
                  session.query(AlertGroup)}  # fmt: skip
        transcodes = groups[("zencoder", "TranscodingError")]
        old = groups[("lightflow", "1003")]
        outage = groups[("zencoder", "UploadAccessDeniedError")]
        change_groups(session, rules, [transcodes], "acknowledge", ALICE, "Zencoder ticket 48213",
                      now=now - timedelta(minutes=50))  # fmt: skip
        change_groups(session, rules, [old], "resolve", ALICE, "re-ingested by hand",
                      now=now - timedelta(days=5))  # fmt: skip
        session.commit()
    return {"outage_group": outage, "acknowledged_group": transcodes, "resolved_group": old}


def backup_url(n: int, now: datetime) -> str:
    """Zencoder's backup copies: most expire in about 5 h (query-string auth v2), one is SigV4,
    one has already expired and one says no deadline."""
    base = f"https://zencoder-temp-storage-us-east-1.s3.amazonaws.com/o/20261206/{n:04x}/out.mp4"
    if n == 3:
        signed = (now - timedelta(hours=1)).strftime("%Y%m%dT%H%M%SZ")
        return f"{base}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={signed}&X-Amz-Expires=14400"
    if n == 7:
        return (
            f"{base}?AWSAccessKeyId=AKIAEXAMPLE&Signature=abc&Expires={int(now.timestamp()) - 7200}"
        )
    if n == 11:
        return base
    expires = int((now + timedelta(hours=5, minutes=n)).timestamp())
    return f"{base}?AWSAccessKeyId=AKIAEXAMPLE&Signature=q9Xw2%2FkLm&Expires={expires}"


def fixture(vendor: str, name: str) -> Any:
    return json.loads((FIXTURES / vendor / name).read_text())


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
