"""CloudWatch alarms as SNS carries them: ALARM is a classified failure of the alarm, OK
resolves its open failures, and a late OK never resolves a newer ALARM."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from receiver.models import AlertGroup, Job, Notification, TriageEvent
from tests.helpers import stored_failures
from tests.vendors.sns.kit import carried_message, message, send_signed


def alarm_job(session) -> Job:
    return session.execute(select(Job).execution_options(populate_existing=True)).scalar_one()


@pytest.mark.parametrize("version", ["1", "2"])
def test_alarm_is_a_classified_failure(client, session, sns_signer, sns_fetcher, version):
    response = send_signed(
        client, sns_signer, message("alarm_putmedia_success_alarm.json"), version
    )
    assert response.status_code == 202 and response.json["failures"] == 1
    [failure] = stored_failures(session)
    assert (failure.vendor, failure.code, failure.category, failure.status) == (
        "cloudwatch",
        "PutMedia.Success",
        "stream",
        "open",
    )
    assert failure.details["dimensions"] == {"StreamName": "front-door-cam"}
    assert failure.message.startswith("Threshold Crossed")
    assert session.get(Notification, response.json["id"]).vendor == "sns"
    job = alarm_job(session)
    assert (job.kind, job.state) == ("alarm", "ALARM")
    assert job.external_id.startswith("arn:aws:cloudwatch:")


def test_ok_resolves_the_alarms_open_failures(client, session, sns_signer, sns_fetcher):
    send_signed(client, sns_signer, message("alarm_putmedia_success_alarm.json"))
    response = send_signed(client, sns_signer, message("alarm_putmedia_success_ok.json"), "2")
    assert response.status_code == 202 and response.json["failures"] == 0
    [failure] = stored_failures(session)
    assert failure.status == "resolved"
    assert alarm_job(session).state == "OK"


def test_ok_resolves_the_alarms_group_too_as_the_receiver(client, session, sns_signer, sns_fetcher):
    send_signed(client, sns_signer, message("alarm_putmedia_success_alarm.json"))
    [group] = session.scalars(select(AlertGroup)).all()
    assert group.state == "pending"  # grouped though no channel is configured here
    send_signed(client, sns_signer, message("alarm_putmedia_success_ok.json"))
    session.refresh(group)
    assert (group.state, group.resolved_by) == ("resolved", None)
    events = session.scalars(select(TriageEvent).order_by(TriageEvent.id)).all()
    assert [(e.actor, e.action, bool(e.failure_id), bool(e.group_id)) for e in events] == [
        ("receiver", "resolve", True, False),  # the failure, because the vendor said so
        ("receiver", "resolve", False, True),  # its group, because that was its last one
    ]
    assert events[0].note.startswith("the vendor reported it back to normal at 2024-06-10 06:45")
    assert events[1].cause_id == events[0].id


def test_late_ok_does_not_resolve_a_newer_alarm(client, session, sns_signer, sns_fetcher):
    newer = carried_message(
        "alarm_putmedia_success_alarm.json", StateChangeTime="2024-06-10T07:00:00.000+0000"
    )
    send_signed(client, sns_signer, newer)
    send_signed(client, sns_signer, message("alarm_putmedia_success_ok.json"))  # 06:45
    [failure] = stored_failures(session)
    assert failure.status == "open"
    assert alarm_job(session).state == "ALARM"


def test_invalid_alarm_is_422_and_kept(client, session, sns_signer, sns_fetcher):
    msg = carried_message("alarm_putmedia_success_alarm.json", NewStateValue="ON_FIRE")
    response = send_signed(client, sns_signer, msg)
    assert response.status_code == 422
    assert "NewStateValue" in response.json["errors"]["Message"]
    stored = session.get(Notification, response.json["id"])
    assert (stored.status, stored.auth) == ("rejected", "passed")
