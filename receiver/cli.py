"""The ``receiver`` command: serve, migrate, explain codes."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, routes_command, shell_command
from rich.console import Console

from receiver import create_app
from receiver.admin.cli import export
from receiver.alerts.cli import alerts, worker
from receiver.alerts.triage_cli import failures, groups
from receiver.catalog import CatalogError
from receiver.catalog.cli import codes
from receiver.db import get_database, get_session, utcnow
from receiver.migrate import current_revision, head_revision, upgrade
from receiver.settings import TOKEN_VARIABLES, SettingsError

# Where `receiver run` keeps the secrets it generates for a local install (see README); the same
# folder as the Flask app's instance path.
INSTANCE_DIR = Path(
    os.environ.get("RECEIVER_INSTANCE_DIR") or Path(__file__).resolve().parent.parent / "instance"
)
LOCAL_SECRETS_FILE = INSTANCE_DIR / "receiver.env"
FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures"


def load_app() -> Flask:
    try:
        return create_app()
    except (SettingsError, CatalogError) as error:
        raise click.ClickException(f"configuration error: {error}") from None


@click.group(cls=FlaskGroup, create_app=load_app, add_default_commands=False)
def main() -> None:
    """Webhook receiver for video-pipeline failures (Zencoder, LightFlow, Agora, KVS)."""


main.add_command(shell_command)
main.add_command(routes_command)
main.add_command(codes)
main.add_command(export)
main.add_command(alerts)
main.add_command(worker)
main.add_command(groups)
main.add_command(failures)


@main.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    upgrade(get_database(current_app).engine, revision)
    click.echo(f"database at {revision}")


@db.command("current")
def db_current() -> None:
    """Show the database's migration revision and the code's head."""
    with get_database(current_app).engine.connect() as connection:
        click.echo(f"database: {current_revision(connection)}  head: {head_revision()}")


@main.command("run", with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=2, show_default=True, help="gunicorn worker processes")
def run(host: str, port: int, workers: int) -> None:
    """Migrate the database and serve on HOST:PORT with gunicorn (the embedded default).

    Without configured secrets it generates them once into instance/receiver.env.
    """
    ensure_local_secrets(LOCAL_SECRETS_FILE)
    os.environ.setdefault("RECEIVER_LOG_FORMAT", "text")  # a person is reading this terminal
    # Before the app (and prometheus_client) loads: forked workers share metrics through files.
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="receiver-metrics-"))
    app = load_app()
    database = get_database(app)
    upgrade(database.engine)
    # Workers are forked from this process; they must not share its connections.
    database.engine.dispose()
    from receiver.server import serve

    click.echo(
        f"receiver: serving http://{host}:{port}/hooks/<vendor> (secrets: {LOCAL_SECRETS_FILE})"
    )
    click.echo(
        f"receiver: admin at http://{host}:{port}/admin/ (user {app.extensions['settings'].admin_user},"
        f" RECEIVER_ADMIN_PASSWORD in {LOCAL_SECRETS_FILE} unless set in the environment)"
    )
    # One alert worker beside the web server, so alerts work out of the box. A process of its
    # own (not a thread in gunicorn's master, which forks web workers at any moment).
    alert_worker = subprocess.Popen([sys.executable, "-m", "receiver.cli", "worker"])
    try:
        serve(app, bind=f"{host}:{port}", workers=workers)
    finally:
        alert_worker.terminate()
        alert_worker.wait(timeout=30)


@main.command("prune")
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


@main.command("replay")
@click.argument("ids", nargs=-1, type=int)
@click.option(
    "--rejected-since", help="Replay every rejected notification since this age (12h, 7d)."
)
@click.option("--vendor", help="Only this vendor's notifications (with --rejected-since).")
def replay_command(ids: tuple[int, ...], rejected_since: str | None, vendor: str | None) -> None:
    """Run stored notifications through the pipeline again (after a schema or catalog fix)."""
    from rich.progress import track
    from sqlalchemy import select

    from receiver import retention
    from receiver.ingest import replay
    from receiver.models import Notification

    if bool(ids) == bool(rejected_since):
        raise click.UsageError("give notification IDS or --rejected-since, not both or neither")
    session = get_session()
    if rejected_since:
        try:
            since = utcnow() - retention.parse_duration(rejected_since)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--rejected-since") from None
        query = select(Notification.id).where(
            Notification.status == "rejected", Notification.received_at >= since
        )
        if vendor:
            query = query.where(Notification.vendor == vendor)
        ids = tuple(session.scalars(query.order_by(Notification.id)))
    outcomes: dict[str, int] = {}
    for notification_id in track(ids, description="replaying", console=Console(stderr=True)):
        notification = session.get(Notification, notification_id)
        if notification is None:
            outcome = "not found"
        else:
            result = replay(session, notification)
            outcome = result.body.get("status") or result.body.get("reason", str(result.status))
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    click.echo(
        ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
        or "nothing to replay"
    )


@main.command("backups")
@click.option(
    "--expiring-within",
    metavar="DURATION",
    help="Only copies still available that expire within this time (30m, 6h, 2d).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON array (GET /api/backups's items).")
@click.option("--limit", default=200, show_default=True)
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


@main.command("send-test")
@click.argument("vendor")
@click.argument("fixture")
@click.option("--url", default="http://127.0.0.1:8000", show_default=True, help="The receiver.")
def send_test(vendor: str, fixture: str, url: str) -> None:
    """Post a fixture (a path, or a file name under fixtures/VENDOR/) to a running receiver,
    with the credentials or signature the vendor would send."""
    import urllib.error
    import urllib.request

    if not url.startswith(("http://", "https://")):
        raise click.BadParameter("must be an http:// or https:// URL", param_hint="--url")
    provider = current_app.extensions["providers"].get(vendor)
    if provider is None:
        raise click.ClickException(f"{vendor!r} is not enabled here (its secret is not configured)")
    path = Path(fixture)
    if not path.exists():
        path = FIXTURES_DIR / vendor.split("/")[0] / fixture
    if not path.exists():
        raise click.ClickException(f"no fixture {fixture!r} (looked in {path.parent})")
    body = path.read_bytes()
    try:
        headers = provider.sender_headers(body)
    except NotImplementedError as error:
        raise click.ClickException(str(error)) from None
    content_type = "application/xml" if path.suffix == ".xml" else "application/json"
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        f"{url.rstrip('/')}/hooks/{vendor}",
        data=body,
        headers={"Content-Type": content_type, **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            status, answer = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, answer = error.code, error.read()
    except OSError as error:
        raise click.ClickException(f"cannot reach {url}: {error}") from None
    click.echo(f"{status} {answer.decode('utf-8', 'replace')}")
    if status >= 400:
        raise SystemExit(1)


def ensure_local_secrets(path: Path) -> None:
    """Fill secrets missing from the environment from ``path``, generating them on first use.

    The file is created with mode 0600; values already in the environment always win.
    """
    wanted = ("RECEIVER_SECRET_KEY", *TOKEN_VARIABLES.values())
    if not os.environ.get("RECEIVER_ADMIN_PASSWORD_HASH"):  # a hash and a password conflict
        wanted += ("RECEIVER_ADMIN_PASSWORD",)
    missing = [name for name in wanted if not os.environ.get(name)]
    if not missing:
        return
    stored = _read_env_file(path)
    if not all(stored.get(name) for name in missing):
        stored |= {name: secrets.token_urlsafe(32) for name in missing if not stored.get(name)}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text("".join(f"{name}={value}\n" for name, value in sorted(stored.items())))
    for name in missing:
        os.environ[name] = stored[name]


def _read_env_file(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {name.strip(): value.strip() for name, value in pairs}


if __name__ == "__main__":
    main()
