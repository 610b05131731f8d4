"""A failure joining a big group costs the same as one joining a small group.

The group upsert counts the notification's jobs the group has no failure of yet. Written as
``NOT EXISTS`` in a WHERE clause, PostgreSQL planned it as a hash anti-join that read every link
of the group: 7 ms for a group of 28k failures, for each failing notification, while holding
the group's row lock (every other failure of that group waited). This runs the statement under
``EXPLAIN ANALYZE`` against a group of thousands of failures and checks that the links table is
only probed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from receiver.alerts.groups import _group_and_links_statement
from receiver.direct_sql import _compiled, _parameters
from tests.helpers import post_fixture

LINKS = 3000


def _plan_nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = [node]
    for child in node.get("Plans", []):
        nodes += _plan_nodes(child)
    return nodes


def _grow_group(session, group_id: int, failure_id: int, job_id: int) -> None:
    # Copies of the group's failure (same job), each linked: a group as ingest would leave it.
    session.execute(
        text(
            """
            WITH copies AS (
                INSERT INTO failures (notification_id, job_id, job_file_id, vendor, code,
                    code_name, category, severity, retryable, message, link,
                    backup_server_used, details, status, occurred_at, created_at, fingerprint)
                SELECT notification_id, job_id, job_file_id, vendor, code, code_name, category,
                    severity, retryable, message, link, backup_server_used, details, status,
                    occurred_at, created_at, fingerprint || '-copy-' || n
                FROM failures, generate_series(1, :links) AS n
                WHERE failures.id = :failure_id
                RETURNING id, job_id, occurred_at
            )
            INSERT INTO alert_group_failures (group_id, failure_id, created_at, job_id, occurred_at)
            SELECT :group_id, id, now(), job_id, occurred_at FROM copies
            """
        ),
        {"links": LINKS, "failure_id": failure_id, "group_id": group_id},
    )


@pytest.mark.postgres_only
# Without statistics (a new or fast-growing table, as in a burst) PostgreSQL estimated a few
# hundred links per group and chose the hash; with them, a nested loop. Both must probe.
@pytest.mark.parametrize("analyzed", [False, True], ids=["no statistics", "analyzed"])
def test_joining_a_big_group_probes_its_links_instead_of_reading_them(client, session, analyzed):
    assert post_fixture(client, "lightflow", "asset_error_2503.json").status_code == 202
    group_id, fingerprint, failure_id, job_id = session.execute(
        text(
            "SELECT g.id, g.fingerprint, l.failure_id, l.job_id "
            "FROM alert_groups g JOIN alert_group_failures l ON l.group_id = g.id"
        )
    ).one()
    _grow_group(session, group_id, failure_id, job_id)
    if analyzed:
        session.execute(text("ANALYZE alert_group_failures"))

    now = datetime.now(UTC)
    params = {
        **dict(fingerprint=fingerprint, rule="default", labels={}, state="pending"),
        **dict(failure_count=1, job_count=1, backup_count=0, notified_count=0, reopened_count=0),
        **dict(jobs=json.dumps([job_id]), severity="error", created_at=now, linked_at=now),
        **dict(first_seen_at=now, last_seen_at=now, first_occurred_at=now, last_occurred_at=now),
        **dict(link_failure_ids=[], link_job_ids=[], link_occurred_at=[]),
    }
    connection = session.connection()
    compiled = _compiled(connection.dialect, _group_and_links_statement(), params, many=False)
    cursor = connection.connection.cursor()
    # Six times: psycopg prepares a statement on its fifth execution, and the generic plan
    # PostgreSQL then keeps is the one every later notification runs.
    for _ in range(6):
        cursor.execute(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + compiled.sql, _parameters(compiled, params)
        )
        (plan,) = cursor.fetchone()
    nodes = _plan_nodes(plan[0]["Plan"])

    reads = [
        node["Actual Rows"]
        for node in nodes
        if node.get("Relation Name") == "alert_group_failures"
        and node["Node Type"] != "ModifyTable"
    ]
    assert reads, json.dumps(plan, indent=1)  # the links are looked at …
    assert max(reads) <= 1, json.dumps(plan, indent=1)  # … one probe per job, not 3,001 rows
    assert not any("Hash" in node["Node Type"] for node in nodes), json.dumps(plan, indent=1)
    # And the count is right: the job has failures in the group already.
    row = session.execute(
        text("SELECT job_count FROM alert_groups WHERE id = :id"), {"id": group_id}
    ).one()
    assert row.job_count == 1
