"""`receiver prune`: exactly what is past retention goes, in batches, open failures stay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import func, select, update

from receiver.cli import main
from receiver.db import utcnow
from receiver.models import Failure, Job, Notification
from receiver.retention import count, parse_duration, prune
from tests.helpers import post_fixture

OLD = utcnow() - timedelta(days=120)


def make_history(client, session) -> None:
    """Two old failures (one resolved), one old success, one recent failure."""
    for name in ("asset_error_2404.json", "asset_error_2503.json", "asset_ready.json"):
        post_fixture(client, "lightflow", name)
    session.execute(update(Notification).values(received_at=OLD))
    session.execute(update(Job).values(updated_at=OLD))
    session.execute(update(Failure).values(occurred_at=OLD))
    session.execute(update(Failure).where(Failure.code == "2404").values(status="resolved"))
    session.commit()
    post_fixture(client, "lightflow", "asset_error_2429.json")  # recent


def rows(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_prune_deletes_exactly_what_is_past_retention(client, session):
    make_history(client, session)
    cutoff = utcnow() - timedelta(days=90)
    assert count(session, cutoff) == {
        "resolved failures": 1,
        "raw notifications": 3,
        "jobs without failures": 2,
    }

    batches: list[tuple[str, int]] = []
    deleted = prune(
        session, cutoff, batch_size=2, on_batch=lambda name, n: batches.append((name, n))
    )

    assert deleted == {"resolved failures": 1, "raw notifications": 3, "jobs without failures": 2}
    assert ("raw notifications", 2) in batches and (
        "raw notifications",
        1,
    ) in batches  # batches of 2
    assert [f.code for f in session.execute(select(Failure).order_by(Failure.id)).scalars()] == [
        "2503",
        "2429",
    ]
    # The open old failure outlives its raw notification, unlinked.
    old_open = session.execute(select(Failure).where(Failure.code == "2503")).scalar_one()
    assert old_open.notification_id is None
    assert rows(session, Notification) == 1 and rows(session, Job) == 2


def test_cli_dry_run_deletes_nothing(app, client, session):
    make_history(client, session)
    result = CliRunner().invoke(
        main, ["prune", "--older-than", "90d", "--dry-run"], obj=ScriptInfo(create_app=lambda: app)
    )
    assert result.exit_code == 0, result.output
    assert "3 raw notifications older than" in result.output
    assert rows(session, Notification) == 4


def test_cli_prunes(app, client, session):
    make_history(client, session)
    result = CliRunner().invoke(
        main, ["prune", "--older-than", "13w"], obj=ScriptInfo(create_app=lambda: app)
    )
    assert result.exit_code == 0, result.output
    assert (
        "deleted: 1 resolved failures, 3 raw notifications, 2 jobs without failures"
        in result.output
    )


@pytest.mark.parametrize(
    "text,expected",
    [("90d", timedelta(days=90)), ("12h", timedelta(hours=12)), ("2w", timedelta(weeks=2))],
)
def test_durations(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "90", "0d", "-1d", "1y", "d"])
def test_bad_durations(text):
    with pytest.raises(ValueError):
        parse_duration(text)
