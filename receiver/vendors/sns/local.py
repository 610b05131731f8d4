"""A stand-in for Amazon SNS on one machine, so a local trial can take the whole SNS path.

SNS signs every message with a key only AWS has, and names the certificate to check it with
(``SigningCertURL`` on an SNS host). A local trial has neither, so ``receiver run`` on a
loopback address generates a private key (``RECEIVER_SNS_LOCAL_SIGNING_KEY``, in the instance's
env file) and this stand-in:

- signs a message as SNS would, naming :data:`CERTIFICATE_URL` (``receiver send-test sns``);
- answers, inside the receiver, what SNS's hosts would: that certificate (made from the key,
  self-signed) and a ``SubscribeURL`` confirmation, so the receiver verifies the signature, checks
  the certificate and confirms the subscription exactly as it does for SNS.

Only a ``receiver run`` on a loopback address trusts the stand-in's certificate; any other
server start with the key set refuses to start (``receiver.vendors.sns.endpoints``), so a
receiver others can reach never accepts a message signed with it. The stand-in's host, under
``.invalid``, can never resolve: nothing is ever fetched from it.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from receiver.settings import SettingsError
from receiver.vendors.sns.provider import SIGNED_FIELDS, string_to_sign

log = logging.getLogger(__name__)

LOCAL_HOST = "sns.local-trial.invalid"
CERTIFICATE_URL = f"https://{LOCAL_HOST}/receiver-local-signing-certificate.pem"
#: The links SNS puts in a message: the stand-in puts its own host in them.
LINK_FIELDS = ("SubscribeURL", "UnsubscribeURL")
KEY_BITS = 2048
Fetch = Callable[[str], bytes]


def new_key() -> str:
    """A new private key, as the setting holds it: base64 of its PKCS #8 DER, one line."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return base64.b64encode(der).decode()


def signing_key(variable: str, raw: str) -> str:
    """The setting's parser: an RSA private key written as :func:`new_key` writes one."""
    try:
        key = serialization.load_der_private_key(base64.b64decode(raw, validate=True), None)
    except (binascii.Error, ValueError, TypeError):
        key = None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SettingsError(
            f"{variable} is not a local signing key (delete the line and let `receiver run` "
            "on 127.0.0.1 make a new one)"
        )
    return raw


class LocalSns:
    """The stand-in for SNS, from the local signing key."""

    def __init__(self, key_text: str) -> None:
        key = serialization.load_der_private_key(base64.b64decode(key_text), None)
        assert isinstance(key, rsa.RSAPrivateKey)  # checked by signing_key()
        self._key = key

    def sign(self, message: dict[str, Any]) -> dict[str, Any]:
        """``message`` as SNS would send it (SignatureVersion 2), its links on the stand-in."""
        signed = {
            **message,
            **{name: _on_local_host(message[name]) for name in LINK_FIELDS if name in message},
            "SignatureVersion": "2",
            "SigningCertURL": CERTIFICATE_URL,
        }
        fields = SIGNED_FIELDS.get(signed.get("Type", ""))
        if fields is None:
            raise ValueError(f"SNS sends no message of Type {signed.get('Type')!r}")
        signature = self._key.sign(
            string_to_sign(signed, fields), padding.PKCS1v15(), hashes.SHA256()
        )
        signed["Signature"] = base64.b64encode(signature).decode()
        return signed

    def certificate(self) -> bytes:
        """A self-signed certificate for the key, in SNS's name, valid from yesterday for a year
        (made anew at every start)."""
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "receiver local trial, not AWS"),
            ]
        )
        return self_signed_pem(self._key, name, timedelta(days=365))

    def request(self, body: bytes) -> tuple[bytes, dict[str, str]]:
        """``body`` (an SNS message, or a fixture of one) signed by the stand-in, and the
        headers SNS sends with it (its JSON goes as text/plain)."""
        message = self.sign(json.loads(body))
        headers = {
            "Content-Type": "text/plain; charset=UTF-8",
            "x-amz-sns-message-type": str(message.get("Type", "")),
            "x-amz-sns-message-id": str(message.get("MessageId", "")),
            "x-amz-sns-topic-arn": str(message.get("TopicArn", "")),
        }
        return json.dumps(message, indent=2).encode(), headers

    @staticmethod
    def owns(url: object) -> bool:
        """A URL on the stand-in's host."""
        return isinstance(url, str) and urlsplit(url).hostname == LOCAL_HOST

    def answering(self, fetch: Fetch) -> Fetch:
        """``fetch``, except that the stand-in's URLs are answered here: its certificate, and
        subscription confirmations (which SNS answers with an XML document)."""
        pem = self.certificate()

        def local_fetch(url: str) -> bytes:
            if url == CERTIFICATE_URL:
                return pem
            if self.owns(url):
                log.info("local SNS stand-in answered %s (nothing fetched)", url)
                return b"<ConfirmSubscriptionResponse/>"
            return fetch(url)

        return local_fetch


def self_signed_pem(key: rsa.RSAPrivateKey, name: x509.Name, valid_for: timedelta) -> bytes:
    """A certificate of ``name`` for ``key``, signed by it, valid from yesterday (PEM)."""
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + valid_for)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


def _on_local_host(url: Any) -> Any:
    """An SNS link moved to the stand-in's host (its path and query kept)."""
    if not isinstance(url, str):
        return url
    parts = urlsplit(url)
    return parts._replace(scheme="https", netloc=LOCAL_HOST).geturl()
