"""The README's run command, for real: `receiver run` migrates SQLite and serves with gunicorn."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import urllib.request

import pytest

from receiver.cli import read_env_file
from tests.helpers import basic_auth, fixture_bytes
from tests.servers import RECEIVER, clean_env, running_receiver


@pytest.fixture
def served_env(tmp_path) -> dict[str, str]:
    return clean_env(
        **{
            "DATABASE_URL": f"sqlite:///{tmp_path / 'receiver.sqlite3'}",
            # Generated secrets (the admin password) go here, not into the checkout's instance/.
            "RECEIVER_INSTANCE_DIR": str(tmp_path),
            "RECEIVER_SECRET_KEY": "served-secret-key-0123456789",
            "RECEIVER_ZENCODER_TOKEN": "served-zencoder-token-0123456789",
            "RECEIVER_LIGHTFLOW_TOKEN": "served-lightflow-token-0123456789",
            "RECEIVER_AGORA_SECRET": "served-agora-secret-0123456789",
            "RECEIVER_KVS_SECRET": "whsec_c2VydmVkLWt2cy1zZWNyZXQtMDEyMzQ1Njc4OWFiY2RlZg==",
        }
    )


@pytest.fixture
def served(tmp_path, served_env):
    with running_receiver(served_env) as (url, process):
        yield url, served_env["RECEIVER_ZENCODER_TOKEN"], tmp_path / "receiver.sqlite3", process


def test_fresh_install_generates_its_secrets_and_serves(tmp_path):
    """What `make run` does on a new machine: no secrets, no DATABASE_URL in the environment."""
    with running_receiver(clean_env(RECEIVER_INSTANCE_DIR=str(tmp_path))) as (url, _process):
        secrets = read_env_file(tmp_path / "receiver.env")
        assert (tmp_path / "receiver.env").stat().st_mode & 0o777 == 0o600
        request = urllib.request.Request(
            f"{url}/hooks/lightflow",
            data=fixture_bytes("lightflow", "asset_error_2404.json"),
            headers={
                "Content-Type": "application/json",
                "X-Receiver-Token": secrets["RECEIVER_LIGHTFLOW_TOKEN"],
            },
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202
        assert (tmp_path / "receiver.sqlite3").exists()


def test_receiver_run_serves_and_stores_a_failure(served):
    url, token, database, process = served
    request = urllib.request.Request(
        f"{url}/hooks/zencoder?token={token}",
        data=fixture_bytes("zencoder", "output_failed.json"),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202
        notification_id = json.load(response)["id"]

    with sqlite3.connect(database) as connection:
        codes = connection.execute(
            "SELECT code FROM failures WHERE notification_id = ?", (notification_id,)
        ).fetchall()
    assert codes == [("TranscodingError",)]

    process.terminate()
    output = process.communicate(timeout=30)[0]
    assert "POST /hooks/zencoder" in output  # the access log ran ...
    assert token not in output  # ... and never shows the token from the query string


def test_basic_auth_user_in_url_works_under_gunicorn(served):
    url, token, _database, _process = served
    request = urllib.request.Request(
        f"{url}/hooks/zencoder",
        data=fixture_bytes("zencoder", "output_backup_server_used.json"),
        headers={"Content-Type": "application/json", **basic_auth(token)},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202


@pytest.mark.parametrize(
    "vendor,fixture",
    [
        ("zencoder", "output_failed.xml"),
        ("lightflow", "asset_error_2404.json"),
        ("agora", "transcoder_status_failure_stop_112.json"),
        ("kvs", "batch_after_offline.json"),
    ],
)
def test_send_test_signs_like_the_vendor(served, served_env, vendor, fixture):
    url, _token, database, _process = served
    result = subprocess.run(
        [str(RECEIVER), "send-test", vendor, fixture, "--url", url],
        env=served_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert result.stdout.startswith(("202 ", "200 ")) and '"accepted"' in result.stdout
    with sqlite3.connect(database) as connection:
        [(count,)] = connection.execute(
            "SELECT count(*) FROM failures WHERE vendor = ?", (vendor,)
        ).fetchall()
    assert count >= 1


def test_send_test_with_a_wrong_secret_is_refused(served, served_env):
    url, *_ = served
    env = served_env | {"RECEIVER_AGORA_SECRET": "a-different-agora-secret-0123"}
    result = subprocess.run(
        [str(RECEIVER), "send-test", "agora", "transcoder_started_110.json", "--url", url],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1 and result.stdout.startswith("401 ")


def test_a_second_terminal_needs_no_variables(tmp_path):
    """`make run` in one terminal; in another, with nothing exported, `receiver send-test` and
    `receiver alerts list` use the secrets and database the running server generated."""
    instance = clean_env(RECEIVER_INSTANCE_DIR=str(tmp_path))
    with running_receiver(instance) as (url, _process):
        sent = subprocess.run(
            [str(RECEIVER), "send-test", "lightflow", "asset_error_2404.json", "--url", url],
            env=instance,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert sent.returncode == 0, sent.stderr + sent.stdout
        assert sent.stdout.startswith("202 ")
        assert f"read from {tmp_path / 'receiver.env'}" in sent.stderr
        listed = subprocess.run(
            [str(RECEIVER), "export", "--vendor", "lightflow"],
            env=instance,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert listed.returncode == 0, listed.stderr
        assert "2404" in listed.stdout  # the failure the server stored, read from its database


def test_the_env_file_can_be_sourced_by_a_shell(tmp_path):
    with running_receiver(clean_env(RECEIVER_INSTANCE_DIR=str(tmp_path))):
        generated = read_env_file(tmp_path / "receiver.env")
    # `. instance/receiver.env` exports the variables (as the README's curl example needs).
    shell = subprocess.run(
        [
            "sh",
            "-c",
            '. "$1" && sh -c \'printf %s "$RECEIVER_LIGHTFLOW_TOKEN"\'',
            "sh",
            str(tmp_path / "receiver.env"),
        ],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert shell.stdout == generated["RECEIVER_LIGHTFLOW_TOKEN"] != ""


def test_a_missing_secret_names_the_env_file(tmp_path):
    result = subprocess.run(
        [str(RECEIVER), "alerts", "list"],
        env=clean_env(RECEIVER_INSTANCE_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "RECEIVER_SECRET_KEY is not set" in result.stderr
    assert str(tmp_path / "receiver.env") in result.stderr and "make run" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_is_the_products_own():
    result = subprocess.run(
        [str(RECEIVER), "--help"], env=clean_env(), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stderr == ""
    for flask_internal in ("--app", "--env-file", "Flask", " routes ", " shell "):
        assert flask_internal not in result.stdout
    for vendor in ("Zencoder", "LightFlow", "Agora", "Kinesis Video Streams", "SNS"):
        assert vendor in result.stdout
    commands = result.stdout.split("Commands:")[1]
    for command in ("run", "send-test", "worker", "alerts", "codes", "export", "replay", "prune",
                    "groups", "failures", "backups"):  # fmt: skip
        assert f"  {command} " in commands


@pytest.mark.parametrize(
    "command",
    ["run", "send-test", "export", "alerts", "replay", "worker", "groups", "failures", "backups"],
)
def test_every_command_help_shows_an_example(command):
    result = subprocess.run(
        [str(RECEIVER), command, "--help"],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert f"receiver {command} " in result.stdout.split("Example")[1]


def test_a_busy_port_is_named_at_once(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [str(RECEIVER), "run", "--port", str(port)],
            env=clean_env(RECEIVER_INSTANCE_DIR=str(tmp_path)),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert f"make run PORT={port + 1}" in result.stderr
    assert "serving" not in result.stdout  # nothing claimed to be served
