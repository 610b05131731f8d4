"""The env file of a local install, ``<instance>/receiver.env``.

``receiver run`` writes into it, on first start, a value for every setting whose declaration
says how to make a local one (:attr:`receiver.settings.Setting.local_value`: the secret key, the
admin password, every vendor's secret that can be tried locally) and that is set nowhere else.
Every ``receiver`` command reads it for the settings missing from the environment, so a command
typed in a second terminal uses the running server's secrets and database without sourcing
anything; it is ``export NAME=value`` lines, so a shell can source it too.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from receiver.settings import ADMIN_PASSWORD, ADMIN_PASSWORD_HASH
from receiver.vendors import SETTINGS

#: Where `receiver run` keeps the SQLite file and the env file: the Flask app's instance path.
INSTANCE_DIR = Path(
    os.environ.get("RECEIVER_INSTANCE_DIR") or Path(__file__).resolve().parent.parent / "instance"
)
ENV_FILE = INSTANCE_DIR / "receiver.env"


def ensure_local_secrets(path: Path, loopback: bool) -> str | None:
    """Fill the settings that have a local value and are missing from the environment from
    ``path``, generating the ones it lacks (the file is created with mode 0600).

    Values in the environment win, then those in the file; ``loopback``: the server will
    listen on a loopback address (some values serve local trials only). Returns one line
    saying what was generated, or None.
    """
    wanted = [s for s in SETTINGS if s.local_value and (loopback or not s.loopback_only)]
    if os.environ.get(ADMIN_PASSWORD_HASH.variable):  # a hash and a password conflict
        wanted.remove(ADMIN_PASSWORD)
    missing = [setting for setting in wanted if not os.environ.get(setting.variable)]
    existed, stored = path.exists(), read_env_file(path)
    generated = {
        setting.variable: setting.local_value()
        for setting in missing
        if setting.local_value and not stored.get(setting.variable)
    }
    if generated:
        write_env_file(path, stored | generated)
    for setting in missing:
        os.environ[setting.variable] = (stored | generated)[setting.variable]
    if not generated:
        return None
    names = ", ".join(generated)
    if existed:
        return f"added {names} to {path} (this version can generate them; it lacked them)"
    return f"generated {names} into {path} (mode 0600)"


def load_env_file(path: Path) -> list[str]:
    """Set the variables of ``path`` that the environment lacks; returns their names."""
    supplied = {
        name: value
        for name, value in read_env_file(path).items()
        if value and not os.environ.get(name)
    }
    os.environ.update(supplied)
    return list(supplied)


def write_env_file(path: Path, values: dict[str, str]) -> None:
    """``export NAME=value`` lines (mode 0600), so a shell can also source the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(
        "# Written by `receiver run`; every `receiver` command reads it. `. FILE` in a shell.\n"
        + "".join(f"export {name}={shlex.quote(value)}\n" for name, value in sorted(values.items()))
    )


def read_env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` or ``export NAME=value`` lines (shell quoting allowed; # comments)."""
    if not path.exists():
        return {}
    values = {}
    for line in path.read_text().splitlines():
        words = shlex.split(line, comments=True)
        if words[:1] == ["export"]:
            words = words[1:]
        if len(words) == 1 and "=" in words[0]:
            name, value = words[0].split("=", 1)
            values[name.strip()] = value
    return values


def where_settings_come_from() -> str:
    """For an error about a setting: where the receiver looked."""
    if ENV_FILE.exists():
        return f"(settings come from the environment, then {ENV_FILE})"
    return (
        f"(settings come from the environment, then {ENV_FILE}, which does not exist: "
        "`make run` writes it on first start; if your receiver keeps it elsewhere, set "
        "RECEIVER_INSTANCE_DIR to that folder)"
    )
