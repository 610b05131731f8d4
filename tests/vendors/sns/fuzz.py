"""Hostile requests to the SNS endpoint: RSA-signed JSON envelopes, genuine and forged, carrying
what the vendors SNS carries send (a CloudWatch alarm) or hostile messages."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

from schemas.sns import MESSAGE_TYPES
from tests.fuzz.attempts import AUTHENTIC, Attempt, Bodies, Fuzzer, with_content_type
from tests.fuzz.strategies import bodies, content_types, dumps, header_text, mutated
from tests.vendors.sns.kit import CONFIRM_URL, SNS_SIGNER, SNS_TOPIC, SnsSigner

OTHER_SIGNER = SnsSigner()  # a key whose certificate SNS never published


def carried(envelopes: list[Any]) -> list[Any]:
    """The messages the Notifications carry: what a chosen body stands for."""
    return [json.loads(e["Message"]) for e in envelopes if e["Type"] == "Notification"]


def sns_attempts(envelopes: list[Any], body: Bodies = None) -> st.SearchStrategy[Attempt]:
    """``body`` here generates the message carried in a Notification's Message."""
    messages = carried(envelopes)
    message_strategy = (
        st.one_of(st.builds(dumps, mutated(messages)), bodies(messages)) if body is None else body
    )

    @st.composite
    def attempts(draw: st.DrawFn) -> Attempt:
        # Chosen bodies travel as a message, so they need a Notification to carry them.
        choices = (
            envelopes if body is None else [e for e in envelopes if e["Type"] == "Notification"]
        )
        envelope = dict(draw(st.sampled_from(choices)))
        envelope["MessageId"] = draw(st.uuids().map(str) | st.text(max_size=40))
        if envelope["Type"] == "Notification":
            envelope["Message"] = draw(message_strategy).decode("utf-8", "replace")
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


FUZZERS = {"sns": Fuzzer(sns_attempts, body_seeds=carried)}
