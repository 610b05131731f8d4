"""The admin's notification pages: rejected notifications (grouped by vendor and reason, rows,
replay several), one notification (its replays, the replay button or why there is none), and
replaying with a confirmation when it would create failures.

Routes hang on the admin blueprint, so its login and CSRF guard covers them. Whether a
notification may be replayed, and replaying it, is ``receiver.replay``'s alone (the CLI uses
the same functions).
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from receiver.admin.present import pretty_body
from receiver.admin.rejected import (
    WINDOWS,
    load_rejected_query,
    preview_text,
    rejected_groups,
    rejected_rows,
)
from receiver.admin.views import bp
from receiver.db import get_session, utcnow
from receiver.models import Failure, Notification
from receiver.replay import eligibility, preview, replay
from receiver.vendors.base import SharedTokenProvider

log = logging.getLogger(__name__)

#: Notifications one bulk replay may take (the page shows at most 500 rows).
MAX_SELECTED = 500

#: What a group of refusals most likely means, by reason word ("token rotated?").
TOKEN_HINTS = {"unauthorized": "token rotated? Compare the vendor's URL with the token setting"}
SIGNED_HINTS = {
    "unauthorized": "signing secret rotated, or a sender's clock off (KVS)?",
    "forbidden": "a topic missing from RECEIVER_SNS_TOPIC_ARNS?",
    "unavailable": "SNS certificate or confirmation fetch failed; SNS retries",
}
COMMON_HINTS = {
    "invalid": "the vendor's payload changed? See the field errors",
    "malformed": "the sender sends broken JSON / XML",
    "too_large": "bodies over RECEIVER_MAX_BODY_BYTES",
    "unsupported_media_type": "an unexpected Content-Type",
}


def _hint(vendor: str, reason: str | None) -> str:
    provider = current_app.extensions["providers"].get(vendor)
    specific = TOKEN_HINTS if isinstance(provider, SharedTokenProvider) else SIGNED_HINTS
    return specific.get(reason or "") or COMMON_HINTS.get(reason or "", "")


@bp.get("/notifications/rejected")
def rejected() -> ResponseReturnValue:
    try:
        filters, cursor, limit = load_rejected_query(request.args)
    except ValidationError as error:
        abort(400, f"invalid query: {error.normalized_messages()}")
    session, now = get_session(), utcnow()
    page = rejected_rows(session, filters, cursor, limit, now)
    providers = current_app.extensions["providers"]
    rows = [(row, eligibility(row, providers), preview_text(row)) for row in page.rows]
    args = filters.query_args()
    return render_template(
        "admin/rejected.html",
        filters=filters,
        windows=[*WINDOWS, "all"],
        groups=[
            (group, _hint(group.vendor, group.reason))
            for group in rejected_groups(session, filters, now)
        ],
        rows=rows,
        replayable=sum(1 for _row, allowed, _text in rows if allowed.allowed),
        next_url=url_for("admin.rejected", **args, cursor=page.next_cursor.encode())
        if page.next_cursor
        else None,
        first_url=url_for("admin.rejected", **args) if cursor is not None else None,
    )


@bp.get("/notifications/<int:notification_id>")
def notification(notification_id: int) -> ResponseReturnValue:
    session = get_session()
    found = session.scalar(
        select(Notification)
        .where(Notification.id == notification_id)
        .options(selectinload(Notification.failures), selectinload(Notification.replays))
    )
    if found is None:
        abort(404, f"no notification {notification_id}")
    return render_template(
        "admin/notification.html",
        notification=found,
        body=pretty_body(found.body, found.content_type),
        replay=eligibility(found, current_app.extensions["providers"]),
    )


@bp.post("/notifications/<int:notification_id>/replay")
def notification_replay(notification_id: int) -> ResponseReturnValue:
    back = url_for("admin.notification", notification_id=notification_id)
    return _replay_with_confirmation([notification_id], back)


@bp.post("/failures/<int:failure_id>/replay")
def failure_replay(failure_id: int) -> ResponseReturnValue:
    found = get_session().get(Failure, failure_id) or abort(404, f"no failure {failure_id}")
    if found.notification_id is None:
        abort(409, "the raw notification of this failure is no longer stored")
    back = url_for("admin.failure", failure_id=failure_id)
    return _replay_with_confirmation([found.notification_id], back)


@bp.post("/notifications/replay")
def replay_selected() -> ResponseReturnValue:
    """Replay the notifications ticked on the rejected page (only replayable ones have a box)."""
    try:
        ids = sorted({int(value) for value in request.form.getlist("id")})
    except ValueError:
        abort(400, "id must be notification numbers")
    if not ids:
        flash("Nothing selected: tick the notifications to replay.", "error")
        return redirect(url_for("admin.rejected"))
    if len(ids) > MAX_SELECTED:
        abort(400, f"at most {MAX_SELECTED} notifications at once")
    return _replay_with_confirmation(ids, url_for("admin.rejected"))


def _replay_with_confirmation(ids: list[int], back: str) -> ResponseReturnValue:
    """Replay, after showing what it would create when it would create failures.

    The first POST makes the dry runs; if any replay would create failures it shows them with a
    form that posts again with ``confirm`` (and its own CSRF token). Notifications that may not
    be replayed are not attempted in a selection (they are counted by reason); one asked for
    alone is attempted, so the refusal is recorded.
    """
    session = get_session()
    found = {n.id: n for n in session.scalars(select(Notification).where(Notification.id.in_(ids)))}
    if len(ids) == 1 and ids[0] not in found:
        abort(404, f"no notification {ids[0]}")
    providers = current_app.extensions["providers"]
    refused = Counter[str]()
    chosen = []
    for notification_id in ids:
        allowed = notification_id in found and eligibility(found[notification_id], providers)
        if len(ids) > 1 and not (allowed and allowed.allowed):
            refused[allowed.reason if allowed else "not found"] += 1
        else:
            chosen.append(found[notification_id])
    if request.form.get("confirm") != "yes":
        previews = {n.id: preview(session, n) for n in chosen}
        session.rollback()  # the dry runs only read
        if any(p.needs_confirmation for p in previews.values()):
            return render_template(
                "admin/replay_confirm.html",
                previews=previews,
                notifications={n.id: n for n in chosen},
                refused=refused,
                back=back,
                creating=sum(len(p.new_failures) for p in previews.values()),
            )
    outcomes = Counter[str]()
    for item in chosen:
        outcome = replay(session, item, g.admin_user)
        log.info("admin %s replayed notification %s: %s", g.admin_user, item.id, outcome)
        outcomes[_outcome_word(outcome.body)] += 1
        if len(chosen) == 1:
            _flash_one(item.id, outcome.status, outcome.body)
    if len(chosen) != 1 or refused:
        _flash_many(outcomes, refused)
    return redirect(back)


def _outcome_word(body: dict[str, Any]) -> str:
    return body.get("status") or body.get("reason") or "error"


def _flash_one(notification_id: int, status: int, body: dict[str, Any]) -> None:
    if status == 200:
        created = body.get("failures")
        extra = f", {created} new failure{'' if created == 1 else 's'}" if created else ""
        flash(f"Replayed notification {notification_id}: {body.get('status')}{extra}.", "ok")
    else:
        flash(
            f"Replay of notification {notification_id} was refused ({status}): "
            f"{body.get('message')}",
            "error",
        )


def _flash_many(outcomes: Counter[str], refused: Counter[str]) -> None:
    done = sum(outcomes.values())
    parts = [f"{done} replayed" + (f" ({_counts(outcomes)})" if outcomes else "")]
    if refused:
        parts.append(f"{sum(refused.values())} refused ({_counts(refused)})")
    flash("Replay: " + "; ".join(parts) + ".", "error" if refused else "ok")


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{count} {word.replace('_', ' ')}" for word, count in sorted(counter.items()))
