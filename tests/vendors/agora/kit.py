"""How the tests enable and sign as Agora: NCS's HMAC of the raw body with the shared secret."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

AGORA_SECRET = "agora-ncs-test-secret-0123456789"
SETTINGS = {"RECEIVER_AGORA_SECRET": AGORA_SECRET}


def agora_signature(body: bytes, digest: Any, secret: str = AGORA_SECRET) -> str:
    return hmac.new(secret.encode(), body, digest).hexdigest()


def agora_headers(body: bytes, secret: str = AGORA_SECRET, versions=("V2", "V1")) -> dict:
    headers = {"Content-Type": "application/json"}
    if "V2" in versions:
        headers["Agora-Signature-V2"] = agora_signature(body, hashlib.sha256, secret)
    if "V1" in versions:
        headers["Agora-Signature"] = agora_signature(body, hashlib.sha1, secret)
    return headers
