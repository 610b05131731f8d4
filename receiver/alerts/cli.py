"""``receiver worker`` and ``receiver alerts …``: deliver alerts, list their history, silence them.

Acknowledging and resolving are triage, the same for groups whether or not they alerted:
``receiver groups ack|resolve|reopen`` (``triage_cli.py``)."""

from __future__ import annotations

import json
import signal
import threading
from datetime import timedelta
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from receiver.alerts import history
from receiver.alerts.groups import add_silence, expire_silence
from receiver.alerts.rules import MATCH_FIELDS, parse_duration
from receiver.alerts.worker import build_worker
from receiver.db import get_session, utcnow
from receiver.models import AlertGroup, Silence


@click.command(
    "worker",
    short_help="Deliver alert messages from the outbox (`receiver run` starts one).",
    epilog="\b\nExamples:\n  receiver worker            # until SIGTERM; run several on PostgreSQL\n"
    "  receiver worker --once     # deliver what is due now, then exit",
)
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option("--batch", default=10, show_default=True, help="Messages claimed at a time.")
@with_appcontext
def worker(once: bool, batch: int) -> None:
    """Deliver alert notifications from the outbox (run as many as you like on PostgreSQL)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    alert_worker = build_worker(app, batch=batch)
    if once:
        click.echo(f"handled {alert_worker.run_once()} message(s)")
        return
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    alert_worker.run(stop, poll=app.extensions["settings"].worker_poll_seconds)


@click.group(
    "alerts",
    epilog="\b\nExamples:\n  receiver alerts list --state firing\n"
    "  receiver alerts silence --match category=upload --for 2h --author alice --reason 'S3 work'\n"
    "Acknowledge or resolve with `receiver groups ack|resolve ID`.",
)
def alerts() -> None:
    """Alert groups, notifications, delivery attempts and silences."""


@alerts.command("list")
@click.option("--state", help="Only groups in this state (firing, resolved, …).")
@click.option("--limit", default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the same as GET /api/alerts).")
@with_appcontext
def list_groups(state: str | None, limit: int, as_json: bool) -> None:
    """Alert groups, most recent first, with the messages sent for each."""
    groups = history.group_history(get_session(), state=state, limit=limit)
    if as_json:
        click.echo(json.dumps(groups, indent=2, default=str))
        return
    if not groups:
        click.echo("no alerts")
    for group in groups:
        labels = " ".join(f"{k}={v}" for k, v in group["labels"].items() if v)
        click.echo(
            f"#{group['id']} {group['state']:<12} {group['failure_count']:>5} failures  "
            f"{group['rule']}: {labels}  last {group['last_seen_at']:%Y-%m-%d %H:%M}"
        )
        for note in group["notifications"]:
            sent = f"{note['sent_at']:%Y-%m-%d %H:%M:%S}" if note["sent_at"] else "-"
            error = f"  ({note['last_error']})" if note["last_error"] else ""
            click.echo(
                f"    alert #{note['id']} {note['kind']:<10} -> {note['channel']:<10} "
                f"{note['status']:<10} attempts {note['attempts']}  sent {sent}{error}"
            )


@alerts.command("show")
@click.argument("group_id", type=int)
@with_appcontext
def show_group(group_id: int) -> None:
    """One group with every notification and every delivery attempt, as JSON."""
    group = history.group_detail(get_session(), group_id)
    if group is None:
        raise click.ClickException(f"no alert group {group_id}")
    click.echo(json.dumps(group, indent=2, default=str))


@alerts.command("silence")
@click.option(
    "--match",
    "matchers",
    multiple=True,
    required=True,
    help=f"FIELD=PATTERN, repeatable; fields: {', '.join(MATCH_FIELDS)}, job (globs allowed).",
)
@click.option("--for", "duration", default="2h", show_default=True, help="e.g. 30m, 2h, 1d")
@click.option("--author", required=True)
@click.option("--reason", required=True)
@with_appcontext
def silence(matchers: tuple[str, ...], duration: str, author: str, reason: str) -> None:
    """Mute matching groups for a while; the silence expires by itself."""
    parsed: dict[str, list[str]] = {}
    for matcher in matchers:
        name, _, pattern = matcher.partition("=")
        if name not in (*MATCH_FIELDS, "job") or not pattern:
            raise click.BadParameter(f"{matcher!r}: use FIELD=PATTERN", param_hint="--match")
        parsed.setdefault(name, []).append(pattern)
    try:
        length = parse_duration(duration)
    except Exception as error:
        raise click.BadParameter(str(error), param_hint="--for") from None
    if length <= timedelta(0):
        raise click.BadParameter("must be longer than 0", param_hint="--for")
    session = get_session()
    created = add_silence(session, parsed, author, reason, ends_at=utcnow() + length)
    session.commit()
    click.echo(f"silence #{created.id} until {created.ends_at:%Y-%m-%d %H:%M:%S} UTC")


@alerts.command("silences")
@click.option("--all", "show_all", is_flag=True, help="Include expired silences.")
@with_appcontext
def list_silences(show_all: bool) -> None:
    """Silences, active ones first."""
    query = select(Silence).order_by(Silence.ends_at.desc())
    if not show_all:
        query = query.where(Silence.ends_at > utcnow())
    rows = get_session().scalars(query).all()
    if not rows:
        click.echo("no silences")
    for row in rows:
        click.echo(
            f"#{row.id} {_matchers(row.matchers)}  {row.starts_at:%Y-%m-%d %H:%M} → "
            f"{row.ends_at:%Y-%m-%d %H:%M} UTC  by {row.author}: {row.reason}"
        )


@alerts.command("unsilence")
@click.argument("silence_id", type=int)
@with_appcontext
def unsilence(silence_id: int) -> None:
    """Expire a silence now."""
    session = get_session()
    if not expire_silence(session, silence_id):
        raise click.ClickException(f"silence {silence_id} is not active")
    session.commit()
    click.echo(f"silence #{silence_id} expired")


@alerts.command("rules")
@with_appcontext
def show_rules() -> None:
    """The rules in force, in order, and which channels are enabled."""
    rules = current_app.extensions["alert_rules"]
    click.echo(f"rules file: {rules.source}")
    for name, channel in rules.channels.items():
        click.echo(f"channel {name}: {channel.type}, {'enabled' if channel.enabled else 'off'}")
    for rule in rules.rules:
        threshold = (
            f", more than {rule.threshold.count} in {rule.threshold.window}"
            if rule.threshold
            else ""
        )
        channels = ", ".join(rule.channels) or "(none: drop)"
        click.echo(
            f"- {rule.name}: {_matchers(rule.match) or 'everything'}"
            f"{' backup_server' if rule.backup_server else ''} -> {channels}; "
            f"group by {', '.join(rule.group_by)}; wait {rule.group_wait}{threshold}"
            f"{'; continue' if rule.continue_ else ''}"
        )
    counts = get_session().execute(
        select(AlertGroup.state, func.count()).group_by(AlertGroup.state)
    )
    click.echo("groups: " + (", ".join(f"{s} {n}" for s, n in counts) or "none"))


def _matchers(matchers: dict[str, Any]) -> str:
    return " ".join(f"{name}={'|'.join(values)}" for name, values in sorted(matchers.items()))
