"""The triage model itself: what a group keeps about its failures, how groups and failures move
together (whoever acts), what the receiver changes by itself, and the record of every change.

Failures come in through real ingest (``post_failures``) with the test rules (a local channel);
the worker runs on a test clock.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from receiver.alerts.groups import group_failures, ungrouped_failures
from receiver.alerts.rules import load_rules
from receiver.alerts.triage import (
    RECEIVER,
    Actor,
    change_failures,
    change_groups,
    settle_backfilled,
)
from receiver.db import utcnow
from receiver.models import AlertGroup, AlertGroupFailure, Failure, TriageEvent
from receiver.records import NewFailure
from tests.admin.conftest import add_failure
from tests.alerts.conftest import RULES
from tests.alerts.test_delivery import post_failures
from tests.helpers import FIXTURES, post

BOB = Actor("bob", "cli")


def groups(session) -> list[AlertGroup]:
    session.expire_all()
    return list(session.scalars(select(AlertGroup).order_by(AlertGroup.id)))


def statuses(session) -> list[str]:
    return list(session.scalars(select(Failure.status).order_by(Failure.id)))


# -- what a group keeps ---------------------------------------------------------------------------


def test_a_group_counts_jobs_once_keeps_the_worst_severity_and_both_clocks(client, session, rules):
    template = json.loads((FIXTURES / "zencoder" / "output_failed.json").read_text())
    at = ["2026-12-01T10:00:00Z", "2026-11-30T08:00:00Z", "2026-12-02T09:30:00Z"]
    # Two outputs of job 1 (two notifications), then one output of job 2.
    for n, (job, output) in enumerate(((1, 11), (1, 12), (2, 21))):
        body = json.loads(json.dumps(template))
        body["job"]["id"], body["output"]["id"], body["job"]["updated_at"] = job, output, at[n]
        assert post(client, "zencoder", json.dumps(body).encode()).status_code == 202
    [group] = groups(session)
    assert (group.failure_count, group.job_count, group.severity) == (3, 2, "error")
    assert group.first_occurred_at.isoformat() == "2026-11-30T08:00:00+00:00"
    assert group.last_occurred_at.isoformat() == "2026-12-02T09:30:00+00:00"
    assert group.first_seen_at <= group.last_seen_at <= utcnow()  # our clock, not the vendor's
    links = session.scalars(select(AlertGroupFailure).order_by(AlertGroupFailure.failure_id))
    assert [link.occurred_at.day for link in links] == [1, 30, 2]


def test_a_kvs_batch_of_several_streams_counts_each_stream_once(app, session, rules):
    """Many jobs in one notification: the upsert counts those the group has no failure of."""
    from receiver.alerts import enqueue_alerts
    from receiver.models import Job

    jobs = []
    for name in ("cam-1", "cam-2"):
        job = Job(vendor="kvs", kind="stream", external_id=name, state="x", state_rank=0,
                  attributes={})  # fmt: skip
        session.add(job)
        jobs.append(job)
    session.flush()

    def new(job, n):
        failure = add_failure(session, vendor="kvs", code="0x52000037", category="network",
                              fingerprint=f"kvs:{job.external_id}:{n}")  # fmt: skip
        failure.job_id = job.id
        session.flush()
        return NewFailure(id=failure.id, vendor="kvs", category="network", severity="error",
                          code="0x52000037", backup_server=False, label=None,
                          job=job.external_id, job_id=job.id, occurred_at=failure.occurred_at)  # fmt: skip

    enqueue_alerts(session, [new(jobs[0], 1), new(jobs[0], 2), new(jobs[1], 3)], rules)
    enqueue_alerts(session, [new(jobs[1], 4), new(jobs[0], 5)], rules)
    [group] = groups(session)
    assert (group.failure_count, group.job_count) == (5, 2)


def test_a_job_new_to_a_group_counts_though_another_group_has_it(app, session, rules):
    """The upsert's count of new jobs looks at the group's own links, not at every group's."""
    from receiver.alerts import enqueue_alerts

    def new(category, job=None):
        failure = add_failure(session, vendor="kvs", code="0x52000037", category=category)
        if job is not None:
            failure.job_id = job
            session.flush()
        return NewFailure(id=failure.id, vendor="kvs", category=category, severity="error",
                          code="0x52000037", backup_server=False, label=None,
                          job=str(failure.job_id), job_id=failure.job_id,
                          occurred_at=failure.occurred_at)  # fmt: skip

    first = new("network")
    enqueue_alerts(session, [first], rules)  # the job's first group
    enqueue_alerts(session, [new("remote_unavailable")], rules)  # another job opens a second
    enqueue_alerts(session, [new("remote_unavailable", job=first.job_id)], rules)
    network, unavailable = groups(session)
    assert (network.job_count, unavailable.job_count) == (1, 2)
    assert unavailable.failure_count == 2


# -- moving together ------------------------------------------------------------------------------


def test_acknowledge_resolve_and_reopen_move_a_groups_failures_and_record_each(
    session, client, rules
):
    post_failures(client, 3)
    [group] = groups(session)
    outcome = change_groups(session, rules, [group.id], "acknowledge", BOB, "on it")
    assert (outcome.changed, outcome.failures_changed) == ([group.id], 3)
    assert statuses(session) == ["acknowledged"] * 3
    change_groups(session, rules, [group.id], "resolve", BOB)
    assert statuses(session) == ["resolved"] * 3
    change_groups(session, rules, [group.id], "reopen", BOB, "not fixed")
    assert (groups(session)[0].state, statuses(session)) == ("pending", ["open"] * 3)

    own = session.scalars(
        select(TriageEvent).where(TriageEvent.failure_id.is_(None)).order_by(TriageEvent.id)
    ).all()
    assert [(e.action, e.from_state, e.to_state, e.actor, e.via, e.note) for e in own] == [
        ("acknowledge", "firing", "acknowledged", "bob", "cli", "on it"),
        ("resolve", "acknowledged", "resolved", "bob", "cli", None),
        ("reopen", "resolved", "pending", "bob", "cli", "not fixed"),
    ]
    assert [e.failure_count for e in own] == [3, 3, 3]
    per_failure = session.scalar(
        select(func.count()).select_from(TriageEvent).where(TriageEvent.failure_id.is_not(None))
    )
    assert per_failure == 9  # each failure's three changes, each pointing at its group's
    causes = session.scalars(
        select(TriageEvent.cause_id).where(TriageEvent.failure_id.is_not(None))
    )
    assert sorted(set(causes)) == [e.id for e in own]


def test_an_action_that_does_not_apply_changes_nothing(session, client, rules):
    post_failures(client, 1)
    [group] = groups(session)
    outcome = change_groups(session, rules, [group.id, 999999], "reopen", BOB)
    assert (outcome.changed, outcome.unchanged, outcome.missing) == ([], [group.id], [999999])
    assert outcome.summary("group") == "0 groups reopened; 1 already open; 1 not found"
    assert session.scalar(select(func.count()).select_from(TriageEvent)) == 0


def test_a_failure_in_two_groups_settles_both(app, session, tmp_path, monkeypatch):
    """A rule with `continue` puts a failure in two groups: resolving one group resolves the
    failure, and the other group, whose only failure it was, follows."""
    path = tmp_path / "rules.toml"
    path.write_text(
        RULES.format(port=9).replace(
            '[[rules]]\nname = "info"',
            '[[rules]]\nname = "audit"\nmatch = { category = "credentials" }\n'
            'group_by = ["vendor"]\nchannels = []\ncontinue = true\n\n[[rules]]\nname = "info"',
        )
    )
    rules = load_rules(path)
    monkeypatch.setitem(app.extensions, "alert_rules", rules)
    post_failures(app.test_client(), 1)
    audit, everything = sorted(groups(session), key=lambda g: g.rule)
    assert (audit.rule, everything.rule) == ("audit", "everything")
    outcome = change_groups(session, rules, [everything.id], "resolve", BOB)
    assert outcome.groups_changed == [audit.id]
    assert [g.state for g in groups(session)] == ["resolved", "resolved"]


def test_resolving_failures_resolves_the_group_only_with_its_last_open_one(session, client, rules):
    post_failures(client, 2)
    ids = session.scalars(select(Failure.id).order_by(Failure.id)).all()
    first = change_failures(session, rules, [ids[0]], "resolve", BOB)
    assert first.groups_changed == [] and groups(session)[0].state == "firing"
    change_failures(session, rules, [ids[1]], "acknowledge", BOB)  # acknowledged is not resolved
    assert groups(session)[0].state == "firing"
    last = change_failures(session, rules, [ids[1]], "resolve", BOB, "fixed the keys")
    [group] = groups(session)
    assert last.groups_changed == [group.id] and group.state == "resolved"
    event = session.scalars(
        select(TriageEvent).where(
            TriageEvent.group_id == group.id, TriageEvent.failure_id.is_(None)
        )
    ).one()
    caused_by = session.get(TriageEvent, event.cause_id)
    assert (caused_by.failure_id, caused_by.note) == (ids[1], "fixed the keys")

    reopened = change_failures(session, rules, [ids[0]], "reopen", BOB)
    assert reopened.groups_changed == [group.id] and groups(session)[0].state == "pending"


def test_a_quiet_group_resolves_by_itself_with_its_failures(session, client, worker, clock):
    post_failures(client, 2)
    clock.advance(seconds=31)
    worker.run_once()
    # The packaged rules resolve a group after a day without failures; give the test rule that.
    [group] = groups(session)
    rule = replace(worker.rules.by_name[group.rule], resolve_after=timedelta(days=1))
    others = tuple(r for r in worker.rules.rules if r.name != rule.name)
    worker.rules = replace(worker.rules, rules=(*others, rule))
    clock.advance(days=1, minutes=1)
    worker.run_once()
    [group] = groups(session)
    assert (group.state, group.resolved_by) == ("resolved", None)  # None: by itself
    assert statuses(session) == ["resolved", "resolved"]
    event = session.scalars(select(TriageEvent).where(TriageEvent.failure_id.is_(None))).one()
    assert (event.actor, event.via) == ("receiver", "receiver")
    assert event.note.startswith("no new failure for 1 day")


# -- failures stored before every failure was grouped ---------------------------------------------


def test_backfill_groups_old_failures_in_the_state_their_failures_are_in(session, rules):
    add_failure(session, vendor="lightflow", code="2007", category="credentials",
                severity="critical", status="resolved", fingerprint="old:1")  # fmt: skip
    add_failure(session, vendor="lightflow", code="2007", category="credentials",
                severity="critical", status="resolved", fingerprint="old:2")  # fmt: skip
    add_failure(session, vendor="zencoder", code="E1", category="encoding",
                severity="error", status="open", fingerprint="old:3")  # fmt: skip
    batch = ungrouped_failures(session, 10)
    assert [f.id for f in batch] == sorted(f.id for f in batch) and len(batch) == 3
    now = utcnow()
    made = {group.id for group, _batch in group_failures(session, batch, rules, now)}
    settle_backfilled(session, rules, made, now)
    states = {g.labels["code"]: (g.state, g.failure_count) for g in groups(session)}
    assert states == {"2007": ("resolved", 2), "E1": ("pending", 1)}
    assert ungrouped_failures(session, 10) == []  # a second run has nothing to do


@pytest.mark.parametrize("actor", [RECEIVER, BOB])
def test_who_resolved_is_kept_on_the_group_unless_it_was_the_receiver(
    session, client, rules, actor
):
    post_failures(client, 1)
    [group] = groups(session)
    change_groups(session, rules, [group.id], "resolve", actor)
    assert groups(session)[0].resolved_by == (None if actor is RECEIVER else "bob")
