"""The admin's alert delivery controls: silencing a group (from its page) and the silences
(list, expire). A group's page and the triage actions are in ``receiver.admin.groups``.

Routes hang on the admin blueprint, so its login and CSRF guard covers them.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from marshmallow import ValidationError
from sqlalchemy import select
from wtforms import StringField
from wtforms import ValidationError as FormError
from wtforms.validators import DataRequired, Length

from receiver.admin.views import bp
from receiver.alerts.groups import expire_silence, silence_group
from receiver.alerts.rules import parse_duration
from receiver.db import get_session, utcnow
from receiver.failures import keyset_page, load_query
from receiver.models import AlertGroup, Silence

log = logging.getLogger(__name__)

MAX_SILENCE = timedelta(days=30)


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


@bp.post("/groups/<int:group_id>/silence")
def group_silence(group_id: int) -> ResponseReturnValue:
    from receiver.admin.groups import render_group

    session = get_session()
    if session.get(AlertGroup, group_id) is None:
        abort(404, f"no group {group_id}")
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
    return redirect(url_for("admin.group", group_id=group_id))


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
