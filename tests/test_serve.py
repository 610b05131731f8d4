"""The README's run command, for real: `receiver run` migrates SQLite and serves with gunicorn."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import urllib.request

import pytest

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
        secrets = dict(
            line.split("=", 1) for line in (tmp_path / "receiver.env").read_text().splitlines()
        )
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
