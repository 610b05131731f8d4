"""Settings of the signed vendors: validated at start-up, each enough to enable a vendor."""

from __future__ import annotations

import pytest

from receiver.settings import SettingsError
from receiver.vendors import build_providers, default_catalog, load_settings
from receiver.vendors.sns import TOPIC_ARNS
from tests.vendors.agora.kit import AGORA_SECRET
from tests.vendors.kvs.kit import KVS_SECRET
from tests.vendors.sns.kit import SNS_TOPIC

BASE = {"RECEIVER_SECRET_KEY": "s" * 32}


@pytest.mark.parametrize(
    "variable,value,endpoints",
    [
        ("RECEIVER_AGORA_SECRET", AGORA_SECRET, ["agora", "agora/api-errors"]),
        ("RECEIVER_KVS_SECRET", KVS_SECRET, ["kvs"]),
        ("RECEIVER_SNS_TOPIC_ARNS", f" {SNS_TOPIC} , {SNS_TOPIC}-2 ", ["sns"]),
    ],
)
def test_each_signed_vendor_alone_enables_the_receiver(variable, value, endpoints):
    settings = load_settings({**BASE, variable: value})
    assert sorted(build_providers(settings, default_catalog())) == endpoints
    assert AGORA_SECRET not in repr(settings) and KVS_SECRET not in repr(settings)


def test_topic_list_is_split_and_trimmed():
    settings = load_settings({**BASE, "RECEIVER_SNS_TOPIC_ARNS": f"{SNS_TOPIC}, {SNS_TOPIC}-2"})
    assert TOPIC_ARNS.value(settings) == (SNS_TOPIC, f"{SNS_TOPIC}-2")


def test_signing_secrets_are_redacted_from_logs():
    settings = load_settings(
        {**BASE, "RECEIVER_AGORA_SECRET": AGORA_SECRET, "RECEIVER_KVS_SECRET": KVS_SECRET}
    )
    assert {AGORA_SECRET, KVS_SECRET} <= set(settings.secrets)


@pytest.mark.parametrize(
    "variable,value,mentions",
    [
        ("RECEIVER_AGORA_SECRET", "short", "RECEIVER_AGORA_SECRET is too short"),
        ("RECEIVER_KVS_SECRET", "not-a-whsec-secret-at-all", "RECEIVER_KVS_SECRET must be whsec_"),
        ("RECEIVER_KVS_SECRET", "whsec_c2hvcnQ=", "RECEIVER_KVS_SECRET must be whsec_"),
        ("RECEIVER_KVS_SECRET", "whsec_***not base64***", "RECEIVER_KVS_SECRET must be whsec_"),
        ("RECEIVER_SNS_TOPIC_ARNS", "kvs-alarms", "is not an SNS topic ARN"),
        ("RECEIVER_SNS_TOPIC_ARNS", "arn:aws:sqs:eu-west-1:123456789012:q", "not an SNS topic"),
    ],
)
def test_bad_values_stop_start_up_with_one_line(variable, value, mentions):
    with pytest.raises(SettingsError) as error:
        load_settings({**BASE, variable: value})
    assert mentions in str(error.value) and "\n" not in str(error.value)


def test_no_vendor_message_names_the_signed_vendors_too():
    with pytest.raises(SettingsError, match="RECEIVER_KVS_SECRET, RECEIVER_SNS_TOPIC_ARNS"):
        load_settings(BASE)
