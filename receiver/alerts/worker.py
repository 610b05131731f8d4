"""The outbox worker: delivers due messages, with retries, and runs the timed transitions.

Any number of workers may run (``receiver worker`` processes, the thread of ``receiver run``):
they claim messages with leases (see :func:`receiver.alerts.outbox.claim`), so none is sent by
two workers, and the messages of a worker that died go out once its lease expires. No database
transaction is held open while a channel is called.

Delivery is at least once: a worker killed after the channel accepted a message but before it
recorded so will have the message sent again after the lease. The alert number in every message
and PagerDuty's ``dedup_key`` let a receiving end recognise such a repeat.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import ColumnElement, Row, case, distinct, func, select, update
from sqlalchemy.orm import Session, joinedload, sessionmaker

from receiver.alerts.channels import Delivery, Message, admin_url, send
from receiver.alerts.groups import active_silences, housekeeping, matching_silence
from receiver.alerts.outbox import (
    FIRING_KINDS,
    claim,
    record_attempt,
    retry_later,
    schedule,
)
from receiver.alerts.rules import Channel, RuleSet
from receiver.catalog import SEVERITIES, Catalog
from receiver.db import SQLITE_IMMEDIATE, get_database, utcnow
from receiver.models import (
    AlertGroup,
    AlertGroupFailure,
    AlertNotification,
    Failure,
    Job,
    JobFile,
    Silence,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Sender = Callable[..., Delivery]

EXAMPLES = 5


class Worker:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        rules: RuleSet,
        catalog: Catalog,
        public_url: str,
        *,
        lease: timedelta = timedelta(seconds=60),
        max_age: timedelta = timedelta(hours=24),
        batch: int = 10,
        clock: Clock = utcnow,
        sender: Sender = send,
        name: str | None = None,
    ) -> None:
        self.sessions = sessions
        self.rules = rules
        self.catalog = catalog
        self.public_url = public_url
        self.lease = lease
        self.max_age = max_age
        self.batch = batch
        self.clock = clock
        self.sender = sender
        # Unique per process and start, so a restarted worker never mistakes old leases for its own.
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self.sessions() as session:
            # Every round writes after reading; on SQLite take the write lock up front.
            session.connection(execution_options={SQLITE_IMMEDIATE: True})
            yield session

    def run(self, stop: threading.Event, poll: float) -> None:
        """Work until ``stop`` is set; sleep ``poll`` seconds when there is nothing due."""
        log.info("alert worker %s started", self.name)
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # the database may be restarting; try again after a pause
                log.exception("alert worker %s: round failed", self.name)
                busy = 0
            if not busy:
                stop.wait(poll)

    def run_once(self) -> int:
        """One round: timed transitions, then every due message claimable now. Returns the
        number of messages handled."""
        with self._session() as session:
            housekeeping(session, self.rules, self.clock())
            session.commit()
        handled = 0
        while True:
            with self._session() as session:
                ids = claim(session, self.name, self.clock(), self.lease, self.batch)
                # Read once per batch: a silence made meanwhile applies from the next batch.
                silences = active_silences(session, self.clock()) if ids else []
            for message_id in ids:
                self.deliver(message_id, silences)
            handled += len(ids)
            if len(ids) < self.batch:
                return handled

    def deliver(self, message_id: int, silences: Sequence[Silence]) -> None:
        with self._session() as session:
            prepared = self._prepare(session, message_id, silences)
            session.commit()
        if prepared is None:
            return
        message, channel = prepared
        started = time.monotonic()
        attempted_at = self.clock()
        outcome = self.sender(channel, message)
        duration_ms = int((time.monotonic() - started) * 1000)
        with self._session() as session:
            self._settle(session, message, channel, outcome, attempted_at, duration_ms)
            session.commit()

    def _prepare(
        self, session: Session, message_id: int, silences: Sequence[Silence]
    ) -> tuple[Message, Channel] | None:
        """Decide whether the message still has to go and render it; settle it if not."""
        row = session.get(
            AlertNotification, message_id, options=[joinedload(AlertNotification.group)]
        )
        if row is None or row.lease_owner != self.name or row.status != "pending":
            return None
        group = row.group
        if row.kind in FIRING_KINDS:
            if group.state not in ("firing", "silenced"):
                self._close(row, "cancelled", f"group is {group.state}")
                return None
            if silence := matching_silence(silences, group.labels):
                group.state, group.silenced_until = "silenced", silence.ends_at
                self._close(row, "suppressed", f"silence #{silence.id} by {silence.author}")
                return None
            if group.state == "silenced":  # until housekeeping notices the silence ended
                self._close(row, "suppressed", "group is silenced")
                return None
        elif group.state != "resolved":
            self._close(row, "cancelled", f"group is {group.state} again")
            return None
        channel = self.rules.channels.get(row.channel)
        if channel is None or not channel.enabled:
            self._close(row, "failed", f"channel {row.channel!r} is not configured")
            return None
        return self._render(session, row, group), channel

    def _render(self, session: Session, row: AlertNotification, group: AlertGroup) -> Message:
        in_group = select(AlertGroupFailure.failure_id).where(
            AlertGroupFailure.group_id == group.id
        )
        rank = case({name: index for index, name in enumerate(SEVERITIES)}, value=Failure.severity)
        job_count, worst = session.execute(
            select(func.count(distinct(Failure.job_id)), func.min(rank)).where(
                Failure.id.in_(in_group)
            )
        ).one()
        latest = session.execute(
            select(
                Failure.vendor,
                Failure.code,
                Failure.code_name,
                Failure.message,
                Failure.backup_server_used,
                Job.external_id.label("job"),
                JobFile.label,
                JobFile.backup_expires_at,
            )
            .join(Job, Job.id == Failure.job_id)
            .outerjoin(JobFile, JobFile.id == Failure.job_file_id)
            .where(Failure.id.in_(in_group))
            .order_by(Failure.id.desc())
            .limit(EXAMPLES)
        ).all()
        action = None
        if latest:
            newest = latest[0]
            entry = self.catalog.lookup(
                newest.vendor, newest.code, backup_server=newest.backup_server_used
            )
            action = entry.action
        now = self.clock()
        # The copies still saved on the vendor's backup server: the soonest deadline to beat.
        deadlines = [
            row.backup_expires_at
            for row in latest
            if row.backup_server_used and row.backup_expires_at and row.backup_expires_at > now
        ]
        return Message(
            notification_id=row.id,
            kind=row.kind,
            fingerprint=group.fingerprint,
            rule=group.rule,
            labels=dict(group.labels),
            failure_count=group.failure_count,
            job_count=job_count or 0,
            first_occurred_at=group.first_occurred_at,
            last_occurred_at=group.last_occurred_at,
            reopened_count=group.reopened_count,
            severity=SEVERITIES[worst] if worst is not None else "error",
            action=action,
            admin_url=admin_url(self.public_url, group.id),
            examples=[_example(row) for row in latest],
            backup_deadline=min(deadlines, default=None),
            backups_url=f"{self.public_url}/admin/backups",
            written_at=now,
        )

    def _settle(
        self,
        session: Session,
        message: Message,
        channel: Channel,
        outcome: Delivery,
        attempted_at: datetime,
        duration_ms: int,
    ) -> None:
        """Record the attempt and settle the message: sent (and the group's next message
        scheduled), or retried later. Plain statements, as this runs once per message sent;
        each change to the message is fenced: it only happens while we still hold the lease."""
        record_attempt(
            session,
            message.notification_id,
            channel.name,
            self.name,
            attempted_at,
            outcome,
            duration_ms,
        )
        self._log_delivery(message, channel, outcome, duration_ms)
        now = self.clock()
        if outcome.error:
            self._retry_later(session, message, outcome.error, outcome.permanent, now)
            return
        sent = self._mark_sent(session, message, now)
        if sent is None:
            # Our lease ran out mid-send and another worker took over: it settles the row.
            log.warning("alert #%s: lease lost during delivery", message.notification_id)
            return
        if message.kind in FIRING_KINDS:
            self._schedule_next(session, message, sent.group_id, sent.channel, now)

    def _log_delivery(
        self, message: Message, channel: Channel, outcome: Delivery, duration_ms: int
    ) -> None:
        # One structured line per delivery, like one per request in the web tier.
        result = "error" if outcome.error else "ok"
        log.info(
            "alert #%s via %s: %s in %dms",
            message.notification_id,
            channel.name,
            result,
            duration_ms,
            extra={
                "alert_id": message.notification_id,
                "channel": channel.name,
                "outcome": result,
                "latency_ms": duration_ms,
                "worker": self.name,
            },
        )

    def _owned(self, message: Message) -> tuple[ColumnElement[bool], ...]:
        """The message's row, while this worker's lease on it holds."""
        return (
            AlertNotification.id == message.notification_id,
            AlertNotification.lease_owner == self.name,
            AlertNotification.status == "pending",
        )

    def _retry_later(
        self, session: Session, message: Message, error: str, permanent: bool, now: datetime
    ) -> None:
        row = session.scalars(select(AlertNotification).where(*self._owned(message))).one_or_none()
        if row is not None:
            # What the attempt said, shown in the history even if no retry succeeds.
            row.failure_count = message.failure_count
            row.title = message.title
            row.body = message.body
            retry_later(session, row, now, error, self.max_age, permanent)
        log.warning("alert #%s failed: %s", message.notification_id, error)

    def _mark_sent(self, session: Session, message: Message, now: datetime) -> Row[int, str] | None:
        """Settle the message as sent; its group and channel, or None if the lease was lost."""
        return session.execute(
            update(AlertNotification)
            .where(*self._owned(message))
            .values(
                status="sent",
                sent_at=now,
                attempts=AlertNotification.attempts + 1,
                lease_owner=None,
                lease_expires_at=None,
                failure_count=message.failure_count,
                title=message.title,
                body=message.body,
            )
            .returning(AlertNotification.group_id, AlertNotification.channel)
        ).one_or_none()

    def _schedule_next(
        self, session: Session, message: Message, group_id: int, channel: str, now: datetime
    ) -> None:
        """Note the group was told, and schedule what it is told next while it fires: news
        that arrived while this message was on its way after group_interval, otherwise the
        same again after repeat_interval."""
        group = session.execute(
            update(AlertGroup)
            .where(AlertGroup.id == group_id)
            .values(
                last_notified_at=now,
                notified_count=case(
                    (AlertGroup.notified_count < message.failure_count, message.failure_count),
                    else_=AlertGroup.notified_count,
                ),
            )
            .returning(AlertGroup.state, AlertGroup.failure_count)
        ).one()
        rule = self.rules.by_name.get(message.rule)
        if group.state != "firing" or rule is None:
            return
        if group.failure_count > message.failure_count:
            kind, due = "firing", now + rule.group_interval
        else:
            kind, due = "repeat", now + rule.repeat_interval
        schedule(session, group_id, [channel], kind, due, now, replace=False)

    @staticmethod
    def _close(row: AlertNotification, status: str, reason: str) -> None:
        row.status, row.last_error = status, reason
        row.lease_owner = row.lease_expires_at = None


def _example(failure: Row[*tuple[Any, ...]]) -> str:
    where = f"job {failure.job}" + (f" output {failure.label!r}" if failure.label else "")
    text = (failure.message or failure.code_name or "").strip().splitlines()
    return f"{where}: {failure.code} {text[0][:200] if text else ''}".rstrip()


def build_worker(app: Flask, **overrides: Any) -> Worker:
    """A worker for this app's database, rules and settings."""
    settings = app.extensions["settings"]
    options: dict[str, Any] = {
        "sessions": get_database(app).sessionmaker,
        "lease": timedelta(seconds=settings.alert_lease_seconds),
        "max_age": timedelta(seconds=settings.alert_max_age_seconds),
        **overrides,
    }
    return Worker(
        rules=app.extensions["alert_rules"],
        catalog=app.extensions["catalog"],
        public_url=settings.public_url,
        **options,
    )
