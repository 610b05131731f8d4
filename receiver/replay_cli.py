"""``receiver replay``: replay stored notifications from the shell, as the admin does.

It says first what it would do (refusals counted by reason, the failures replays would
create) and asks before doing it, unless ``--yes``. Replays are recorded as ``cli:<os user>``.
"""

from __future__ import annotations

import getpass
from collections import Counter

import click
from flask import current_app
from flask.cli import with_appcontext
from rich.console import Console
from sqlalchemy import select

from receiver.db import get_session, utcnow
from receiver.models import Notification
from receiver.replay import Preview, eligibility, preview, replay
from receiver.retention import parse_duration

#: Failures listed before "… and N more".
SHOWN_FAILURES = 20
#: What each dry-run outcome means, as the summary line says it.
PREVIEW_WORDS = {
    "replay": "to store",
    "duplicate": "duplicate of a stored one",
    "rejected": "still refused",
    "refused": "not verified again",
}


@click.command(
    "replay",
    short_help="Run stored notifications through the pipeline again.",
    epilog="\b\nExamples:\n  receiver replay 42 43\n"
    "  receiver replay --rejected-since 24h --vendor lightflow\n"
    "  receiver replay --rejected-since 1h --yes     # do not ask",
)
@with_appcontext
@click.argument("ids", nargs=-1, type=int)
@click.option(
    "--rejected-since", help="Replay every rejected notification since this age (12h, 7d)."
)
@click.option("--vendor", help="Only this vendor's notifications (with --rejected-since).")
@click.option("--yes", is_flag=True, help="Do not ask before replays that create failures.")
def replay_command(
    ids: tuple[int, ...], rejected_since: str | None, vendor: str | None, yes: bool
) -> None:
    """Run stored notifications through the pipeline again (after a schema or catalog fix).

    Notifications that failed authentication are never replayed; signed ones are verified
    again. What a replay would create is shown first, and asked about unless --yes.
    """
    if bool(ids) == bool(rejected_since):
        raise click.UsageError("give notification IDS or --rejected-since, not both or neither")
    session = get_session()
    if rejected_since:
        ids = _rejected_ids(rejected_since, vendor)
    found = {n.id: n for n in session.scalars(select(Notification).where(Notification.id.in_(ids)))}
    missing = [i for i in ids if i not in found]
    refused: Counter[str] = Counter()
    previews: dict[int, Preview] = {}
    providers = current_app.extensions["providers"]
    for notification_id in ids:
        notification = found.get(notification_id)
        if notification is None:
            continue
        allowed = eligibility(notification, providers)
        if not allowed.allowed:
            refused[allowed.reason] += 1
            continue
        previews[notification_id] = preview(session, notification)
    session.rollback()  # the dry runs read only; end their transaction before asking

    _describe(previews, refused, missing)
    creating = sum(len(p.new_failures) for p in previews.values())
    if not previews:
        return
    if creating and not yes:
        click.confirm(
            f"Replay {_plural(len(previews), 'notification')}, creating "
            f"{_plural(creating, 'failure')}?",
            abort=True,
        )
    actor = f"cli:{getpass.getuser()}"
    outcomes: Counter[str] = Counter()
    for notification_id in previews:
        result = replay(session, found[notification_id], actor)
        outcomes[result.body.get("status") or result.body.get("reason", str(result.status))] += 1
    click.echo("done: " + _counts(outcomes) + (f"; refused: {_counts(refused)}" if refused else ""))


def _rejected_ids(since: str, vendor: str | None) -> tuple[int, ...]:
    try:
        start = utcnow() - parse_duration(since)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--rejected-since") from None
    query = select(Notification.id).where(
        Notification.status == "rejected", Notification.received_at >= start
    )
    if vendor:
        query = query.where(Notification.vendor == vendor)
    return tuple(get_session().scalars(query.order_by(Notification.id)))


def _describe(previews: dict[int, Preview], refused: Counter[str], missing: list[int]) -> None:
    """What would happen, on stdout; refusals per reason."""
    if missing:
        click.echo(f"not found: {', '.join(map(str, missing))}")
    if refused:
        click.echo(f"refused (never replayed): {_counts(refused)}")
    if not previews:
        click.echo("nothing to replay")
        return
    by_outcome = Counter(PREVIEW_WORDS[p.outcome] for p in previews.values())
    creating = sum(len(p.new_failures) for p in previews.values())
    click.echo(
        f"would replay {_plural(len(previews), 'notification')}: {_counts(by_outcome)}; "
        f"new failures: {creating}"
    )
    console = Console(highlight=False, soft_wrap=True)
    shown = 0
    for notification_id, found in previews.items():
        for failure in found.new_failures:
            if shown == SHOWN_FAILURES:
                rest = sum(len(p.new_failures) for p in previews.values()) - shown
                click.echo(f"  … and {_plural(rest, 'more failure')}")
                return
            shown += 1
            console.print(
                f"  #{notification_id}: {failure['code']} ({failure['category']}, "
                f"{failure['severity']}) job {failure['job']}",
                markup=False,
            )


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{count} {word}" for word, count in sorted(counter.items()))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")
