"""The benchmark's generated failures are grouped as ingest would group them: same routing and
fingerprints, the counts the upsert keeps, nothing left ungrouped."""

from __future__ import annotations

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from bench import generate
from receiver.alerts.groups import ungrouped_failures
from receiver.catalog import SEVERITIES
from receiver.models import AlertGroup, AlertGroupFailure, Failure, Job, JobFile
from receiver.records import NewFailure


def test_generated_failures_are_grouped_like_ingest_groups_them(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench.sqlite3'}"
    generate.main(["--database-url", url, "--rows", "3000"])
    generate.main(["--database-url", url, "--rows", "400", "--seed", "8"])  # appended: same groups
    rules = generate.packaged_rules()
    engine = create_engine(url)
    with Session(engine) as session:
        assert ungrouped_failures(session, 1) == []
        assert session.scalar(select(func.count()).select_from(AlertGroupFailure)) == 3400
        groups = {g.id: g for g in session.scalars(select(AlertGroup))}
        fingerprints = [g.fingerprint for g in groups.values()]
        assert len(fingerprints) == len(set(fingerprints))
        rows = session.execute(
            select(Failure, JobFile.label, Job.external_id, AlertGroupFailure.group_id)
            .join(Job, Job.id == Failure.job_id)
            .join(JobFile, JobFile.id == Failure.job_file_id)
            .join(AlertGroupFailure, AlertGroupFailure.failure_id == Failure.id)
        ).all()
        members: dict[int, list[Failure]] = {}
        for failure, label, job, group_id in rows:
            new = NewFailure(
                id=failure.id, vendor=failure.vendor, category=failure.category,
                severity=failure.severity, code=failure.code,
                backup_server=failure.backup_server_used, label=label, job=job,
                job_id=failure.job_id, occurred_at=failure.occurred_at,
            )  # fmt: skip
            [rule] = rules.route(new)
            group = groups[group_id]
            labels = rule.group_labels(new)
            assert (group.rule, group.fingerprint) == (rule.name, rule.fingerprint(labels))
            members.setdefault(group_id, []).append(failure)
        for group_id, failures in members.items():
            group = groups[group_id]
            assert group.failure_count == len(failures)
            assert group.job_count == len({f.job_id for f in failures})
            assert group.backup_count == sum(f.backup_server_used for f in failures)
            assert group.severity == min((f.severity for f in failures), key=SEVERITIES.index)
            assert group.first_occurred_at == min(f.occurred_at for f in failures)
            assert group.last_occurred_at == max(f.occurred_at for f in failures)
            open_ = any(f.status == "open" for f in failures)
            assert (group.state == "pending") == open_
    engine.dispose()
