"""`cs run retention` and the plan's periods for customer data: what goes,
what stays, the dry run, and the audit entry of each deletion."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa

from cs_cli.db.models import (
    AuditEntry,
    CSTask,
    Customer,
    HealthScoreHistory,
    Journey,
    JourneyEnrollment,
    Touchpoint,
)
from cs_cli.domain import EnrollmentStatus, HealthStatus, JourneyType, TaskStatus, TouchpointType

NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)


def _arrange(engine) -> None:
    def years(n: float) -> dt.datetime:
        return NOW - dt.timedelta(days=round(365.25 * n))

    with engine.begin() as conn:
        cid = conn.scalar(sa.select(Customer.id).where(Customer.external_id == "E-1"))
        for ext, when in (("T-old", years(7.5)), ("T-new", years(6.5))):
            conn.execute(
                sa.insert(Touchpoint).values(
                    external_id=ext, customer_id=cid, touchpoint_type=TouchpointType.CALL, occurred_at=when
                )
            )
        for when in (years(3.5), years(2.5)):
            conn.execute(
                sa.insert(HealthScoreHistory).values(
                    customer_id=cid,
                    as_of=when.date(),
                    overall_score=60,
                    health_status=HealthStatus.AT_RISK,
                    measures={},
                    calculated_at=when,
                )
            )
        for title, status, done in (
            ("closed long ago", TaskStatus.COMPLETED, years(2.5)),
            ("cancelled long ago", TaskStatus.CANCELLED, years(2.5)),
            ("closed lately", TaskStatus.COMPLETED, years(1.5)),
            ("open and old", TaskStatus.PENDING, None),
        ):
            conn.execute(
                sa.insert(CSTask).values(
                    customer_id=cid,
                    title=title,
                    status=status,
                    completed_at=done,
                    created_at=years(3),
                    updated_at=done or years(3),
                )
            )
        journey = conn.execute(
            sa.insert(Journey)
            .values(
                key="j",
                name="J",
                journey_type=JourneyType.ONBOARDING,
                created_at=years(4),
                updated_at=years(4),
            )
            .returning(Journey.id)
        ).scalar_one()
        for status, ended in ((EnrollmentStatus.COMPLETED, years(2.5)), (EnrollmentStatus.ACTIVE, None)):
            conn.execute(
                sa.insert(JourneyEnrollment).values(
                    journey_id=journey,
                    customer_id=cid,
                    status=status,
                    enrolled_at=years(3),
                    completed_at=ended,
                    created_at=years(3),
                    updated_at=ended or years(3),
                )
            )


def test_customer_data_goes_after_the_plans_periods(run_cli, book, engine):
    _arrange(engine)
    at = ("--as-of", NOW.strftime("%Y-%m-%dT%H:%M"))
    preview = run_cli("run", "retention", "--dry-run", *at, "-f", "json")
    assert preview.exit_code == 0, preview.stderr
    rows = {r["kind"]: r["rows"] for r in json.loads(preview.stdout)}
    assert (rows["touchpoints"], rows["health_history"], rows["tasks"], rows["journeys"]) == (1, 1, 2, 1)
    assert "would delete 5 rows; nothing was deleted" in preview.stderr
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(Touchpoint)) == 2
    done = run_cli("run", "retention", *at)
    assert done.exit_code == 0, done.stderr
    with engine.connect() as conn:
        assert list(conn.scalars(sa.select(Touchpoint.external_id))) == ["T-new"]
        assert conn.scalar(sa.select(sa.func.count()).select_from(HealthScoreHistory)) == 1
        assert sorted(conn.scalars(sa.select(CSTask.title))) == ["closed lately", "open and old"]
        assert list(conn.scalars(sa.select(JourneyEnrollment.status))) == [EnrollmentStatus.ACTIVE]
        deleted = conn.execute(
            sa.select(AuditEntry.entity_type, AuditEntry.details).where(
                AuditEntry.action == "retention.deleted"
            )
        ).all()
    assert {kind: d["deleted"] for kind, d in deleted} == {
        "touchpoints": 1,
        "health_history": 1,
        "tasks": 2,
        "journeys": 1,
    }
    assert run_cli("audit", "verify").exit_code == 0


def test_off_keeps_a_kind_and_dry_run_is_for_retention_alone(run_cli, book, engine):
    _arrange(engine)
    at = ("--as-of", NOW.strftime("%Y-%m-%dT%H:%M"))
    env = {"CS_RETENTION_TOUCHPOINTS": "off", "CS_RETENTION_TASKS": "400d"}
    preview = run_cli("run", "retention", "--dry-run", *at, "-f", "json", env=env)
    rows = {r["kind"]: r for r in json.loads(preview.stdout)}
    assert (rows["touchpoints"]["rows"], rows["touchpoints"]["older_than"]) == (0, None)
    assert rows["tasks"]["rows"] == 3
    refused = run_cli("run", "due", "--dry-run")
    assert refused.exit_code == 2
    assert "--dry-run goes with `cs run retention` alone" in refused.stderr
    csm = run_cli("run", "retention", "--dry-run", user="ana")
    assert csm.exit_code == 3
