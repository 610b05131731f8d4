"""The README's run command, for real: `receiver run` migrates SQLite and serves with gunicorn."""

from __future__ import annotations

import json
import re
import socket
import sqlite3
import subprocess
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from receiver.cli import read_env_file, write_env_file
from receiver.vendors.sns import EXAMPLE_TOPIC
from receiver.vendors.sns.local import new_key
from tests.conftest import REPO
from tests.helpers import basic_auth, fixture_bytes
from tests.servers import BIN, RECEIVER, clean_env, free_port, running_receiver


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


#: (VENDOR, FIXTURE, the endpoint it goes to, whose failures it makes): one of each vendor's
#: fixtures, as the README's loop sends them.
EVERY_VENDOR = [
    ("zencoder", "output_failed.xml", "zencoder", "zencoder"),
    ("lightflow", "asset_error_2404.json", "lightflow", "lightflow"),
    ("agora", "transcoder_status_failure_stop_112.json", "agora", "agora"),
    ("agora", "api_error_409.json", "agora/api-errors", "agora"),
    ("kvs", "batch_after_offline.json", "kvs", "kvs"),
    ("sns", "subscription_confirmation.json", "sns", None),
    ("cloudwatch", "alarm_putmedia_success_alarm.json", "sns", "cloudwatch"),
]


def send_test(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(RECEIVER), "send-test", *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_send_test_signs_every_vendors_fixtures_and_moves_their_dates_to_now(served, served_env):
    """SNS too: `receiver run` on 127.0.0.1 generated its local stand-in's key, which this
    command reads from the env file."""
    url, _token, database, _process = served
    for vendor, fixture, endpoint, failing in EVERY_VENDOR:
        sent = send_test(served_env, vendor, fixture, "--url", url)
        assert sent.returncode == 0, sent.stderr + sent.stdout
        assert sent.stdout.startswith(("202 ", "200 ")) and '"accepted"' in sent.stdout
        assert f"-> {url}/hooks/{endpoint} (dates moved to now)" in sent.stderr
        if failing is None:
            continue
        with sqlite3.connect(database) as connection:
            occurred = connection.execute(
                "SELECT occurred_at FROM failures WHERE vendor = ? ORDER BY id DESC LIMIT 1",
                (failing,),
            ).fetchone()
        assert occurred, f"{vendor} {fixture} made no failure"
        age = datetime.now(UTC) - datetime.fromisoformat(occurred[0]).replace(tzinfo=UTC)
        assert timedelta(0) <= age < timedelta(hours=2), (fixture, occurred)


def test_send_test_keep_dates_sends_the_fixture_as_it_is(served, served_env):
    url, _token, database, _process = served
    sent = send_test(served_env, "lightflow", "asset_error_2404.json", "--url", url, "--keep-dates")
    assert sent.returncode == 0 and "(dates as they are)" in sent.stderr
    with sqlite3.connect(database) as connection:
        [(occurred,)] = connection.execute("SELECT occurred_at FROM failures").fetchall()
    assert occurred.startswith("2024-05-14 10:20:21")  # the fixture's endDate


def test_send_test_names_the_vendors_and_routes_and_lists_fixtures(tmp_path):
    """No server needed: what is wrong is said before anything is sent."""
    env = clean_env(
        RECEIVER_SECRET_KEY="send-test-secret-key-0123456789",
        RECEIVER_AGORA_SECRET="send-test-agora-secret-0123456789",
    )
    unknown = send_test(env, "foo", "output_failed.json")
    assert unknown.returncode == 2
    assert "no vendor 'foo': VENDOR is one of agora, agora/api-errors, cloudwatch, kvs" in (
        unknown.stderr
    )
    elsewhere = send_test(env, "sns", "alarm_putmedia_success_alarm.json")
    assert "is a fixture of cloudwatch, not of sns: `receiver send-test cloudwatch " in (
        elsewhere.stderr
    )
    disabled = send_test(env, "kvs", "batch_after_offline.json")
    assert disabled.returncode == 1
    assert "/hooks/kvs is not enabled here: RECEIVER_KVS_SECRET is set neither" in disabled.stderr
    listed = send_test(env, "agora")
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"api_error_404\.json +-> /hooks/agora/api-errors", listed.stdout)
    assert re.search(r"transcoder_started_110\.json +-> /hooks/agora\n", listed.stdout)
    # An endpoint named outright is obeyed, with a word about the fixture's own.
    port = free_port()  # nothing listens: the note comes before the attempt
    asked = send_test(
        env, "agora/api-errors", "transcoder_started_110.json", "--url", f"http://127.0.0.1:{port}"
    )
    assert "transcoder_started_110.json is a fixture of /hooks/agora; sending it to " in (
        asked.stderr
    )
    assert f"cannot reach http://127.0.0.1:{port}/hooks/agora/api-errors" in asked.stderr


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


def test_only_receiver_run_on_a_loopback_address_starts_with_the_local_sns_key(tmp_path):
    """The key a local trial generated, then a start where others can reach the hooks: one
    line, no server."""
    write_env_file(
        tmp_path / "receiver.env",
        {"RECEIVER_SNS_LOCAL_SIGNING_KEY": new_key(), "RECEIVER_SNS_TOPIC_ARNS": EXAMPLE_TOPIC},
    )
    refusal = "RECEIVER_SNS_LOCAL_SIGNING_KEY is set, but only `receiver run` on a loopback address"

    public = subprocess.run(
        [str(RECEIVER), "run", "--host", "0.0.0.0", "--port", str(free_port())],
        env=clean_env(RECEIVER_INSTANCE_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert public.returncode == 1 and refusal in public.stderr, public.stderr
    assert "serving" not in public.stdout and "Traceback" not in public.stderr

    production = subprocess.run(
        [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--no-control-socket", "wsgi:app"],
        cwd=REPO,
        env=clean_env(
            **read_env_file(tmp_path / "receiver.env"),
            GUNICORN_BIND=f"127.0.0.1:{free_port()}",
            PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert production.returncode != 0
    [line] = [line for line in production.stderr.splitlines() if "configuration error" in line]
    assert refusal in line and "Traceback" not in production.stderr
    assert "Booting worker" not in production.stderr  # refused by the master, before any worker
