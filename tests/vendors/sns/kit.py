"""How the tests enable SNS and sign as SNS: a locally generated key and self-signed
certificate stand in for SNS's, served as the ``SigningCertURL`` by a fetcher that stands in for
SNS's hosts (the real one refuses every other host)."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from datetime import timedelta
from io import BytesIO
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from flask import Flask

from receiver.vendors import carried_vendors
from receiver.vendors.sns.local import self_signed_pem
from receiver.vendors.sns.provider import (
    CERTIFICATE_FETCHES_PER_TOPIC,
    SIGNED_FIELDS,
    SnsProvider,
    is_sns_url,
    string_to_sign,
)

SNS_TOPIC = "arn:aws:sns:eu-west-1:123456789012:video-pipeline-events"
SETTINGS = {"RECEIVER_SNS_TOPIC_ARNS": SNS_TOPIC}
CERT_URL = (
    "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem"
)
CONFIRM_URL = "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn="


class SnsSigner:
    """A locally generated key and self-signed certificate standing in for SNS's."""

    def __init__(self, common_name: str = "sns.amazonaws.com") -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        self.pem = self_signed_pem(self.key, name, timedelta(days=30))

    def sign(self, message: dict[str, Any], version: str = "1") -> dict[str, Any]:
        message = {**message, "SignatureVersion": version, "SigningCertURL": CERT_URL}
        algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
        signed = string_to_sign(message, SIGNED_FIELDS[message["Type"]])
        signature = self.key.sign(signed, padding.PKCS1v15(), algorithm)
        message["Signature"] = base64.b64encode(signature).decode()
        return message


SNS_SIGNER = SnsSigner()


class SnsServers:
    """The SNS provider's fetcher in tests: the published certificate, subscription
    confirmations, 404 for anything else on an SNS host; a server the test runs on 127.0.0.1
    for real. Records every URL it is asked for, before deciding."""

    def __init__(self, pem: bytes) -> None:
        self.pem = pem
        self.urls: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.urls.append(url)
        if url == CERT_URL:
            return self.pem
        if url.startswith("http://127.0.0.1:"):
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read()
        if not is_sns_url(url):
            raise ValueError(f"tests fetch nothing from {url}")
        if url.startswith(CONFIRM_URL):
            return b"<ConfirmSubscriptionResponse/>"
        raise urllib.error.HTTPError(url, 404, "Not Found", None, BytesIO(b"<Error/>"))  # type: ignore[arg-type]


def sns_provider(
    fetch: Callable[[str], bytes],
    topics: Sequence[str] = (SNS_TOPIC,),
    certificate_fetches: str = CERTIFICATE_FETCHES_PER_TOPIC,
) -> SnsProvider:
    """The test topic's provider (or ``topics``'), fetching through ``fetch``."""
    return SnsProvider(topics, carried_vendors(), fetch, certificate_fetches)


#: The apps of the tests (the fuzz run above all) send forgeries naming many certificate URLs in
#: a minute: with the production limit, whether a later one gets its 401 or the limit's 503
#: would depend on the order hypothesis draws them in. The limit has tests of its own.
UNLIMITED_FETCHES = "1000000 per second"


def install(app: Flask) -> None:
    """The app's SNS endpoint fetches from the stand-in hosts."""
    if "sns" in app.extensions["providers"]:
        app.extensions["providers"]["sns"] = sns_provider(
            SnsServers(SNS_SIGNER.pem), certificate_fetches=UNLIMITED_FETCHES
        )


def sns_body(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode()


def sns_headers(message: dict[str, Any]) -> dict[str, str]:
    """What SNS sends with a message (JSON as text/plain)."""
    return {
        "Content-Type": "text/plain; charset=UTF-8",
        "x-amz-sns-message-type": message["Type"],
        "x-amz-sns-message-id": message["MessageId"],
        "x-amz-sns-topic-arn": message["TopicArn"],
    }


def sign(endpoint: str, body: bytes) -> tuple[bytes, dict[str, str]]:
    """An envelope (a fixture of SNS's or of a vendor it carries), signed as SNS signs."""
    message = SNS_SIGNER.sign(json.loads(body))
    return sns_body(message), sns_headers(message)


# --- for the tests of SNS and of the vendors it carries -----------------------------------------


def message(name: str) -> dict[str, Any]:
    """A fixture posted to /hooks/sns (SNS's own, or a vendor's it carries), by file name."""
    from tests.vendors.kits import endpoint_fixtures

    path = next(p for p in endpoint_fixtures("sns") if p.name == name)
    return json.loads(path.read_text())


def carried_message(name: str, **changes: Any) -> dict[str, Any]:
    """A Notification fixture whose carried message has ``changes``."""
    envelope = message(name)
    return {**envelope, "Message": json.dumps({**json.loads(envelope["Message"]), **changes})}


def send(
    client: Any, body: bytes, message_type: str = "Notification", message_id: str = "m"
) -> Any:
    # SNS posts JSON as text/plain.
    return client.post(
        "/hooks/sns",
        data=body,
        headers={
            "Content-Type": "text/plain; charset=UTF-8",
            "x-amz-sns-message-type": message_type,
            "x-amz-sns-message-id": message_id,
            "x-amz-sns-topic-arn": SNS_TOPIC,
        },
    )


def send_signed(client: Any, signer: SnsSigner, msg: dict[str, Any], version: str = "1") -> Any:
    return send(client, sns_body(signer.sign(msg, version)), msg["Type"], msg["MessageId"])
