"""Settings come from the environment; a bad one stops start-up with one clear line."""

from __future__ import annotations

import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from receiver.settings import SettingsError
from receiver.vendors import SETTINGS, load_settings
from tests.servers import clean_env

REPO = Path(__file__).resolve().parent.parent
GOOD = {
    "RECEIVER_SECRET_KEY": "s" * 32,
    "RECEIVER_ZENCODER_TOKEN": "z" * 24,
}


def test_defaults_to_sqlite_under_the_instance_folder(tmp_path):
    settings = load_settings(GOOD, instance_path=tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'receiver.sqlite3'}"
    assert settings.vendor_values == {"RECEIVER_ZENCODER_TOKEN": "z" * 24}
    assert settings.max_body_bytes == 1024 * 1024


def test_bare_postgresql_url_uses_psycopg3():
    settings = load_settings({**GOOD, "DATABASE_URL": "postgresql://u:pw@db/receiver"})
    assert settings.database_url.startswith("postgresql+psycopg://")


def test_repr_hides_secrets():
    settings = load_settings({**GOOD, "DATABASE_URL": "postgresql://u:hunter2hunter2@db/x"})
    assert "hunter2" not in repr(settings) and "z" * 24 not in repr(settings)


@pytest.mark.parametrize(
    "environ,mentions",
    [
        ({"RECEIVER_ZENCODER_TOKEN": "z" * 24}, "RECEIVER_SECRET_KEY"),
        ({"RECEIVER_SECRET_KEY": "s" * 32}, "no vendor is enabled"),
        ({**GOOD, "RECEIVER_LIGHTFLOW_TOKEN": "short"}, "RECEIVER_LIGHTFLOW_TOKEN is too short"),
        ({**GOOD, "DATABASE_URL": "mysql://x@y/z"}, "DATABASE_URL must be"),
        ({**GOOD, "DATABASE_URL": "::not a url::"}, "DATABASE_URL is not a valid"),
        (
            {**GOOD, "RECEIVER_MAX_BODY_BYTES": "1MB"},
            "RECEIVER_MAX_BODY_BYTES must be a whole number",
        ),
        ({**GOOD, "RECEIVER_MAX_BODY_BYTES": "0"}, "greater than zero"),
    ],
)
def test_bad_settings_raise_one_line(environ, mentions):
    with pytest.raises(SettingsError) as error:
        load_settings(environ)
    assert mentions in str(error.value)
    assert "\n" not in str(error.value)


def run_command(
    args: list[str], environ: dict[str, str], cwd: Path = REPO
) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, env=clean_env(**environ), cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_cli_start_up_error_is_one_line_without_traceback():
    result = run_command(
        [str(Path(sys.executable).parent / "receiver"), "db", "upgrade"],
        {"RECEIVER_ZENCODER_TOKEN": "z" * 24},
    )
    assert result.returncode != 0
    assert "RECEIVER_SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_gunicorn_start_up_error_is_one_line_without_traceback(tmp_path):
    result = run_command(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--no-control-socket",
            "-b",
            "127.0.0.1:0",
            "wsgi:app",
        ],
        {"RECEIVER_SECRET_KEY": "s" * 32, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"},
    )
    assert result.returncode != 0
    assert "configuration error: no vendor is enabled" in result.stderr
    assert "Traceback" not in result.stderr


# --- declared once ------------------------------------------------------------------------------

SETTINGS_TABLE = runpy.run_path(str(REPO / "scripts" / "settings_table.py"))


def test_the_readmes_configuration_table_is_made_from_the_declarations():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert SETTINGS_TABLE["readme_table"](readme) == SETTINGS_TABLE["table"](), (
        "README's Configuration table differs from the declarations: "
        "run `python scripts/settings_table.py --write`"
    )


def test_every_variable_the_code_reads_is_declared():
    """A variable read by name anywhere in the app (or its gunicorn config) has a declaration,
    so it is in the README's table."""
    declared = {setting.variable for setting in SETTINGS}
    sources = [*sorted((REPO / "receiver").rglob("*.py")), REPO / "gunicorn.conf.py"]
    named = {
        (name, path.relative_to(REPO))
        for path in sources
        for name in re.findall(
            r"\"((?:RECEIVER|GUNICORN|PROMETHEUS)_[A-Z_]+|DATABASE_URL)\"", path.read_text()
        )
    }
    assert len(named) > 25
    assert {(name, str(path)) for name, path in named if name not in declared} == set()


def test_each_setting_is_declared_once():
    variables = [setting.variable for setting in SETTINGS]
    assert len(variables) == len(set(variables))


def test_gunicorn_runs_one_process_on_sqlite_unless_told_otherwise():
    from receiver.settings import server_shape

    # One writer at a time: threads of one process take turns without SQLite's busy sleeps.
    assert server_shape({}) == (1, 8)  # unset: the instance's SQLite file
    assert server_shape({"DATABASE_URL": "sqlite:////srv/receiver.sqlite3"}) == (1, 8)
    assert server_shape({"DATABASE_URL": "postgresql://receiver@db/receiver"}) == (2, 4)
    told = {"DATABASE_URL": "sqlite:///x.sqlite3", "GUNICORN_WORKERS": "3", "GUNICORN_THREADS": "2"}
    assert server_shape(told) == (3, 2)
    assert server_shape({"DATABASE_URL": "sqlite:///x.sqlite3", "GUNICORN_WORKERS": "2"}) == (2, 8)


@pytest.mark.parametrize(
    ("url", "shape"), [("sqlite:///x.sqlite3", (1, 8)), ("postgresql://db/receiver", (2, 4))]
)
def test_gunicorn_conf_takes_its_shape_from_the_database(monkeypatch, tmp_path, url, shape):
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("GUNICORN_WORKERS", raising=False)
    monkeypatch.delenv("GUNICORN_THREADS", raising=False)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    config = runpy.run_path(str(REPO / "gunicorn.conf.py"))
    assert (config["workers"], config["threads"]) == shape
