"""Re-classifying stored failures after a catalog change is one command."""

from __future__ import annotations

from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import select, update

from receiver.cli import main
from receiver.models import Failure
from tests.helpers import post_fixture


def stale_failure(client, session) -> Failure:
    post_fixture(client, "lightflow", "asset_error_2429.json")
    session.execute(update(Failure).values(category="stale", severity="info", code_name="OLD"))
    session.commit()
    return session.execute(select(Failure)).scalar_one()


def run_reclassify(app, *args: str):
    return CliRunner().invoke(
        main, ["codes", "reclassify", *args], obj=ScriptInfo(create_app=lambda: app)
    )


def test_reclassify_restores_the_catalog_classification(app, client, session):
    failure = stale_failure(client, session)
    result = run_reclassify(app)
    assert result.exit_code == 0, result.output
    assert "1 failure(s) reclassified" in result.output
    session.refresh(failure)
    entry = app.extensions["catalog"].lookup("lightflow", "2429")
    assert (failure.category, failure.severity, failure.code_name) == (
        entry.category,
        entry.severity,
        entry.name,
    )

    # Nothing left to change the second time.
    assert "0 failure(s) reclassified" in run_reclassify(app).output


def test_dry_run_changes_nothing(app, client, session):
    failure = stale_failure(client, session)
    result = run_reclassify(app, "--dry-run")
    assert "1 failure(s) would be reclassified" in result.output
    session.refresh(failure)
    assert failure.category == "stale"
