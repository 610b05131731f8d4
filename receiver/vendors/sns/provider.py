"""Amazon SNS HTTP(S) subscriptions (``/hooks/sns``): a transport for other vendors' news.

Every message is signed by SNS (SignatureVersion 1: SHA1withRSA, 2: SHA256withRSA) with the key of
a certificate we fetch only from ``https://sns.<region>.amazonaws.com/…`` (the China and GovCloud
partitions included, nothing else on amazonaws.com), whose subject must be SNS's, and keep in a
small LRU cache; a topic's messages may make only a few fetches a minute. Only topics listed in
``RECEIVER_SNS_TOPIC_ARNS`` are accepted, and only their subscriptions confirmed. A verified
Notification's message goes to the registered vendor that claims it (a CloudWatch alarm); one no
vendor claims (a test message) is kept and describes nothing.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import threading
import urllib.request
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from limits import parse as parse_rate_limit
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from receiver.records import IncomingRequest, Normalized, Rejection
from receiver.vendors.base import CarriedMessage, CarriedVendor, Provider, decode_json
from schemas.sns import MessageSchema

if TYPE_CHECKING:
    from receiver.vendors.sns.local import LocalSns

log = logging.getLogger(__name__)

Fetch = Callable[[str], bytes]
#: A region: us-east-1, eu-west-3, us-gov-west-1, cn-north-1, ap-southeast-4 … Not S3's
#: bucket-style hosts (sns.s3.amazonaws.com, sns.s3-us-west-2…, sns.s3-accelerate…), where
#: anyone can publish a "certificate" in a bucket named sns.
REGION = r"[a-z]{2}(-gov)?-[a-z]+-\d{1,2}"
SNS_HOST = re.compile(rf"sns\.{REGION}\.amazonaws\.com(\.cn)?")
#: The subject (CN or DNS name) of SNS's signing certificates.
SNS_CERTIFICATE_NAME = re.compile(rf"sns(\.{REGION})?\.amazonaws\.com(\.cn)?")
SIGNATURE_HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}
# The fields SNS signs, in its order; Subject only when the message has one.
SIGNED_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
SIGNED_FIELDS["UnsubscribeConfirmation"] = SIGNED_FIELDS["SubscriptionConfirmation"]
MAX_CACHED_CERTIFICATES = 32
MAX_FETCH_BYTES = 64 * 1024
#: Certificate fetches one topic's messages may cause: SNS rotates its certificate rarely, so
#: more means someone is making us fetch (and evict the real one from the cache).
CERTIFICATE_FETCHES_PER_TOPIC = "5 per minute"


def is_sns_url(url: object) -> bool:
    """True for an https URL on an SNS host (no credentials, default port)."""
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    return (
        parts.scheme == "https"
        and parts.username is None
        and port in (None, 443)
        and SNS_HOST.fullmatch(parts.hostname or "") is not None
    )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect could leave the SNS host: treat it as an error


_opener = urllib.request.build_opener(_NoRedirect)


def fetch_from_sns(url: str) -> bytes:
    """GET a certificate or a SubscribeURL, only from an SNS host over HTTPS."""
    if not is_sns_url(url):
        raise ValueError("not an https://sns.<region>.amazonaws.com URL")
    with _opener.open(url, timeout=5) as response:  # https only: checked above
        content: bytes = response.read(MAX_FETCH_BYTES)
    return content


class SnsProvider(Provider):
    vendor = "sns"
    schema = MessageSchema()
    # A message whose certificate could not be fetched was never checked (nor found false): a
    # replay verifies it then, like every replay of a signed message.
    replayable_auth = frozenset({"passed", "unchecked"})

    def __init__(
        self,
        topic_arns: Iterable[str],
        carried: Sequence[CarriedVendor],
        fetch: Fetch = fetch_from_sns,
        certificate_fetches: str = CERTIFICATE_FETCHES_PER_TOPIC,
        *,
        local: LocalSns | None = None,
        trust_local: bool = False,
    ) -> None:
        """``local``: the stand-in for SNS of a local trial (see :mod:`.local`), which signs
        for `receiver send-test`; its certificate is trusted only with ``trust_local``."""
        self._topics = frozenset(topic_arns)
        self._carried = tuple(carried)
        self._local = local
        self._trusted_local = local if trust_local else None
        self._fetch = local.answering(fetch) if local and trust_local else fetch
        self._keys: OrderedDict[str, rsa.RSAPublicKey] = OrderedDict()
        self._lock = threading.Lock()
        self._fetch_limit = parse_rate_limit(certificate_fetches)
        self._fetches = MovingWindowRateLimiter(MemoryStorage())

    def decode(self, request: IncomingRequest) -> Any:
        # SNS sends JSON as text/plain.
        return decode_json(request.body)

    def authenticate(self, request: IncomingRequest) -> None:
        message = self.decode(request)
        if not isinstance(message, dict):
            raise Rejection(400, "malformed", "an SNS message is a JSON object")
        if _string(message, "TopicArn") not in self._topics:
            raise Rejection(
                403, "forbidden", "topic not allowed: add it to RECEIVER_SNS_TOPIC_ARNS"
            )
        algorithm = SIGNATURE_HASHES.get(_string(message, "SignatureVersion") or "")
        fields = SIGNED_FIELDS.get(_string(message, "Type") or "")
        if algorithm is None or fields is None:
            raise Rejection(401, "unauthorized", "unsupported SNS message type or SignatureVersion")
        try:
            signature = base64.b64decode(message.get("Signature") or "", validate=True)
            signed = string_to_sign(message, fields)
        except (binascii.Error, ValueError, TypeError):
            raise Rejection(401, "unauthorized", "missing or malformed SNS signature") from None
        key = self._public_key(message.get("SigningCertURL"), _string(message, "TopicArn") or "")
        try:
            key.verify(signature, signed, padding.PKCS1v15(), algorithm())
        except InvalidSignature:
            raise Rejection(401, "unauthorized", "invalid SNS signature") from None

    def sender_request(self, body: bytes) -> tuple[bytes, dict[str, str]]:
        if self._local is None:
            raise NotImplementedError(
                "SNS signs its messages with a key only AWS has; to try SNS locally, start "
                "`receiver run` on 127.0.0.1, which generates RECEIVER_SNS_LOCAL_SIGNING_KEY"
            )
        return self._local.request(body)

    def _public_key(self, url: object, topic: str) -> rsa.RSAPublicKey:
        trusted_local = self._trusted_local is not None and self._trusted_local.owns(url)
        if not (is_sns_url(url) or trusted_local):
            raise Rejection(
                401,
                "unauthorized",
                "SigningCertURL is not an https://sns.<region>.amazonaws.com URL",
            )
        assert isinstance(url, str)
        with self._lock:
            key = self._keys.get(url)
            if key is not None:
                self._keys.move_to_end(url)  # least recently used goes first
                return key
        if not self._fetches.hit(self._fetch_limit, "sns-certificate", topic):
            log.warning("SNS certificate fetches for %s over %s", topic, self._fetch_limit)
            raise Rejection(
                503,
                "unavailable",
                "too many SNS certificate fetches for this topic; retry later",
                auth="unchecked",
            )
        key = self._load_certificate(url)
        with self._lock:
            self._keys[url] = key
            while len(self._keys) > MAX_CACHED_CERTIFICATES:
                self._keys.popitem(last=False)
        return key

    def _load_certificate(self, url: str) -> rsa.RSAPublicKey:
        try:
            pem = self._fetch(url)
        except HTTPError as error:
            if error.code >= 500:
                raise _unavailable(url, error) from None
            # SNS answered that it has no such certificate: the sender named one SNS never
            # published. That is a forgery (a retry cannot help), not an outage.
            raise Rejection(
                401, "unauthorized", "SigningCertURL names no certificate SNS publishes"
            ) from None
        except (OSError, URLError, ValueError) as error:
            raise _unavailable(url, error) from None
        try:
            certificate = x509.load_pem_x509_certificate(pem)
        except ValueError:
            raise Rejection(401, "unauthorized", "SigningCertURL is not a certificate") from None
        now = datetime.now(UTC)
        public_key = certificate.public_key()
        valid = certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc
        if not valid or not isinstance(public_key, rsa.RSAPublicKey):
            raise Rejection(401, "unauthorized", "the SNS signing certificate is not usable")
        if not _names_sns(certificate):
            raise Rejection(401, "unauthorized", "the signing certificate is not SNS's")
        return public_key

    def normalize(self, data: dict[str, Any]) -> Normalized:
        dedup_key = f"sns:{data['MessageId']}"  # the same id as the x-amz-sns-message-id header
        if data["Type"] == "SubscriptionConfirmation":
            # Confirming is part of accepting this message, so a replay confirms again (useful
            # after a failed fetch; SNS tokens stay valid for three days), a dry run never.
            return Normalized(
                self.vendor,
                dedup_key,
                data["Timestamp"],
                jobs=[],
                before_store=[lambda: self._confirm(data)],
            )
        if data["Type"] == "Notification":
            message = CarriedMessage(
                carrier=self.vendor,
                message_id=data["MessageId"],
                sent_at=data["Timestamp"],
                topic=data["TopicArn"],
                text=data["Message"],
            )
            for vendor in self._carried:
                if (claimed := vendor.claim(message)) is not None:
                    return claimed
        # A message no vendor claims (e.g. a test message), or an unsubscription: kept,
        # describes nothing.
        return Normalized(self.vendor, dedup_key, data["Timestamp"], jobs=[])

    def _confirm(self, data: dict[str, Any]) -> None:
        url = data.get("SubscribeURL")
        if not url:
            raise Rejection(422, "invalid", "SubscriptionConfirmation without SubscribeURL")
        try:
            self._fetch(url)
        except (OSError, URLError, ValueError) as error:
            log.warning("confirming the SNS subscription to %s failed: %s", data["TopicArn"], error)
            raise Rejection(
                503,
                "unavailable",
                "could not confirm the subscription; SNS retries, or replay it "
                "(its signature is verified again)",
            ) from None
        log.info("confirmed the SNS subscription to %s", data["TopicArn"])


def _unavailable(url: str, error: Exception) -> Rejection:
    log.warning("cannot fetch the SNS signing certificate %s: %s", url, error)
    return Rejection(
        503,
        "unavailable",
        "cannot fetch the SNS signing certificate; SNS retries, or replay it "
        "(its signature is verified then)",
        auth="unchecked",
    )


def _names_sns(certificate: x509.Certificate) -> bool:
    """The certificate's subject (common name or a DNS name) is SNS's."""
    names = [
        attribute.value
        for attribute in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    ]
    try:
        alternative = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        names += alternative.value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        pass
    return any(
        isinstance(name, str) and SNS_CERTIFICATE_NAME.fullmatch(name.lower()) for name in names
    )


def _string(message: dict[str, Any], name: str) -> str | None:
    # The envelope is read before anything vouches for it: a list or object where a string
    # belongs must not even be hashed (a dict lookup would raise on it).
    value = message.get(name)
    return value if isinstance(value, str) else None


def string_to_sign(message: dict[str, Any], fields: Iterable[str]) -> bytes:
    """SNS's canonical form: ``name\\nvalue\\n`` for each signed field present, in order."""
    lines = []
    for name in fields:
        value = message.get(name)
        if value is None and name == "Subject":
            continue
        if not isinstance(value, str):
            raise ValueError(f"{name} is missing")
        lines.append(f"{name}\n{value}\n")
    return "".join(lines).encode()
