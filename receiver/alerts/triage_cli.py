"""``receiver groups …`` and ``receiver failures …``: the triage model from the shell.

The same functions as the admin's buttons and the JSON API (``receiver.alerts.triage``), with
the operator named by ``--by`` (default: the OS user), recorded as ``cli``.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from marshmallow import ValidationError

from receiver.alerts import alert_rules
from receiver.alerts.groups import backfill_groups
from receiver.alerts.overview import (
    PERIODS,
    group_detail,
    group_page,
    load_group_query,
    row_as_dict,
)
from receiver.alerts.triage import (
    ACTIONS,
    TRIAGE_STATES,
    Actor,
    change_failures,
    change_groups,
    plural,
)
from receiver.catalog import SEVERITIES
from receiver.db import get_session, utcnow
from receiver.when import relative

VERBS = {"ack": "acknowledge", "resolve": "resolve", "reopen": "reopen"}


@click.group(
    "groups",
    short_help="What is failing, grouped; acknowledge, resolve or reopen groups.",
    epilog="\b\nExamples:\n  receiver groups list --state open --period 24h\n"
    "  receiver groups ack 12 14 --note 'S3 keys rotated'\n  receiver groups show 12",
)
def groups() -> None:
    """Failure groups (what is failing, since when) and their triage state."""


@groups.command("list")
@click.option("--state", type=click.Choice(TRIAGE_STATES))
@click.option("--vendor")
@click.option("--category")
@click.option("--severity", type=click.Choice(SEVERITIES))
@click.option("--period", type=click.Choice(list(PERIODS)), help="failing in the last …")
@click.option("-q", "--search", "q", help="text in a label, code name, job or output id")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the same as GET /api/groups).")
@with_appcontext
def list_groups(as_json: bool, **options: Any) -> None:
    """Groups like the admin's landing page: open first, most recently failing first."""
    try:
        filters, page, limit = load_group_query({k: str(v) for k, v in options.items() if v})
    except ValidationError as error:
        raise click.UsageError(f"invalid filters: {error.normalized_messages()}") from None
    now = utcnow()
    found = group_page(get_session(), current_app.extensions["catalog"], filters, now, page, limit)
    if as_json:
        rows = [row_as_dict(row) for row in found.rows]
        click.echo(json.dumps(rows, indent=2, default=_iso))
        return
    if not found.rows:
        click.echo("no groups match")
    for row in found.rows:
        group = row.group
        what = " ".join(value for name, value in row.labels if value and name != "severity")
        click.echo(
            f"#{group.id:<5} {row.triage:<12} {group.severity:<8} {what}  "
            f"{plural(group.failure_count, 'failure')} ({row.last_24h} in 24 h) "
            f"in {plural(group.job_count, 'job')}, last {relative(group.last_occurred_at, now)}"
        )
        if row.action:
            click.echo(f"       what to do: {row.action}")


@groups.command("show")
@click.argument("group_id", type=int)
@with_appcontext
def show_group(group_id: int) -> None:
    """One group as JSON (the same as GET /api/groups/ID): state history, backup copies and
    alert messages included."""
    detail = group_detail(get_session(), current_app.extensions["catalog"], group_id, utcnow())
    if detail is None:
        raise click.ClickException(f"no group {group_id}")
    click.echo(json.dumps(detail, indent=2, default=_iso))


@groups.command("backfill")
@click.option("--batch-size", default=1000, show_default=True)
@with_appcontext
def backfill(batch_size: int) -> None:
    """Group the failures stored before every failure was grouped (`receiver db upgrade` and
    `receiver run` do it too; nothing is sent about them). Safe to repeat."""
    grouped, made = backfill_groups(get_session(), alert_rules(current_app), utcnow(), batch_size)
    click.echo(f"grouped {grouped} failure(s) into {made} group(s)")


def _action_command(group: click.Group, verb: str, noun: str, change: Callable[..., Any]) -> None:
    action = VERBS[verb]

    @group.command(
        verb,
        help=f"{action.capitalize()} {noun}s; the model moves what follows (see the README).",
        epilog=f"\b\nExample:\n  receiver {noun}s {verb} 12 --by oncall --note 'ticket 4411'",
    )
    @click.argument("ids", nargs=-1, type=int, required=True)
    @click.option("--by", "author", help="Who acts (default: your OS user name).")
    @click.option("--note", help="Why, kept with the change.")
    @with_appcontext
    def command(ids: tuple[int, ...], author: str | None, note: str | None) -> None:
        session = get_session()
        actor = Actor(author or getpass.getuser(), "cli")
        outcome = change(session, alert_rules(current_app), ids, action, actor, note)
        session.commit()
        click.echo(outcome.summary(noun))
        if not outcome.changed:
            raise SystemExit(1)


@click.group(
    "failures",
    short_help="Acknowledge, resolve or reopen single failures.",
    epilog="\b\nExamples:\n  receiver failures resolve 812 813 --note 're-ran the jobs'",
)
def failures() -> None:
    """Single failures' triage state (their groups follow where the model says)."""


for _verb in VERBS:
    _action_command(groups, _verb, "group", change_groups)
    _action_command(failures, _verb, "failure", change_failures)

assert set(VERBS.values()) == set(ACTIONS)


def _iso(value: Any) -> str:
    """Times as the API writes them (ISO 8601, UTC offset)."""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
