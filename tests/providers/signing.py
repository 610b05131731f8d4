"""How each signed vendor signs, done the vendor's way, for posting test deliveries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from standardwebhooks.webhooks import Webhook

from receiver.providers.sns import SIGNED_FIELDS, string_to_sign

AGORA_SECRET = "agora-ncs-test-secret-0123456789"
KVS_SECRET = "whsec_" + base64.b64encode(b"kvs-test-secret-of-32-bytes!!!!!").decode()
SNS_TOPIC = "arn:aws:sns:eu-west-1:123456789012:kvs-alarms"
CERT_URL = (
    "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem"
)


def agora_headers(body: bytes, secret: str = AGORA_SECRET, versions=("V2", "V1")) -> dict:
    headers = {"Content-Type": "application/json"}
    if "V2" in versions:
        headers["Agora-Signature-V2"] = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if "V1" in versions:
        headers["Agora-Signature"] = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    return headers


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


class SnsSigner:
    """A locally generated key and self-signed certificate standing in for SNS's."""

    def __init__(self, common_name: str = "sns.amazonaws.com") -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .sign(self.key, hashes.SHA256())
        )
        self.pem = certificate.public_bytes(serialization.Encoding.PEM)

    def sign(self, message: dict[str, Any], version: str = "1") -> dict[str, Any]:
        message = {**message, "SignatureVersion": version, "SigningCertURL": CERT_URL}
        algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
        signed = string_to_sign(message, SIGNED_FIELDS[message["Type"]])
        signature = self.key.sign(signed, padding.PKCS1v15(), algorithm)
        message["Signature"] = base64.b64encode(signature).decode()
        return message


def sns_body(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode()
