"""Amazon SNS HTTP(S) subscriptions: a signed transport for the vendors it carries."""

from __future__ import annotations

from pathlib import Path

from receiver.settings import Setting, SettingsError, sns_topic_arns
from receiver.vendors.base import Provider
from receiver.vendors.declaration import Start, Vendor, Wiring
from receiver.vendors.fixture_dates import FixtureDates
from receiver.vendors.sns.local import LocalSns, new_key, signing_key
from receiver.vendors.sns.provider import SnsProvider

#: The topic of the README's example and of the fixtures (123456789012 is the account AWS's
#: documentation uses): what a local trial subscribes to.
EXAMPLE_TOPIC = "arn:aws:sns:eu-west-1:123456789012:video-pipeline-events"

TOPIC_ARNS = Setting[tuple[str, ...] | None](
    "RECEIVER_SNS_TOPIC_ARNS",
    "comma-separated SNS topic ARNs whose messages (and subscriptions) are accepted",
    None,
    sns_topic_arns,
    shown_default=(
        "unset = SNS disabled; `receiver run` on 127.0.0.1 sets the example topic of the README "
        "and the fixtures"
    ),
    local_value=lambda: EXAMPLE_TOPIC,
    loopback_only=True,
)
LOCAL_SIGNING_KEY = Setting[str | None](
    "RECEIVER_SNS_LOCAL_SIGNING_KEY",
    "local trials only: the key of a stand-in for SNS (`receiver send-test sns` signs with it); "
    "only `receiver run` on a loopback address trusts it, and a server started otherwise "
    "(gunicorn, another address) refuses to start while it is set",
    None,
    signing_key,
    secret=True,
    shown_default="unset; `receiver run` on 127.0.0.1 generates one",
    local_value=new_key,
    loopback_only=True,
)


def endpoints(wiring: Wiring) -> dict[str, Provider]:
    """``/hooks/sns`` while topics are set; the local stand-in trusted in a local trial only."""
    key = LOCAL_SIGNING_KEY.value(wiring.settings)
    if key and wiring.start is Start.SERVER:
        raise SettingsError(
            f"{LOCAL_SIGNING_KEY.variable} is set, but only `receiver run` on a loopback address "
            "may trust the local SNS stand-in it signs for: unset it, or delete its line from "
            "the env file `receiver run` wrote"
        )
    topics = TOPIC_ARNS.value(wiring.settings)
    if not topics:
        return {}
    local = LocalSns(key) if key else None
    trusted = wiring.start is Start.LOCAL_TRIAL
    return {"sns": SnsProvider(topics, wiring.carried, local=local, trust_local=trusted)}


VENDOR = Vendor(
    name="sns",
    title="Amazon SNS",
    folder=Path(__file__).parent,
    settings=(TOPIC_ARNS, LOCAL_SIGNING_KEY),
    endpoints=endpoints,
    docs={
        "http-subscriptions": "https://docs.aws.amazon.com/sns/latest/dg/sns-http-https-endpoint-as-subscriber.html",
        "verify-signatures": "https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html",
    },
    fixture_dates=FixtureDates(iso=("Timestamp",)),
)
