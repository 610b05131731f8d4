"""The admin pages: failures (list, chart, detail, CSV). On the same blueprint: the grouped
landing page, a group's page and the triage actions (``receiver.admin.groups``), silences
(``receiver.admin.alerts``), backup copies (``receiver.admin.backups``) and the notification
pages (rejected, replay: ``receiver.admin.notifications``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired

from receiver.admin import auth
from receiver.admin.chart import build_chart
from receiver.admin.export import csv_lines, export_filename
from receiver.admin.present import pretty_body, request_now
from receiver.admin.security import EMBEDDABLE_SVG_HEADERS
from receiver.alerts.groups import group_for_failure
from receiver.alerts.overview import group_events
from receiver.alerts.triage import ACTIONS, FAILURE_MOVES
from receiver.backups import list_backups
from receiver.catalog import CATEGORIES, SEVERITIES
from receiver.db import get_database, get_session, utcnow
from receiver.failures import (
    DEFAULT_PAGE_SIZE,
    FAILURE_STATUSES,
    Cursor,
    FailureFilters,
    daily_counts,
    failure_page,
    load_query,
)
from receiver.models import Failure, Job
from receiver.replay import eligibility

log = logging.getLogger(__name__)

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(auth.refuse_throttled_client)  # first: before any credentials are checked

#: Endpoints a browser reaches without a session, and those answering machines (401, not login).
PUBLIC_ENDPOINTS = frozenset({"admin.login"})
MACHINE_ENDPOINTS = frozenset({"admin.failures_csv"})


class LoginForm(FlaskForm):
    username = StringField("User", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])
    next = HiddenField()


@bp.before_request
def guard() -> ResponseReturnValue | None:
    if request.method == "POST":
        auth.csrf.protect()  # every state change needs the form's token
    if request.endpoint in PUBLIC_ENDPOINTS:
        if not auth.settings().admin_enabled:
            return auth.require_admin(html=True)  # the "admin is disabled" answer
        return None
    return auth.require_admin(html=request.endpoint not in MACHINE_ENDPOINTS)


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        if auth.check_credentials(form.username.data or "", form.password.data or ""):
            auth.log_in(form.username.data or "")
            log.info("admin login: %s", form.username.data)
            return redirect(auth.safe_next(form.next.data))
        log.warning("admin login failed from %s", request.remote_addr)
        return render_template("admin/login.html", form=form, failed=True), 401
    return render_template("admin/login.html", form=form, failed=False)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    auth.log_out()
    return redirect(url_for("admin.login"))


@bp.get("/failures")
def failures() -> ResponseReturnValue:
    try:
        filters, cursor, limit = load_query(request.args)
    except ValidationError as error:
        return render_list(FailureFilters(), None, [], error.normalized_messages()), 400
    page = failure_page(get_session(), filters, cursor, limit)
    # The chart belongs to the first page (later pages only scroll rows), and not to free-text
    # searches: counting every matching message per day scans the table (0.8 s at 1M rows),
    # while the list itself reads only the newest matches through the trigram indexes. The page
    # only links it: the browser fetches the chart after the rows are on screen.
    chart_url = None
    if cursor is None and not filters.q:
        chart_url = url_for("admin.failures_chart", **filters.query_args())
    return render_list(
        filters,
        page.next_cursor,
        page.rows,
        {},
        chart_url=chart_url,
        paged=bool(cursor),
        limit=limit,
    )


@bp.get("/failures/chart.svg")
def failures_chart() -> ResponseReturnValue:
    """The list's chart as a standalone SVG document, for the page's ``<object>``."""
    filters = _filters_or_400()
    if filters.q:
        abort(400, "the chart does not cover free-text searches (q)")
    data = daily_counts(get_session(), filters, utcnow().date())
    chart = build_chart(data, chart_links(filters, data.first_day, data.last_day))
    response = make_response(render_template("admin/failures_chart.svg", chart=chart))
    response.mimetype = "image/svg+xml"
    response.headers.update(EMBEDDABLE_SVG_HEADERS)
    return response  # never cached, like every authenticated response (security.py)


def chart_links(filters: FailureFilters, first_day: date, last_day: date) -> Any:
    """The failures list a bar (one day) or legend entry (the chart's range) stands for."""
    args = filters.query_args()

    def link(category: str | None, day: date | None) -> str:
        narrowed = {**args, "since": (day or first_day).isoformat()}
        narrowed["until"] = (day or last_day).isoformat()
        if category is not None:
            narrowed["category"] = category
        return url_for("admin.failures", **narrowed)

    return link


def _filters_or_400() -> FailureFilters:
    """The query's filters for responses that are not the list page (which shows its errors)."""
    try:
        filters, _cursor, _limit = load_query(request.args)
    except ValidationError as error:
        abort(400, f"invalid filters: {error.normalized_messages()}")
    return filters


def render_list(
    filters: FailureFilters,
    next_cursor: Cursor | None,
    rows: Any,
    errors: dict[str, Any],
    limit: int = DEFAULT_PAGE_SIZE,
    **extra: Any,
) -> str:
    args = filters.query_args()
    page_args = {**args, "limit": limit} if limit != DEFAULT_PAGE_SIZE else args
    return render_template(
        "admin/failures.html",
        filters=filters,
        rows=rows,
        errors=errors,
        next_url=url_for("admin.failures", **page_args, cursor=next_cursor.encode())
        if next_cursor
        else None,
        first_url=url_for("admin.failures", **page_args),
        csv_url=url_for("admin.failures_csv", **args),
        vendors=current_app.extensions["vendors"],
        categories=list(CATEGORIES),
        severities=SEVERITIES,
        statuses=FAILURE_STATUSES,
        **extra,
    )


@bp.get("/failures.csv")
def failures_csv() -> ResponseReturnValue:
    filters = _filters_or_400()
    sessionmaker = get_database(current_app).sessionmaker

    def body() -> Iterator[bytes]:
        # A session of its own, closed when the download ends or is abandoned: the request's
        # session is closed (teardown) when this view returns, before the body streams, and a
        # connection whose COPY was cancelled must be rolled back before the pool hands it out.
        with sessionmaker() as session:
            yield from csv_lines(session, filters)

    return Response(
        body(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{export_filename(utcnow())}"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/failures/<int:failure_id>")
def failure(failure_id: int) -> ResponseReturnValue:
    session = get_session()
    found = session.scalar(
        select(Failure)
        .where(Failure.id == failure_id)
        .options(
            joinedload(Failure.job).selectinload(Job.files),
            joinedload(Failure.job_file),
            joinedload(Failure.notification),
        )
    )
    if found is None:
        abort(404, f"no failure {failure_id}")
    notification = found.notification
    catalog = current_app.extensions["catalog"]
    return render_template(
        "admin/failure.html",
        failure=found,
        entry=catalog.lookup(found.vendor, found.code, backup_server=found.backup_server_used),
        notification=notification,
        body=pretty_body(notification.body, notification.content_type) if notification else None,
        actions=[a for a in ACTIONS if found.status in FAILURE_MOVES[a][0]],
        groups=group_for_failure(session, failure_id),
        events=group_events(session, failure_id=failure_id),
        backups=list_backups(session, request_now(), failure_ids=[failure_id])
        if found.backup_server_used
        else [],
        replay=eligibility(notification, current_app.extensions["providers"])
        if notification
        else None,
    )
