"""Every hook endpoint as a hostile sender sees it: real payloads to start from, how to make a
request the receiver must accept as the vendor's (``authentic``), and every way to fake one.

A request is ``authentic`` only when the vendor itself could have sent it; the properties then
demand it is never a 5xx and that the schema, not the authentication, decided. Anything else
must be refused before a normalized row is written.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from io import BytesIO
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

from receiver.providers.sns import is_sns_url
from schemas.sns import MESSAGE_TYPES
from tests.fuzz.strategies import bodies, content_types, dumps, header_text, mutated
from tests.helpers import FIXTURES, TOKENS, basic_auth
from tests.providers.signing import AGORA_SECRET, CERT_URL, KVS_SECRET, SNS_TOPIC, SnsSigner

Bodies = st.SearchStrategy[bytes] | None
# Two in three requests are the vendor's own: forgeries need fewer examples to be refused than
# authentic requests need to explore the schema.
AUTHENTIC = st.sampled_from([True, True, False])


@dataclass
class Attempt:
    """One generated request."""

    path: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    query: str = ""
    authentic: bool = False
    how: str = ""  # the kind of credential or forgery, for failure reports

    def __repr__(self) -> str:  # bodies run to megabytes: show their start and size
        return (
            f"Attempt({self.path + self.query!r}, {self.how!r}, authentic={self.authentic}, "
            f"headers={self.headers!r}, body[:500]={self.body[:500]!r} ({len(self.body)} bytes))"
        )


def seeds(vendor: str, prefix: str = "") -> list[Any]:
    return [
        json.loads(path.read_bytes())
        for path in sorted((FIXTURES / vendor).glob(f"{prefix}*.json"))
    ]


def with_content_type(headers: dict[str, str], content_type: str | None) -> dict[str, str]:
    return headers if content_type is None else {**headers, "Content-Type": content_type}


# --- shared token: Zencoder, LightFlow --------------------------------------------------------


def token_attempts(vendor: str, body: Bodies = None) -> st.SearchStrategy[Attempt]:
    token = TOKENS[vendor]
    other = next(t for v, t in TOKENS.items() if v != vendor)
    authentic = st.sampled_from(
        [
            ("basic", basic_auth(token), ""),
            ("basic-any-user", basic_auth(token, user=""), ""),
            ("header", {"X-Receiver-Token": token}, ""),
            ("query", {}, f"?token={quote(token)}"),
            ("query-and-junk", {}, f"?a=%ff&token={quote(token)}&token=x"),
        ]
    )
    wrong = header_text.filter(lambda text: text.strip() and text != token)
    forged = st.one_of(
        st.just(("missing", {}, "")),
        st.just(("other-vendor", {"X-Receiver-Token": other}, "")),
        st.just(("prefix", {"X-Receiver-Token": token[:-1]}, "")),
        st.just(("suffix", {"X-Receiver-Token": token + "0"}, "")),
        st.just(("upper", {"X-Receiver-Token": token.upper()}, "")),
        st.just(("bearer", {"Authorization": f"Bearer {token}"}, "")),
        st.just(("basic-user-only", basic_auth("", user=token), "")),
        st.just(("basic-garbage", {"Authorization": "Basic !!!not-base64"}, "")),
        st.just(("empty-query", {}, "?token=")),
        wrong.map(lambda w: ("wrong-header", {"X-Receiver-Token": w}, "")),
        wrong.map(lambda w: ("wrong-basic", basic_auth(w), "")),
        wrong.map(lambda w: ("wrong-query", {}, "?token=" + quote(w.encode("latin-1")))),
    )

    body_strategy = bodies(seeds(vendor)) if body is None else body

    @st.composite
    def attempts(draw: st.DrawFn) -> Attempt:
        body = draw(body_strategy)
        is_authentic = draw(AUTHENTIC)
        how, headers, query = draw(authentic if is_authentic else forged)
        content_type = draw(content_types)
        return Attempt(
            f"/hooks/{vendor}",
            body,
            with_content_type(headers, content_type),
            query,
            is_authentic,
            how,
        )

    return attempts()


# --- HMAC of the body: Agora ------------------------------------------------------------------


def agora_signature(body: bytes, digest: Any, secret: str = AGORA_SECRET) -> str:
    return hmac.new(secret.encode(), body, digest).hexdigest()


def agora_attempts(path: str, prefix: str, body: Bodies = None) -> st.SearchStrategy[Attempt]:
    real = seeds("agora", prefix)
    body_strategy = bodies(real) if body is None else body

    @st.composite
    def attempts(draw: st.DrawFn) -> Attempt:
        body = draw(body_strategy)
        v2 = agora_signature(body, hashlib.sha256)
        v1 = agora_signature(body, hashlib.sha1)
        other = dumps(draw(mutated(real)))  # a genuine signature, replayed onto another body
        kinds = {
            "v2+v1": {"Agora-Signature-V2": v2, "Agora-Signature": v1},
            "v2": {"Agora-Signature-V2": v2},
            "v1": {"Agora-Signature": v1},
            "v2-upper-spaced": {"Agora-Signature-V2": f" {v2.upper()} "},
        }
        forgeries = {
            "missing": {},
            "other-secret": {"Agora-Signature-V2": agora_signature(body, hashlib.sha256, "x" * 32)},
            "truncated": {"Agora-Signature-V2": v2[:-2]},
            "v1-as-v2": {"Agora-Signature-V2": v1},
            "forged-v2-valid-v1": {"Agora-Signature-V2": "0" * 64, "Agora-Signature": v1},
            "replayed": {
                "Agora-Signature-V2": agora_signature(other, hashlib.sha256),
                "Agora-Signature": agora_signature(other, hashlib.sha1),
            },
            "garbage": {"Agora-Signature-V2": draw(header_text)},
        }
        if other == body:
            del forgeries["replayed"]
        is_authentic = draw(AUTHENTIC)
        how = draw(st.sampled_from(sorted(kinds if is_authentic else forgeries)))
        headers = (kinds if is_authentic else forgeries)[how]
        return Attempt(
            path,
            body,
            with_content_type(headers, draw(content_types)),
            authentic=is_authentic,
            how=how,
        )

    return attempts()


# --- Standard Webhooks: KVS -------------------------------------------------------------------

# Standard Webhooks message ids are printable ASCII.
WEBHOOK_IDS = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=","),
    min_size=1,
    max_size=40,
)
KVS_KEY = base64.b64decode(KVS_SECRET.removeprefix("whsec_"))


def kvs_signature(webhook_id: str, timestamp: int, body: bytes, key: bytes = KVS_KEY) -> str:
    # Over the raw bytes, as a sender in another language would sign; the receiver verifies them
    # byte for byte, so a signed body is authentic whether or not it is UTF-8.
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def kvs_attempts(body: Bodies = None) -> st.SearchStrategy[Attempt]:
    real = seeds("kvs")
    body_strategy = bodies(real) if body is None else body

    @st.composite
    def attempts(draw: st.DrawFn) -> Attempt:
        body = draw(body_strategy)
        webhook_id = draw(st.sampled_from(["msg_2f6b7c0e1d2a", "msg_x"]) | WEBHOOK_IDS)
        now = int(time.time())
        good = kvs_signature(webhook_id, now, body)

        def headers(timestamp: int, signature: str, msg_id: str = webhook_id) -> dict[str, str]:
            return {
                "webhook-id": msg_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": signature,
            }

        kinds = {
            "signed": headers(now, good),
            "signed-among-others": headers(now, f"v1,AAAA v2,xyz {good}"),
        }
        forgeries = {
            "missing": {},
            "no-signature": {"webhook-id": webhook_id, "webhook-timestamp": str(now)},
            "other-secret": headers(now, kvs_signature(webhook_id, now, body, b"k" * 32)),
            "replayed-old": headers(now - 600, kvs_signature(webhook_id, now - 600, body)),
            "from-the-future": headers(now + 600, kvs_signature(webhook_id, now + 600, body)),
            "other-id": headers(now, good, webhook_id + "0"),
            "other-body": headers(now, kvs_signature(webhook_id, now, body + b" ")),
            "truncated": headers(now, good[:-4]),
            "malformed": headers(now, draw(header_text)),
            "bad-timestamp": headers(0, good) | {"webhook-timestamp": draw(header_text)},
        }
        is_authentic = draw(AUTHENTIC)
        how = draw(st.sampled_from(sorted(kinds if is_authentic else forgeries)))
        chosen = (kinds if is_authentic else forgeries)[how]
        return Attempt(
            "/hooks/kvs",
            body,
            with_content_type(chosen, draw(content_types)),
            authentic=is_authentic,
            how=how,
        )

    return attempts()


# --- RSA-signed JSON envelopes: SNS -----------------------------------------------------------

SNS_SIGNER = SnsSigner()
OTHER_SIGNER = SnsSigner()  # a key whose certificate SNS never published
CONFIRM_URL = "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn="


class SnsServers:
    """Stands in for SNS's HTTPS hosts (the real fetcher refuses every other host): the one
    published certificate, subscription confirmations, and 404 for anything else."""

    def __init__(self, pem: bytes) -> None:
        self.pem = pem
        self.urls: list[str] = []

    def __call__(self, url: str) -> bytes:
        if not is_sns_url(url):
            raise ValueError("not an https://sns.<region>.amazonaws.com URL")
        self.urls.append(url)
        if url == CERT_URL:
            return self.pem
        if url.startswith(CONFIRM_URL):
            return b"<ConfirmSubscriptionResponse/>"
        raise urllib.error.HTTPError(url, 404, "Not Found", None, BytesIO(b"<Error/>"))  # type: ignore[arg-type]


def sns_attempts(body: Bodies = None) -> st.SearchStrategy[Attempt]:
    """``body`` here generates the alarm carried in a Notification's Message."""
    envelopes = seeds("sns")
    alarms = [json.loads(e["Message"]) for e in envelopes if e["Type"] == "Notification"]
    alarm_strategy = (
        st.one_of(st.builds(dumps, mutated(alarms)), bodies(alarms)) if body is None else body
    )

    @st.composite
    def attempts(draw: st.DrawFn) -> Attempt:
        # Chosen bodies travel as an alarm, so they need a Notification to carry them.
        choices = (
            envelopes if body is None else [e for e in envelopes if e["Type"] == "Notification"]
        )
        envelope = dict(draw(st.sampled_from(choices)))
        envelope["MessageId"] = draw(st.uuids().map(str) | st.text(max_size=40))
        if envelope["Type"] == "Notification":
            envelope["Message"] = draw(alarm_strategy).decode("utf-8", "replace")
        else:
            envelope["SubscribeURL"] = CONFIRM_URL + quote(SNS_TOPIC)
        if body is None and draw(st.booleans()):  # hostile values in the envelope itself
            envelope = draw(mutated([envelope]))
            if envelope.get("Type") == "SubscriptionConfirmation":
                # SNS signs only its own SubscribeURLs (confirming any other would be a 503).
                envelope["SubscribeURL"] = CONFIRM_URL + quote(SNS_TOPIC)
        version = draw(st.sampled_from(["1", "2"]))
        message_type = envelope.get("Type") if isinstance(envelope, dict) else None
        try:
            signed = SNS_SIGNER.sign(envelope, version)
        except (KeyError, TypeError, ValueError, AttributeError, UnicodeEncodeError):
            signed = None  # a signed field is not a string: only a forgery can carry it
        forgeries = {
            "unsigned": lambda: {**envelope, "SignatureVersion": version},
            "bad-base64": lambda: {**signed, "Signature": "!!!" + draw(header_text)},
            "random-signature": lambda: {
                **signed,
                "Signature": base64.b64encode(draw(st.binary(min_size=1, max_size=300))).decode(),
            },
            "other-key": lambda: OTHER_SIGNER.sign(envelope, version),
            "tampered": lambda: {**signed, "MessageId": str(signed["MessageId"]) + "0"},
            "cert-elsewhere": lambda: {
                **signed,
                "SigningCertURL": draw(
                    st.sampled_from(
                        [
                            "http://sns.eu-west-1.amazonaws.com/cert.pem",
                            "https://sns.eu-west-1.amazonaws.com.evil.example/cert.pem",
                            "https://user@sns.eu-west-1.amazonaws.com/cert.pem",
                            "https://sns.eu-west-1.amazonaws.com:8443/cert.pem",
                            "https://sns.eu-west-1.amazonaws.com/other.pem",
                            "file:///etc/passwd",
                        ]
                    )
                    | st.text(max_size=60)
                ),
            },
            "other-topic": lambda: SNS_SIGNER.sign(
                {**envelope, "TopicArn": "arn:aws:sns:eu-west-1:123456789012:other"}, version
            ),
            "bad-version": lambda: {
                **signed,
                "SignatureVersion": draw(st.sampled_from(["3", "", 1, None, "1 "])),
            },
        }
        if signed is None:  # a signed field is unsignable: only the unsigned forgery remains
            forgeries = {"unsigned": forgeries["unsigned"]}
        is_authentic = signed is not None and draw(AUTHENTIC)
        how = "signed" if is_authentic else draw(st.sampled_from(sorted(forgeries)))
        message = signed if is_authentic else forgeries[how]()
        raw = dumps(message, draw(st.booleans()))
        headers = {"x-amz-sns-message-type": message_type} if message_type in MESSAGE_TYPES else {}
        return Attempt(
            "/hooks/sns",
            raw,
            with_content_type(headers, draw(content_types)),
            authentic=is_authentic and sns_authentic(message, raw),
            how=how,
        )

    return attempts()


def sns_authentic(message: dict[str, Any], body: bytes) -> bool:
    """Signed by SNS for our topic, in an envelope the receiver can read."""
    try:
        json.loads(body)
    except (ValueError, RecursionError):
        return False
    return message.get("TopicArn") == SNS_TOPIC


#: The real payloads each endpoint's bodies start from (for SNS: the alarm in the Message).
SEEDS = {
    "zencoder": seeds("zencoder"),
    "lightflow": seeds("lightflow"),
    "agora": seeds("agora", "transcoder_"),
    "agora/api-errors": seeds("agora", "api_error_"),
    "kvs": seeds("kvs"),
    "sns": [json.loads(e["Message"]) for e in seeds("sns") if e["Type"] == "Notification"],
}

#: Each endpoint's attempts, optionally with bodies of the caller's choosing.
ENDPOINTS: dict[str, Callable[[Bodies], st.SearchStrategy[Attempt]]] = {
    "zencoder": partial(token_attempts, "zencoder"),
    "lightflow": partial(token_attempts, "lightflow"),
    "agora": partial(agora_attempts, "/hooks/agora", "transcoder_"),
    "agora/api-errors": partial(agora_attempts, "/hooks/agora/api-errors", "api_error_"),
    "kvs": kvs_attempts,
    "sns": sns_attempts,
}
