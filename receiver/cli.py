"""The ``receiver`` command: serve, migrate, try it locally, explain codes, act on alerts.

Settings come from the environment and, for whatever is not set there, from the env file that
``receiver run`` writes on first start (``<instance>/receiver.env``): a command typed in a second
terminal talks to the same database with the same secrets as the running server without sourcing
anything. The group is plain click, not Flask's ``FlaskGroup``: ``receiver --help`` must work
without a configuration and show this product's commands, not Flask's (``routes``, ``shell``,
``--app``, ``--env-file``).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
import sys
import tempfile
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo, with_appcontext

from receiver import create_app
from receiver.admin.cli import export
from receiver.alerts.cli import alerts, worker
from receiver.alerts.triage_cli import failures, groups
from receiver.catalog import CatalogError
from receiver.catalog.cli import codes
from receiver.db import get_database, get_session, utcnow
from receiver.local_env import (
    ENV_FILE,
    ensure_local_secrets,
    load_env_file,
    read_env_file,
    where_settings_come_from,
    write_env_file,
)
from receiver.migrate import current_revision, head_revision, upgrade
from receiver.replay_cli import replay_command
from receiver.send_test import send_test
from receiver.settings import PUBLIC_URL, SettingsError, server_shape
from receiver.vendors import Start

# Kept here too: `from receiver.cli import read_env_file` is how scripts knew them.
__all__ = ["ensure_local_secrets", "load_env_file", "main", "read_env_file", "write_env_file"]


def load_app(start: Start = Start.COMMAND) -> Flask:
    """The app, configured from the environment and then the local env file."""
    supplied = load_env_file(ENV_FILE)
    if supplied:
        # stderr: stdout may be a CSV or JSON a script reads.
        click.echo(f"receiver: settings not in the environment read from {ENV_FILE}", err=True)
    try:
        return create_app(start=start)
    except SettingsError as error:
        # One line: an operator reads it in a crash loop's journal.
        raise click.ClickException(
            f"configuration error: {error} {where_settings_come_from()}"
        ) from None
    except CatalogError as error:
        raise click.ClickException(f"configuration error: {error}") from None


class ReceiverGroup(click.Group):
    """A click group whose commands can ask for the app (``flask.cli.with_appcontext``) and get
    it built by :func:`load_app` only when they run, never for ``--help``."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        extra.setdefault("obj", ScriptInfo(create_app=load_app, set_debug_flag=False))
        return super().make_context(info_name, args, parent=parent, **extra)


@click.group(
    cls=ReceiverGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=(
        "\b\nSettings come from the environment, then from <instance>/receiver.env, which\n"
        "`receiver run` writes on first start (instance: $RECEIVER_INSTANCE_DIR, default\n"
        "<checkout>/instance). `receiver COMMAND --help` shows examples."
    ),
)
@click.version_option(package_name="video-failure-receiver", prog_name="receiver")
def main() -> None:
    """Webhook receiver for video-pipeline failures: Zencoder, LightFlow, Agora Cloud
    Transcoding, Kinesis Video Streams, and CloudWatch alarms via Amazon SNS."""


main.add_command(codes)
main.add_command(export)
main.add_command(alerts)
main.add_command(worker)
main.add_command(groups)
main.add_command(failures)
main.add_command(replay_command)
main.add_command(send_test)


@main.group(
    epilog="\b\nExamples:\n  receiver db upgrade        # before new code starts (idempotent)\n"
    "  receiver db current"
)
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    upgrade(get_database(current_app).engine, revision)
    click.echo(f"database at {revision}")
    if revision == "head":
        group_stored_failures()


def group_stored_failures() -> None:
    """Failures stored by a version that grouped only what a rule alerted on get their group,
    so the landing page of an upgraded receiver shows them (a no-op once done)."""
    from receiver.alerts import alert_rules
    from receiver.alerts.groups import backfill_groups

    grouped, made = backfill_groups(get_session(), alert_rules(current_app), utcnow())
    if grouped:
        click.echo(f"receiver: grouped {grouped} stored failure(s) into {made} group(s)")


@db.command("current")
@with_appcontext
def db_current() -> None:
    """Show the database's migration revision and the code's head."""
    with get_database(current_app).engine.connect() as connection:
        click.echo(f"database: {current_revision(connection)}  head: {head_revision()}")


@main.command(
    "run",
    short_help="Migrate and serve the receiver with gunicorn, plus one alert worker.",
    epilog="\b\nExamples:\n  receiver run\n  receiver run --port 8001    # or: make run PORT=8001\n"
    "  RECEIVER_ALERT_URLS=json://127.0.0.1:9000/ receiver run",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option(
    "--workers",
    type=int,
    default=None,
    help="gunicorn worker processes  [default: GUNICORN_WORKERS, else 2, or 1 on SQLite]",
)
def run(host: str, port: int, workers: int | None) -> None:
    """Migrate the database and serve on HOST:PORT with gunicorn (the embedded default), with
    one alert worker beside it.

    Secrets not set in the environment are generated once into <instance>/receiver.env, which
    every other `receiver` command reads too; on 127.0.0.1 also what SNS needs to be tried
    without AWS (a local stand-in's signing key, which only such a start trusts).
    """
    _refuse_busy_port(host, port)
    loopback = _is_loopback(host)
    if generated := ensure_local_secrets(ENV_FILE, loopback):
        click.echo(f"receiver: {generated}")
    load_env_file(ENV_FILE)  # before the defaults below, which give way to it
    os.environ.setdefault("RECEIVER_LOG_FORMAT", "text")  # a person is reading this terminal
    # Alert links point here, not to the default port (`make run PORT=8001`).
    os.environ.setdefault(PUBLIC_URL.variable, f"http://{_link_host(host)}:{port}")
    # Before the app (and prometheus_client) loads: forked workers share metrics through files.
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="receiver-metrics-"))
    app = load_app(Start.LOCAL_TRIAL if loopback else Start.SERVER)
    database = get_database(app)
    upgrade(database.engine)
    with app.app_context():
        group_stored_failures()
    # Workers are forked from this process; they must not share its connections.
    database.engine.dispose()
    from receiver.server import serve

    click.echo(f"receiver: serving http://{host}:{port}/hooks/<vendor> (secrets: {ENV_FILE})")
    click.echo(
        f"receiver: admin at http://{host}:{port}/admin/ (user {app.extensions['settings'].admin_user},"
        f" RECEIVER_ADMIN_PASSWORD in {ENV_FILE} unless set in the environment)"
    )
    # One alert worker beside the web server, so alerts work out of the box. A process of its
    # own (not a thread in gunicorn's master, which forks web workers at any moment).
    alert_worker = subprocess.Popen([sys.executable, "-m", "receiver.cli", "worker"])
    shape_workers, threads = server_shape(os.environ)
    try:
        serve(app, bind=f"{host}:{port}", workers=workers or shape_workers, threads=threads)
    finally:
        alert_worker.terminate()
        alert_worker.wait(timeout=30)


@main.command(
    "prune",
    short_help="Delete raw notifications, resolved failures and idle jobs past retention.",
    epilog="\b\nExamples:\n  receiver prune --older-than 90d --dry-run\n  receiver prune --older-than 90d",
)
@with_appcontext
@click.option("--older-than", default="90d", show_default=True, help="Age like 90d, 12h or 2w.")
@click.option(
    "--batch-size", default=1000, show_default=True, help="Rows per delete (short locks)."
)
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
def prune_command(older_than: str, batch_size: int, dry_run: bool) -> None:
    """Delete raw notifications, resolved failures and idle jobs past retention."""
    from rich.progress import Progress

    from receiver import retention

    try:
        cutoff = utcnow() - retention.parse_duration(older_than)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--older-than") from None
    session = get_session()
    planned = retention.count(session, cutoff)
    for name, rows in planned.items():
        click.echo(f"{rows} {name} older than {cutoff:%Y-%m-%d %H:%M} UTC")
    if dry_run:
        return
    with Progress(transient=True) as progress:
        tasks = {
            name: progress.add_task(f"deleting {name}", total=rows)
            for name, rows in planned.items()
        }
        deleted = retention.prune(
            session, cutoff, batch_size, lambda name, rows: progress.advance(tasks[name], rows)
        )
    click.echo("deleted: " + ", ".join(f"{rows} {name}" for name, rows in deleted.items()))


@main.command(
    "backups",
    short_help="Outputs on a vendor's backup server, soonest deadline first.",
    epilog="\b\nExamples:\n  receiver backups\n  receiver backups --expiring-within 6h --json",
)
@click.option(
    "--expiring-within",
    metavar="DURATION",
    help="Only copies still available that expire within this time (30m, 6h, 2d).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON array (GET /api/backups's items).")
@click.option("--limit", default=200, show_default=True)
@with_appcontext
def backups_command(expiring_within: str | None, as_json: bool, limit: int) -> None:
    """Outputs kept on a vendor's backup server, soonest deadline first: copy them before then."""
    import json
    from datetime import timedelta

    from marshmallow import ValidationError

    from receiver.alerts.rules import parse_duration
    from receiver.backups import list_backups
    from receiver.when import relative, utc_minute

    within = None
    if expiring_within:
        try:
            within = parse_duration(expiring_within)
        except ValidationError as error:
            raise click.BadParameter(
                " ".join(error.messages), param_hint="--expiring-within"
            ) from None
        if within <= timedelta(0):
            raise click.BadParameter("must be longer than 0", param_hint="--expiring-within")
    now = utcnow()
    copies = list_backups(get_session(), now, expiring_within=within, limit=limit)
    if as_json:
        click.echo(json.dumps([copy.as_dict(now) for copy in copies], indent=2))
        return
    if not copies:
        click.echo("no backup copies" + (f" expiring within {expiring_within}" if within else ""))
    for copy in copies:
        if copy.expires_at is None:
            when = "no deadline in the URL"
        elif copy.expired(now):
            when = f"EXPIRED {relative(copy.expires_at, now)}"
        else:
            when = f"until {utc_minute(copy.expires_at)} UTC ({relative(copy.expires_at, now)})"
        label = f" ({copy.label})" if copy.label else ""
        click.echo(
            f"{when}  {copy.vendor} {copy.job_kind} {copy.job_id} output {copy.output_id}{label}"
        )
        if copy.url and not copy.expired(now):
            click.echo(f"    {copy.url}")


def _link_host(host: str) -> str:
    """``host`` as a URL names it; this machine for a wildcard address."""
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - not binding: naming where links go
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _is_loopback(host: str) -> bool:
    """Only this machine can reach ``host`` (127.0.0.1, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _refuse_busy_port(host: str, port: int) -> None:
    """Say so at once when the port is taken (by a receiver started earlier, usually), instead
    of gunicorn's five "Address already in use" retries."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise click.ClickException(
                f"cannot listen on {host}:{port} ({error.strerror}): is a receiver already "
                "running there? Stop it (Ctrl-C in its terminal) or pick another port: "
                f"`make run PORT={port + 1}` / `receiver run --port {port + 1}`"
            ) from None


if __name__ == "__main__":
    main()
