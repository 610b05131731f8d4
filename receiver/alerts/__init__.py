"""Alerts by error category: rules, groups, a transactional outbox, a worker, channels.

    ingest transaction ── enqueue_alerts() ──> alert_groups + alert_notifications (outbox)
    receiver worker    ── claim (lease) ──> Apprise / PagerDuty ──> delivery_attempts

``rules.py`` reads the rules file, ``groups.py`` puts every new failure in its group and
schedules what to tell, ``triage.py`` is the one place groups and their failures change state,
``outbox.py`` writes and claims outbox rows, ``worker.py`` delivers them through
``channels.py``; ``history.py`` and ``overview.py`` read the history and the grouped view for
the admin, the API and the CLI (``cli.py``, ``triage_cli.py``).
"""

from __future__ import annotations

from typing import cast

from flask import Flask

from receiver.alerts.groups import enqueue_alerts
from receiver.alerts.rules import RuleSet, load_rules
from receiver.settings import Settings


def init_alerts(app: Flask, settings: Settings) -> None:
    # Loaded and validated once: bad rules stop start-up, and ingest pays no parsing.
    app.extensions["alert_rules"] = load_rules(settings.alert_rules)
    app.extensions.setdefault("readiness_checks", {})["alert_worker"] = workers_keeping_up


#: A message due this long ago and still waiting means no worker is delivering.
WORKER_STALL_SECONDS = 300


def workers_keeping_up() -> tuple[bool, str]:
    """Readiness: the outbox is being worked (the workers' heartbeat is their progress)."""
    from sqlalchemy import func, select

    from receiver.db import get_session, utcnow
    from receiver.models import AlertNotification

    oldest_due = get_session().scalar(
        select(func.min(AlertNotification.due_at)).where(AlertNotification.status == "pending")
    )
    if oldest_due is None:
        return True, "no message waiting"
    overdue = (utcnow() - oldest_due).total_seconds()
    return overdue < WORKER_STALL_SECONDS, f"oldest due message waits {overdue:.0f}s"


def alert_rules(app: Flask) -> RuleSet:
    return cast(RuleSet, app.extensions["alert_rules"])


__all__ = ["alert_rules", "enqueue_alerts", "init_alerts"]
