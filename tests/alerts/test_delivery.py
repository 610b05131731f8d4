"""End to end: ingest -> groups + outbox (same transaction) -> worker -> a real local HTTP server.

The worker runs on an injected clock, so group_wait, group_interval, repeat_interval and backoff
are crossed by moving the clock, never by sleeping.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import func, select

from receiver.alerts import enqueue_alerts
from receiver.alerts.groups import add_silence
from receiver.alerts.triage import Actor, change_groups
from receiver.db import utcnow
from receiver.models import (
    AlertGroup,
    AlertNotification,
    DeliveryAttempt,
    Failure,
    Job,
    JobFile,
)
from receiver.records import NewFailure
from tests.helpers import FIXTURES, post
from tests.vendors.kits import fixture_files

GROUP_WAIT = timedelta(seconds=30)
ONCALL = Actor("oncall@example.com", "cli")


def post_failures(
    client, count: int, code: int = 2007, prefix: str = "asset", ended: datetime | None = None
) -> None:
    """``count`` LightFlow assets failing with ``code`` (2007: credentials, critical), at the
    fixture's time or ``ended``."""
    template = json.loads((FIXTURES / "lightflow" / "asset_error_2007.json").read_text())
    if ended is not None:
        template["endDate"] = ended.isoformat().replace("+00:00", "Z")
    for number in range(count):
        body = {
            **template,
            "uuid": f"{prefix}-{code}-{number}",
            "assetError": {"code": code, "message": f"failure {number}"},
        }
        response = post(client, "lightflow", json.dumps(body).encode())
        assert response.status_code == 202, response.json


def the_group(session) -> AlertGroup:
    [group] = session.scalars(select(AlertGroup)).all()
    session.refresh(group)
    return group


def attempts(session, outcome: str) -> int:
    return session.scalar(
        select(func.count()).select_from(DeliveryAttempt).where(DeliveryAttempt.outcome == outcome)
    )


def test_a_burst_within_group_wait_is_one_notification(client, session, channel, worker, clock):
    post_failures(client, 100)

    assert worker.run_once() == 0  # group_wait not over: nothing is due yet
    assert channel.received == []

    clock.advance(seconds=31)
    assert worker.run_once() == 2  # one message per channel
    [hook] = channel.delivered("/hook")
    [page] = channel.delivered("/pd")
    assert hook["title"].startswith("[FIRING] lightflow credentials 2007: 100 failures in 100 jobs")
    assert "What to do:" in hook["message"]
    assert f"/admin/groups/{the_group(session).id}" in hook["message"]
    group = the_group(session)
    assert page["event_action"] == "trigger"
    assert page["dedup_key"] == group.fingerprint
    assert page["payload"]["severity"] == "critical"
    assert page["payload"]["custom_details"]["failures"] == 100
    assert (group.state, group.failure_count, group.notified_count) == ("firing", 100, 100)

    clock.advance(minutes=10)
    worker.run_once()
    assert len(channel.received) == 2  # nothing new: no further message before repeat_interval


def test_an_unresolved_group_is_repeated_after_repeat_interval(
    client, session, channel, worker, clock
):
    post_failures(client, 3)
    clock.advance(seconds=31)
    worker.run_once()
    assert len(channel.delivered("/hook")) == 1

    clock.advance(hours=3, minutes=59)
    worker.run_once()
    assert len(channel.delivered("/hook")) == 1

    clock.advance(minutes=2)
    worker.run_once()
    _first, repeat = channel.delivered("/hook")
    assert repeat["title"].startswith("[REPEAT] lightflow credentials 2007: 3 failures")
    assert len(channel.delivered("/pd")) == 2


def test_news_waits_for_group_interval(client, session, channel, worker, clock):
    post_failures(client, 1)
    clock.advance(seconds=31)
    worker.run_once()
    post_failures(client, 2, prefix="later")

    clock.advance(minutes=4)
    worker.run_once()
    assert len(channel.delivered("/hook")) == 1

    clock.advance(minutes=2)
    worker.run_once()
    assert channel.delivered("/hook")[-1]["title"].startswith(
        "[FIRING] lightflow credentials 2007: 3 failures in 3 jobs"
    )


def test_a_silence_suppresses_until_it_expires(client, session, channel, worker, clock):
    add_silence(
        session,
        {"category": ["credentials"]},
        "ops@example.com",
        "rotating keys",
        ends_at=clock.now + timedelta(hours=1),
        starts_at=clock.now - timedelta(minutes=1),
    )
    session.commit()
    post_failures(client, 5)
    group = the_group(session)
    assert group.state == "silenced"

    clock.advance(minutes=30)
    worker.run_once()
    assert channel.received == []

    clock.advance(minutes=31)  # the silence has expired by itself
    worker.run_once()
    [hook] = channel.delivered("/hook")
    assert "5 failures" in hook["title"]
    assert the_group(session).state == "firing"


def test_a_silence_created_after_enqueue_suppresses_delivery(
    client, session, channel, worker, clock
):
    post_failures(client, 2)
    add_silence(
        session, {"vendor": ["light*"]}, "me", "maintenance", clock.now + timedelta(hours=1)
    )
    session.commit()
    clock.advance(seconds=31)
    worker.run_once()
    assert channel.received == []
    statuses = session.scalars(select(AlertNotification.status)).all()
    assert statuses == ["suppressed", "suppressed"]


def test_a_regression_reopens_a_resolved_group(client, session, channel, worker, clock, rules):
    post_failures(client, 2)
    clock.advance(seconds=31)
    worker.run_once()
    group = the_group(session)

    resolved = change_groups(session, rules, [group.id], "resolve", ONCALL, now=clock.now)
    assert resolved.changed == [group.id]
    session.commit()
    worker.run_once()
    resolved = channel.delivered("/pd")[-1]
    assert resolved == {
        "routing_key": "R0UT1NGKEY0123456789abcdefabcdef",
        "event_action": "resolve",
        "dedup_key": group.fingerprint,
    }
    assert channel.delivered("/hook")[-1]["title"].startswith("[RESOLVED]")

    post_failures(client, 1, prefix="again")
    group = the_group(session)
    assert (group.state, group.reopened_count) == ("firing", 1)
    clock.advance(seconds=31)
    worker.run_once()
    regression = channel.delivered("/hook")[-1]
    assert regression["title"].startswith("[REGRESSION] lightflow credentials 2007: 3 failures")
    assert "resolved and is failing again" in regression["message"]
    assert channel.delivered("/pd")[-1]["event_action"] == "trigger"


def test_500_three_times_then_200_is_one_delivery_and_three_failed_attempts(
    client, session, channel, worker, clock
):
    post_failures(client, 1)
    channel.script["/hook"] = [500, 500, 500]
    clock.advance(seconds=31)
    for _ in range(6):
        worker.run_once()
        clock.advance(minutes=11)  # past any backoff (capped at 10 minutes)

    assert [r.status for r in channel.received if r.path == "/hook"] == [500, 500, 500, 200]
    assert len(channel.delivered("/hook")) == 1
    hook = session.scalar(select(AlertNotification).where(AlertNotification.channel == "hook"))
    assert (hook.status, hook.attempts) == ("sent", 4)
    outcomes = session.scalars(
        select(DeliveryAttempt.outcome)
        .where(DeliveryAttempt.notification_id == hook.id)
        .order_by(DeliveryAttempt.id)
    ).all()
    assert outcomes == ["error", "error", "error", "ok"]
    assert "500" in session.scalars(select(DeliveryAttempt.error)).first()


def test_retries_back_off_and_give_up_after_max_age(client, session, channel, worker, clock):
    post_failures(client, 1)
    channel.script["/hook"] = [503] * 100
    clock.advance(seconds=31)
    worker.run_once()
    hook = session.scalar(select(AlertNotification).where(AlertNotification.channel == "hook"))
    session.refresh(hook)
    assert hook.status == "pending"
    assert timedelta(seconds=2.5) <= hook.due_at - clock.now <= timedelta(seconds=5)

    worker.run_once()  # not due yet: no new attempt
    assert attempts(session, "error") == 1
    for _ in range(30):
        clock.advance(hours=1)
        worker.run_once()
    session.refresh(hook)
    assert hook.status == "failed"
    assert 2 <= attempts(session, "error") <= 26


def test_a_failed_delivery_keeps_what_it_tried_to_say(client, session, channel, worker, clock):
    """The history shows a message that never got through as it would have read."""
    post_failures(client, 3)
    channel.script["/hook"] = [503]
    clock.advance(seconds=31)
    worker.run_once()
    hook = session.scalar(select(AlertNotification).where(AlertNotification.channel == "hook"))
    session.refresh(hook)
    assert (hook.status, hook.failure_count) == ("pending", 3)
    [tried] = [received.body for received in channel.received if received.path == "/hook"]
    assert (hook.title, hook.body) == (tried["title"], tried["message"])
    assert "lightflow" in hook.title and "3 failure" in hook.body


def test_pagerduty_rejecting_an_event_is_not_retried(client, session, channel, worker, clock):
    post_failures(client, 1)
    clock.advance(seconds=31)
    channel.script["/pd"] = [400]
    worker.run_once()
    page = session.scalar(select(AlertNotification).where(AlertNotification.channel == "pd"))
    session.refresh(page)
    assert (page.status, page.attempts) == ("failed", 1)
    assert "400" in page.last_error


def test_threshold_alerts_only_above_the_count(client, session, channel, worker, clock):
    post_failures(client, 5, code=2503)  # remote_unavailable: transient, more than 5 needed
    group = the_group(session)
    assert (group.state, group.failure_count) == ("pending", 5)
    clock.advance(minutes=1)
    worker.run_once()
    assert channel.received == []

    post_failures(client, 1, code=2503, prefix="sixth")
    assert the_group(session).state == "firing"
    clock.advance(minutes=1)
    worker.run_once()
    [hook] = channel.delivered("/hook")
    assert hook["title"].startswith("[FIRING] lightflow remote_unavailable: 6 failures")
    assert channel.delivered("/pd") == []  # the transient rule only uses the webhook


def test_acknowledged_groups_are_not_repeated(client, session, channel, worker, clock):
    post_failures(client, 1)
    clock.advance(seconds=31)
    worker.run_once()
    acked = change_groups(session, worker.rules, [the_group(session).id], "acknowledge", ONCALL)
    assert acked.changed
    session.commit()
    post_failures(client, 1, prefix="more")
    clock.advance(hours=5)
    worker.run_once()
    assert len(channel.delivered("/hook")) == 1
    assert the_group(session).failure_count == 2


def test_info_failures_never_alert(session, rules):
    job = Job(
        vendor="lightflow",
        kind="asset",
        external_id="a1",
        state="error",
        state_rank=9,
        attributes={},
    )
    session.add(job)
    session.flush()
    failures = [
        Failure(
            job_id=job.id,
            vendor="lightflow",
            code=str(code),
            category="ok",
            severity=severity,
            retryable="no",
            details={},
            occurred_at=utcnow(),
            fingerprint=f"f{code}",
        )
        for code, severity in ((1, "info"), (2, "error"))
    ]
    session.add_all(failures)
    session.flush()
    attributes = [
        NewFailure(
            id=f.id,
            vendor=f.vendor,
            category=f.category,
            severity=f.severity,
            code=f.code,
            backup_server=False,
            label=None,
            job=job.external_id,
            job_id=job.id,
            occurred_at=f.occurred_at,
        )
        for f in failures
    ]
    enqueue_alerts(session, attributes, rules)
    error, info = session.scalars(select(AlertGroup).order_by(AlertGroup.rule)).all()
    assert (error.rule, error.labels["code"], error.failure_count) == ("everything", "2", 1)
    # Grouped like every failure (triage), but its rule has no channel: nobody is told.
    assert (info.rule, info.labels["code"], info.state) == ("info", "1", "pending")
    told = session.scalars(select(AlertNotification.group_id)).all()
    assert told and set(told) == {error.id}


def test_alerts_see_the_failures_as_stored(client, session, monkeypatch):
    """Ingest hands alert rules the failures it just stored without reading them back; what it
    hands over must be what a read of the stored rows (with their job and file) gives."""
    from receiver import ingest

    handed: list[NewFailure] = []

    def capture(session_, new_failures, rules_):
        handed.extend(new_failures)
        enqueue_alerts(session_, new_failures, rules_)

    monkeypatch.setattr(ingest, "enqueue_alerts", capture)
    # Labels first arrive with a finished output; the failure notification after it may omit it.
    for vendor in ("zencoder", "lightflow"):
        for path in fixture_files(vendor):
            content_type = "application/xml" if path.suffix == ".xml" else "application/json"
            body = path.read_bytes()
            if path.suffix == ".xml":  # the same output as output_failed.json: make it another
                body = body.replace(b"48213390", b"48213391")
            response = post(client, vendor, body, content_type=content_type)
            assert response.status_code in (200, 202), (path, response.json)

    stored = session.execute(
        select(
            Failure.id,
            Failure.vendor,
            Failure.category,
            Failure.severity,
            Failure.code,
            Failure.backup_server_used.label("backup_server"),
            JobFile.label,
            Job.external_id.label("job"),
            Failure.job_id,
            Failure.occurred_at,
        )
        .join(Job, Job.id == Failure.job_id)
        .outerjoin(JobFile, JobFile.id == Failure.job_file_id)
        .order_by(Failure.id)
    )
    assert len(handed) >= 15 and any(failure.label for failure in handed)
    assert sorted(handed, key=lambda f: f.id) == [NewFailure(**row._mapping) for row in stored]


def test_alerts_roll_back_with_the_notification(client, session, rules, monkeypatch):
    """The outbox row is written in the ingest transaction: no commit, no alert."""
    from receiver import ingest

    def fail_after_enqueue(*args, **kwargs):
        enqueue_alerts(*args, **kwargs)
        raise RuntimeError("the commit never happens")

    monkeypatch.setattr(ingest, "enqueue_alerts", fail_after_enqueue)
    body = (FIXTURES / "lightflow" / "asset_error_2007.json").read_bytes()
    assert post(client, "lightflow", body).status_code == 500
    for model in (Failure, AlertGroup, AlertNotification):
        assert session.scalar(select(func.count()).select_from(model)) == 0


def test_a_backup_server_alert_carries_the_deadline_and_says_to_save_the_copy(
    client, session, channel, worker, clock
):
    # Zencoder could not write to S3 (credentials): the output waits on its backup server.
    name = "output_backup_thumbnail_failed.json"
    body = json.loads((FIXTURES / "zencoder" / name).read_text())
    expires = clock.now + timedelta(hours=5)
    body["output"]["url"] = (
        "https://zencoder-live.s3.amazonaws.com/out.mp4?Signature=x"
        f"&Expires={int(expires.timestamp())}"
    )
    assert post(client, "zencoder", json.dumps(body).encode()).status_code == 202
    clock.advance(seconds=31)
    worker.run_once()
    [hook] = channel.delivered("/hook")
    deadline = f"{expires:%Y-%m-%d %H:%M:%S} UTC"
    assert f"Backup copy available until {deadline} (in 4 h 59 min)" in hook["message"]
    assert "/admin/backups" in hook["message"]
    assert "What to do: First save the output" in hook["message"]
    [page] = channel.delivered("/pd")
    details = page["payload"]["custom_details"]
    assert details["backup_deadline"].startswith(expires.replace(microsecond=0).isoformat()[:16])


def test_an_expired_backup_copy_is_not_offered_as_a_deadline(
    client, session, channel, worker, clock
):
    body = (FIXTURES / "zencoder" / "output_backup_thumbnail_failed.json").read_bytes()
    assert post(client, "zencoder", body).status_code == 202  # its URL expired in 2024
    clock.advance(seconds=31)
    worker.run_once()
    [hook] = channel.delivered("/hook")
    assert "Backup copy available" not in hook["message"]
