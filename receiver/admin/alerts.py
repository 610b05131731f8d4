"""The admin's alert pages: groups (list, detail with every message and delivery attempt,
acknowledge / resolve / silence) and silences (list, expire).

Routes hang on the admin blueprint, so its login and CSRF guard covers them. Every change goes
through ``receiver.alerts.groups``, the one home of the alert lifecycle, with the logged-in
operator as its author.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from wtforms import StringField
from wtforms import ValidationError as FormError
from wtforms.validators import DataRequired, Length

from receiver.admin.views import bp
from receiver.alerts import alert_rules, history
from receiver.alerts.groups import (
    GROUP_STATES,
    OPEN_STATES,
    acknowledge,
    active_silences,
    expire_silence,
    matching_silence,
    resolve,
    silence_group,
)
from receiver.alerts.rules import parse_duration
from receiver.db import get_session, utcnow
from receiver.failures import failures_by_id, keyset_page, load_query
from receiver.models import AlertGroup, Silence

log = logging.getLogger(__name__)

#: Labels shown in their own columns; any other ``group_by`` label is listed beside them.
MAIN_LABELS = ("vendor", "category", "code")
#: Labels that are also filters of the failures list (a link from a group to its failures).
LIST_FILTERS = ("vendor", "category", "severity", "code")
MAX_SILENCE = timedelta(days=30)
ACKNOWLEDGEABLE = ("firing", "silenced")  # as receiver.alerts.groups.acknowledge accepts


class SilenceForm(FlaskForm):
    duration = StringField(
        "For", default="2h", validators=[DataRequired(), Length(max=16)], description="30m, 2h, 1d"
    )
    reason = StringField("Reason", validators=[DataRequired(), Length(max=500)])

    def validate_duration(self, field: StringField) -> None:
        try:
            length = parse_duration(field.data)
        except ValidationError as error:
            raise FormError(" ".join(error.messages)) from None
        if not timedelta(0) < length <= MAX_SILENCE:
            raise FormError(f"Must be more than 0 and at most {MAX_SILENCE.days} days.")


@bp.get("/alerts")
def alerts() -> ResponseReturnValue:
    try:
        _filters, cursor, limit = load_query(request.args)  # only cursor and limit apply here
    except ValidationError as error:
        abort(400, f"invalid query: {error.normalized_messages()}")
    state = request.args.get("state") or None
    if state is not None and state not in GROUP_STATES:
        abort(400, f"state must be one of {', '.join(GROUP_STATES)}")
    session = get_session()
    statement = select(AlertGroup)
    if state is not None:
        statement = statement.where(AlertGroup.state == state)
    # Most recently active first; (state, last_seen_at) is indexed for the state filter.
    page = keyset_page(session, statement, AlertGroup, "last_seen_at", cursor, limit)
    counts = dict(
        session.execute(select(AlertGroup.state, func.count()).group_by(AlertGroup.state)).all()
    )
    groups = [row[0] for row in page.rows]
    return render_template(
        "admin/alerts.html",
        groups=groups,
        # A column for labels beyond vendor/category/code only when some rule groups by them.
        other_labels=any(set(group.labels) - set(MAIN_LABELS) for group in groups),
        state=state,
        states=GROUP_STATES,
        counts=counts,
        main_labels=MAIN_LABELS,
        next_url=url_for("admin.alerts", state=state, cursor=page.next_cursor.encode())
        if page.next_cursor
        else None,
        first_url=url_for("admin.alerts", state=state) if cursor else None,
    )


@bp.get("/alerts/<int:group_id>")
def alert(group_id: int) -> ResponseReturnValue:
    return render_group(group_id, SilenceForm())


def render_group(group_id: int, form: SilenceForm) -> str:
    session = get_session()
    group = history.group_detail(session, group_id)
    if group is None:
        abort(404, f"no alert group {group_id}")
    now = utcnow()
    labels = group["labels"]
    attempts = [
        {**attempt, "notification": note}
        for note in group["notifications"]
        for attempt in note["attempts_made"]
    ]
    return render_template(
        "admin/alert.html",
        group=group,
        failures=failures_by_id(session, group["failure_ids"]),
        attempts=sorted(attempts, key=lambda a: a["attempted_at"], reverse=True),
        silence=matching_silence(active_silences(session, now), labels)
        if group["state"] == "silenced"
        else None,
        failures_url=url_for(
            "admin.failures", **{name: labels[name] for name in LIST_FILTERS if labels.get(name)}
        ),
        main_labels=MAIN_LABELS,
        can_acknowledge=group["state"] in ACKNOWLEDGEABLE,
        can_resolve=group["state"] in OPEN_STATES,
        form=form,
    )


@bp.post("/alerts/<int:group_id>/acknowledge")
def alert_acknowledge(group_id: int) -> ResponseReturnValue:
    session = existing_group(group_id)
    if acknowledge(session, group_id, g.admin_user):
        session.commit()
        log.info("admin %s acknowledged alert group %s", g.admin_user, group_id)
        flash(f"Alert group {group_id} acknowledged: no more repeats until it resolves.", "ok")
    else:
        flash(f"Alert group {group_id} is not firing or silenced: nothing to acknowledge.", "error")
    return redirect(url_for("admin.alert", group_id=group_id))


@bp.post("/alerts/<int:group_id>/resolve")
def alert_resolve(group_id: int) -> ResponseReturnValue:
    session = existing_group(group_id)
    if resolve(session, alert_rules(current_app), [group_id], by=g.admin_user):
        session.commit()
        log.info("admin %s resolved alert group %s", g.admin_user, group_id)
        flash(f"Alert group {group_id} resolved; a new failure re-opens it.", "ok")
    else:
        flash(f"Alert group {group_id} is already resolved.", "error")
    return redirect(url_for("admin.alert", group_id=group_id))


@bp.post("/alerts/<int:group_id>/silence")
def alert_silence(group_id: int) -> ResponseReturnValue:
    session = existing_group(group_id)
    form = SilenceForm()
    if not form.validate():
        return render_group(group_id, form), 400
    now = utcnow()
    ends_at = now + parse_duration(form.duration.data)
    silence = silence_group(
        session, group_id, g.admin_user, form.reason.data or "", ends_at, now=now
    )
    session.commit()
    assert silence is not None  # existing_group() found the group in this transaction
    log.info("admin %s silenced alert group %s (silence %s)", g.admin_user, group_id, silence.id)
    flash(
        f"Silence #{silence.id} mutes this group's labels until {ends_at:%Y-%m-%d %H:%M} UTC.", "ok"
    )
    return redirect(url_for("admin.alert", group_id=group_id))


def existing_group(group_id: int) -> Session:
    """The request's session, once the group is known to exist (else 404)."""
    session = get_session()
    if session.get(AlertGroup, group_id) is None:
        abort(404, f"no alert group {group_id}")
    return session


@bp.get("/silences")
def silences() -> ResponseReturnValue:
    try:
        _filters, cursor, limit = load_query(request.args)  # only cursor and limit apply here
    except ValidationError as error:
        abort(400, f"invalid query: {error.normalized_messages()}")
    # Latest end first: active silences lead, then the most recently expired.
    page = keyset_page(get_session(), select(Silence), Silence, "ends_at", cursor, limit)
    return render_template(
        "admin/silences.html",
        silences=[row[0] for row in page.rows],
        now=utcnow(),
        next_url=url_for("admin.silences", cursor=page.next_cursor.encode())
        if page.next_cursor
        else None,
        paged=cursor is not None,
    )


@bp.post("/silences/<int:silence_id>/expire")
def silence_expire(silence_id: int) -> ResponseReturnValue:
    session = get_session()
    if session.get(Silence, silence_id) is None:
        abort(404, f"no silence {silence_id}")
    if expire_silence(session, silence_id):
        session.commit()
        log.info("admin %s expired silence %s", g.admin_user, silence_id)
        flash(f"Silence #{silence_id} expired; its groups wake up within a worker pass.", "ok")
    else:
        flash(f"Silence #{silence_id} had already expired.", "error")
    return redirect(url_for("admin.silences"))
