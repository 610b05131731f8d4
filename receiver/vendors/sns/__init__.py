"""Amazon SNS HTTP(S) subscriptions: a signed transport for the vendors it carries."""

from __future__ import annotations

from pathlib import Path

from receiver.settings import Setting, sns_topic_arns
from receiver.vendors.declaration import Vendor, enabled_by
from receiver.vendors.sns.provider import SnsProvider

TOPIC_ARNS = Setting[tuple[str, ...] | None](
    "RECEIVER_SNS_TOPIC_ARNS",
    "comma-separated SNS topic ARNs whose messages (and subscriptions) are accepted",
    None,
    sns_topic_arns,
    shown_default="unset = SNS disabled",
)


VENDOR = Vendor(
    name="sns",
    title="Amazon SNS",
    folder=Path(__file__).parent,
    settings=(TOPIC_ARNS,),
    endpoints=enabled_by(
        TOPIC_ARNS, lambda topics, wiring: {"sns": SnsProvider(topics, wiring.carried)}
    ),
    docs={
        "http-subscriptions": "https://docs.aws.amazon.com/sns/latest/dg/sns-http-https-endpoint-as-subscriber.html",
        "verify-signatures": "https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html",
    },
)
