"""How the tests enable and sign as a KVS producer: Standard Webhooks with a whsec_ secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

KVS_SECRET = "whsec_" + base64.b64encode(b"kvs-test-secret-of-32-bytes!!!!!").decode()
KVS_KEY = base64.b64decode(KVS_SECRET.removeprefix("whsec_"))
SETTINGS = {"RECEIVER_KVS_SECRET": KVS_SECRET}


def kvs_headers(
    body: bytes, webhook_id: str = "msg_2f6b7c0e1d2a", at: float | None = None, secret=KVS_SECRET
) -> dict:
    when = datetime.fromtimestamp(time.time() if at is None else at, tz=UTC)
    signature = Webhook(secret).sign(webhook_id, when, body)
    return {
        "Content-Type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": signature,
    }


def kvs_signature(webhook_id: str, timestamp: int, body: bytes, key: bytes = KVS_KEY) -> str:
    # Over the raw bytes, as a sender in another language would sign; the receiver verifies them
    # byte for byte, so a signed body is authentic whether or not it is UTF-8.
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def sign(endpoint: str, body: bytes) -> tuple[bytes, dict[str, str]]:
    """As a device would, with a delivery id of its own (so the dedup key is known)."""
    return body, kvs_headers(body)
