"""``/admin/backups``: outputs kept on a vendor's backup server, by how long they stay there."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue

from receiver.admin.present import request_now
from receiver.admin.views import bp
from receiver.backups import list_backups
from receiver.db import get_session

PAGE_SIZE = 100


@bp.get("/backups")
def backups() -> ResponseReturnValue:
    page = max(1, request.args.get("page", 1, type=int))
    group = request.args.get("group", type=int)
    now = request_now()
    copies = list_backups(
        get_session(),
        now,
        group_id=group,
        limit=PAGE_SIZE + 1,
        offset=(page - 1) * PAGE_SIZE,
    )
    more = len(copies) > PAGE_SIZE
    return render_template(
        "admin/backups.html",
        copies=copies[:PAGE_SIZE],
        group=group,
        next_url=url_for("admin.backups", group=group, page=page + 1) if more else None,
        first_url=url_for("admin.backups", group=group) if page > 1 else None,
    )
