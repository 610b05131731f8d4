"""The admin's landing page (what is failing, grouped), a group's page, and the triage actions
on groups and failures: one at a time or several ticked in one form.

Routes hang on the admin blueprint, so its login and CSRF guard covers them. Every change goes
through ``receiver.alerts.triage`` with the logged-in operator as its author, like the API's
and the CLI's.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError
from sqlalchemy.orm import Session

from receiver.admin import auth
from receiver.admin.present import request_now
from receiver.admin.views import bp
from receiver.alerts import alert_rules, history
from receiver.alerts.groups import active_silences, matching_silence
from receiver.alerts.overview import (
    DEFAULT_PAGE_SIZE,
    PERIODS,
    GroupFilters,
    describe,
    group_events,
    group_page,
    load_group_query,
)
from receiver.alerts.triage import (
    ACTIONS,
    GROUP_MOVES,
    MAX_NOTE,
    TRIAGE_STATES,
    Actor,
    change_failures,
    change_groups,
)
from receiver.backups import list_backups
from receiver.catalog import CATEGORIES, SEVERITIES
from receiver.db import get_session
from receiver.failures import FailureFilters, failure_page
from receiver.models import AlertGroup

log = logging.getLogger(__name__)

#: Opt-in auto-refresh of the landing page for wall screens, in seconds (a meta refresh: the
#: CSP governs scripts and resources, not this).
REFRESH_CHOICES = {30: "30 s", 60: "1 min", 300: "5 min"}
#: Backup copies counted on a group's page (five are shown; the Backup copies view has all).
BACKUP_LIMIT = 100
#: Failures shown on a group's page (the failures list, filtered to the group, has them all).
GROUP_FAILURES = 25


@bp.get("/")
def index() -> ResponseReturnValue:
    """What is failing now: groups, open first, most recently failing first."""
    try:
        filters, page, limit = load_group_query(request.args)
    except ValidationError as error:
        return render_groups(GroupFilters(), None, error.normalized_messages()), 400
    refresh = request.args.get("refresh", type=int)
    found = group_page(
        get_session(), current_app.extensions["catalog"], filters, request_now(), page, limit
    )
    return render_groups(
        filters, found, {}, refresh=refresh if refresh in REFRESH_CHOICES else None, limit=limit
    )


def render_groups(filters: GroupFilters, found: Any, errors: dict[str, Any], **extra: Any) -> str:
    args = filters.query_args()
    limit = extra.get("limit", DEFAULT_PAGE_SIZE)
    page_args = {**args, "limit": limit} if limit != DEFAULT_PAGE_SIZE else args
    refresh_args = (
        {**page_args, "refresh": extra.get("refresh")} if extra.get("refresh") else page_args
    )
    return render_template(
        "admin/groups.html",
        filters=filters,
        found=found,
        errors=errors,
        vendors=sorted(current_app.extensions["providers"]),
        categories=list(CATEGORIES),
        severities=SEVERITIES,
        states=TRIAGE_STATES,
        periods=list(PERIODS),
        refresh_choices=REFRESH_CHOICES.items(),
        tab_url=lambda state: url_for("admin.index", **{**page_args, "state": state}),
        refresh_url=lambda seconds: url_for("admin.index", **{**page_args, "refresh": seconds}),
        page_url=lambda number: url_for("admin.index", **refresh_args, page=number),
        failures_search_url=url_for("admin.failures", q=filters.q) if filters.q else None,
        **extra,
    )


@bp.get("/groups/<int:group_id>")
def group(group_id: int) -> ResponseReturnValue:
    from receiver.admin.alerts import SilenceForm

    return render_group(group_id, SilenceForm())


def render_group(group_id: int, form: Any) -> str:
    session = get_session()
    found = session.get(AlertGroup, group_id) or abort(404, f"no group {group_id}")
    now = request_now()
    [row] = describe(session, current_app.extensions["catalog"], [found], now)
    alerts = history.group_detail(session, group_id) or {"notifications": []}
    attempts = [
        {**attempt, "notification": note}
        for note in alerts["notifications"]
        for attempt in note["attempts_made"]
    ]
    failures = failure_page(session, FailureFilters(group=group_id), None, GROUP_FAILURES)
    labels = found.labels
    return render_template(
        "admin/group.html",
        row=row,
        group=found,
        events=group_events(session, group_id=group_id),
        failures=failures.rows,
        more_failures=failures.next_cursor is not None,
        backups=list_backups(session, now, group_id=group_id, limit=BACKUP_LIMIT),
        backup_limit=BACKUP_LIMIT,
        notifications=alerts["notifications"],
        attempts=sorted(attempts, key=lambda a: a["attempted_at"], reverse=True),
        silence=matching_silence(active_silences(session, now), labels)
        if found.state == "silenced"
        else None,
        failures_url=url_for("admin.failures", group=group_id),
        actions=[a for a in ACTIONS if found.state in GROUP_MOVES[a][0]],
        form=form,
    )


@bp.get("/alerts")
def alerts_moved() -> ResponseReturnValue:
    """The alert groups' list became the landing page (one state machine, one place)."""
    state = request.args.get("state")
    triage = {"pending": "open", "firing": "open", "silenced": "open"}.get(state or "", state)
    return redirect(url_for("admin.index", state=triage if triage in TRIAGE_STATES else None), 301)


@bp.get("/alerts/<int:group_id>")
def alert_moved(group_id: int) -> ResponseReturnValue:
    return redirect(url_for("admin.group", group_id=group_id), 301)


# -- actions --------------------------------------------------------------------------------------


@bp.post("/groups/actions")
def groups_action() -> ResponseReturnValue:
    """Acknowledge, resolve or reopen the ticked groups (or the one a group page names)."""
    return act(change_groups, "group")


@bp.post("/failures/actions")
def failures_action() -> ResponseReturnValue:
    """Acknowledge, resolve or reopen the ticked failures (or the one a failure page names)."""
    return act(change_failures, "failure")


def act(change: Any, noun: str) -> ResponseReturnValue:
    action = request.form.get("action", "")
    if action not in ACTIONS:
        abort(400, f"action must be one of {', '.join(ACTIONS)}")
    try:
        ids = [int(value) for value in request.form.getlist("id")]
    except ValueError:
        abort(400, f"{noun} ids must be numbers")
    back = auth.safe_next(request.form.get("next"))
    if not ids:
        flash(f"Tick at least one {noun} first.", "error")
        return redirect(back)
    note = (request.form.get("note") or "").strip()[:MAX_NOTE] or None
    session: Session = get_session()
    outcome = change(
        session, alert_rules(current_app), ids, action, Actor(g.admin_user, "admin"), note
    )
    session.commit()
    summary = outcome.summary(noun)
    log.info("admin %s: %s %s %s: %s", g.admin_user, action, noun, ids, summary)
    flash(summary[0].upper() + summary[1:] + ".", "ok" if outcome.changed else "error")
    return redirect(back)
