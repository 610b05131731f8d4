"""The env file of a local install: what the first start generates, what wins, what an older
file gains. (The running server reading it, and a second terminal too: ``tests/test_serve.py``.)"""

from __future__ import annotations

import os
import re
from unittest import mock

import pytest

from receiver.local_env import ensure_local_secrets, read_env_file, write_env_file
from receiver.vendors import SETTINGS, Start, build_providers, default_catalog, load_settings
from receiver.vendors.kvs import SECRET as KVS_SECRET
from receiver.vendors.sns import LOCAL_SIGNING_KEY, TOPIC_ARNS
from tests.conftest import REPO

#: What the vendors that can be tried locally need (a new vendor may add its own): their
#: folders declare it, nothing in the CLI lists it.
LOCAL_VENDOR_SETTINGS = {
    "RECEIVER_ZENCODER_TOKEN",
    "RECEIVER_LIGHTFLOW_TOKEN",
    "RECEIVER_AGORA_SECRET",
    "RECEIVER_KVS_SECRET",
    "RECEIVER_SNS_TOPIC_ARNS",
    "RECEIVER_SNS_LOCAL_SIGNING_KEY",
}


@pytest.fixture
def environ():
    """This process's environment without any receiver setting, restored afterwards."""
    with mock.patch.dict(os.environ):
        for name in [n for n in os.environ if n.startswith(("RECEIVER_", "DATABASE_URL"))]:
            del os.environ[name]
        yield os.environ


def test_first_start_generates_every_local_value_the_settings_declare(environ, tmp_path):
    env_file = tmp_path / "receiver.env"
    said = ensure_local_secrets(env_file, loopback=True)

    stored = read_env_file(env_file)
    declared = {s.variable for s in SETTINGS if s.local_value}
    assert set(stored) == declared
    assert declared >= LOCAL_VENDOR_SETTINGS | {"RECEIVER_SECRET_KEY", "RECEIVER_ADMIN_PASSWORD"}
    assert env_file.stat().st_mode & 0o777 == 0o600
    names = ", ".join(stored_in_declared_order(stored))
    assert said == f"generated {names} into {env_file} (mode 0600)"
    # Each in the form its setting parses: KVS's is a whsec_ secret, SNS's a usable key.
    settings = load_settings(stored)
    assert KVS_SECRET.value(settings).startswith("whsec_")
    assert LOCAL_SIGNING_KEY.value(settings) and TOPIC_ARNS.value(settings)
    assert all(environ[name] == value for name, value in stored.items())
    endpoints = build_providers(settings, default_catalog(), Start.LOCAL_TRIAL)
    assert set(endpoints) >= {"agora", "agora/api-errors", "kvs", "lightflow", "sns", "zencoder"}


def stored_in_declared_order(stored: dict[str, str]) -> list[str]:
    return [s.variable for s in SETTINGS if s.variable in stored]


def test_values_in_the_environment_win_then_those_in_the_file(environ, tmp_path):
    env_file = tmp_path / "receiver.env"
    write_env_file(env_file, {"RECEIVER_AGORA_SECRET": "agora-secret-from-the-file-0123"})
    environ["RECEIVER_ZENCODER_TOKEN"] = "zencoder-token-from-the-env-0123"

    ensure_local_secrets(env_file, loopback=True)

    stored = read_env_file(env_file)
    assert environ["RECEIVER_ZENCODER_TOKEN"] == "zencoder-token-from-the-env-0123"
    assert "RECEIVER_ZENCODER_TOKEN" not in stored  # never copied into the file
    assert environ["RECEIVER_AGORA_SECRET"] == stored["RECEIVER_AGORA_SECRET"]
    assert stored["RECEIVER_AGORA_SECRET"] == "agora-secret-from-the-file-0123"


def test_an_older_env_file_gains_what_this_version_generates(environ, tmp_path):
    """A file from a version that generated only the Zencoder and LightFlow tokens."""
    env_file = tmp_path / "receiver.env"
    older = {
        "RECEIVER_SECRET_KEY": "an-older-secret-key-0123456789",
        "RECEIVER_ADMIN_PASSWORD": "an-older-admin-password-0123",
        "RECEIVER_ZENCODER_TOKEN": "an-older-zencoder-token-0123",
        "RECEIVER_LIGHTFLOW_TOKEN": "an-older-lightflow-token-0123",
    }
    write_env_file(env_file, older)

    said = ensure_local_secrets(env_file, loopback=True)

    stored = read_env_file(env_file)
    assert stored.items() >= older.items()  # nothing it had is replaced
    added = [name for name in stored_in_declared_order(stored) if name not in older]
    assert set(added) >= {
        "RECEIVER_AGORA_SECRET",
        "RECEIVER_KVS_SECRET",
        "RECEIVER_SNS_TOPIC_ARNS",
        "RECEIVER_SNS_LOCAL_SIGNING_KEY",
    }
    assert said is not None and said.startswith(f"added {', '.join(added)} to {env_file}")
    assert ensure_local_secrets(env_file, loopback=True) is None  # nothing more to say


def test_a_server_on_a_public_address_gets_no_local_trial_values(environ, tmp_path):
    env_file = tmp_path / "receiver.env"
    ensure_local_secrets(env_file, loopback=False)
    stored = read_env_file(env_file)
    assert "RECEIVER_SNS_LOCAL_SIGNING_KEY" not in stored
    assert "RECEIVER_SNS_TOPIC_ARNS" not in stored
    assert {"RECEIVER_AGORA_SECRET", "RECEIVER_KVS_SECRET"} <= set(stored)
    # What it wrote lets it start as a server.
    build_providers(load_settings(stored), default_catalog(), Start.SERVER)


def test_a_password_hash_in_the_environment_means_no_generated_password(environ, tmp_path):
    environ["RECEIVER_ADMIN_PASSWORD_HASH"] = "scrypt:32768:8:1$salt$hash"
    ensure_local_secrets(tmp_path / "receiver.env", loopback=True)
    assert "RECEIVER_ADMIN_PASSWORD" not in read_env_file(tmp_path / "receiver.env")


def test_the_readme_names_exactly_what_the_first_start_generates():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    set_up = readme.split("## Set up: two commands")[1].split("**The whole loop in five minutes")[0]
    named = set(re.findall(r"`(RECEIVER_[A-Z_]+)`", set_up))
    assert named == {setting.variable for setting in SETTINGS if setting.local_value}
