"""The Customer 360's live-update stamp: one statement, and it moves when
something the 360 shows changes, only then."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import (
    Alert,
    CSTask,
    Customer,
    Journey,
    JourneyEnrollment,
    JourneyStep,
    NpsResponse,
    Playbook,
    PlaybookRun,
    Touchpoint,
)
from cs_cli.domain import (
    AlertSeverity,
    AlertStatus,
    EnrollmentStatus,
    JourneyStepType,
    JourneyType,
    PlaybookCategory,
    PlaybookRunStatus,
    TouchpointType,
)
from cs_cli.services.access import resolve_actor
from cs_cli.services.customer_stamp import customer_stamp

NOON = dt.datetime(2025, 1, 10, 12, tzinfo=dt.UTC)


def _stamp(engine, user: str, ref: str) -> tuple[tuple | None, int]:
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    with transaction(engine) as s:
        actor = resolve_actor(s, user)
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            stamp = customer_stamp(s, actor, ref)
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
    return stamp, len(statements)


def test_the_stamp_is_one_statement_and_moves_with_what_the_360_shows(engine, book):
    first, statements = _stamp(engine, "admin", "E-1")
    assert first is not None and statements == 1
    assert _stamp(engine, "admin", "E-1")[0] == first  # nothing changed: the same

    with transaction(engine) as s:
        e1 = s.scalar(sa.select(Customer.id).where(Customer.external_id == "E-1"))
        s.add(Touchpoint(customer_id=e1, touchpoint_type=TouchpointType.CALL, subject="hi", occurred_at=NOON))
    second = _stamp(engine, "admin", "E-1")[0]
    assert second != first

    with transaction(engine) as s:
        s.add(
            Alert(
                customer_id=e1,
                alert_type="low_nps",
                severity=AlertSeverity.WARNING,
                title="Detractor NPS",
                raised_at=NOON,
            )
        )
    third = _stamp(engine, "admin", "E-1")[0]
    assert third != second
    with transaction(engine) as s:
        s.execute(sa.update(Alert).values(status=AlertStatus.ACKNOWLEDGED, acknowledged_at=NOON))
    fourth = _stamp(engine, "admin", "E-1")[0]
    assert fourth != third

    with transaction(engine) as s:
        s.add(CSTask(customer_id=e1, title="call them"))
    fifth = _stamp(engine, "admin", "E-1")[0]
    assert fifth != fourth
    with transaction(engine) as s:
        s.execute(sa.update(CSTask).values(title="call them today"))
    assert _stamp(engine, "admin", "E-1")[0] != fifth

    # Another customer's change leaves it be.
    now = _stamp(engine, "admin", "E-1")[0]
    with transaction(engine) as s:
        w1 = s.scalar(sa.select(Customer.id).where(Customer.external_id == "W-1"))
        s.add(Touchpoint(customer_id=w1, touchpoint_type=TouchpointType.CALL, subject="x", occurred_at=NOON))
    assert _stamp(engine, "admin", "E-1")[0] == now


def test_a_customer_out_of_reach_has_no_stamp(engine, book):
    assert _stamp(engine, "ana", "W-1")[0] is None  # Bo's customer
    assert _stamp(engine, "admin", "NOPE")[0] is None


def test_the_stamp_moves_with_journeys_runs_assignments_and_nps(engine, book):
    """The journeys and playbooks panel, who an alert is assigned to and the
    last NPS are on the 360 too: each change of them moves the stamp."""
    with transaction(engine) as s:
        e1 = s.scalar(sa.select(Customer.id).where(Customer.external_id == "E-1"))
        alert = Alert(
            customer_id=e1,
            alert_type="escalation",
            severity=AlertSeverity.WARNING,
            title="Escalated tickets",
            raised_at=NOON,
        )
        journey = Journey(key="onboarding", name="Onboarding", journey_type=JourneyType.ONBOARDING)
        playbook = Playbook(key="risk", name="Risk Response", category=PlaybookCategory.CHURN_RISK)
        s.add_all([alert, journey, playbook])
        s.flush()
        steps = [
            JourneyStep(journey_id=journey.id, key=k, step_order=i, name=k, step_type=JourneyStepType.TASK)
            for i, k in enumerate(("kickoff", "training"), 1)
        ]
        s.add_all(steps)
        s.flush()
        ids = (alert.id, playbook.id, steps[0].id, steps[1].id, journey.id)
    alert_id, playbook_id, kickoff, training, journey_id = ids
    stamps = [_stamp(engine, "admin", "E-1")[0]]

    def changed(*rows: object, update: sa.Update | None = None) -> None:
        with transaction(engine) as s:
            s.add_all(rows)
            if update is not None:
                s.execute(update)
        stamps.append(_stamp(engine, "admin", "E-1")[0])
        assert stamps[-1] != stamps[-2], len(stamps)

    changed(
        JourneyEnrollment(
            journey_id=journey_id,
            customer_id=e1,
            status=EnrollmentStatus.ACTIVE,
            current_step_id=kickoff,
            enrolled_at=NOON,
        )
    )
    changed(update=sa.update(JourneyEnrollment).values(current_step_id=training))
    changed(PlaybookRun(playbook_id=playbook_id, customer_id=e1, started_at=NOON))
    changed(update=sa.update(PlaybookRun).values(status=PlaybookRunStatus.COMPLETED, completed_at=NOON))
    changed(update=sa.update(Alert).where(Alert.id == alert_id).values(assigned_to_user_id=book["ana"]))
    changed(update=sa.update(Alert).where(Alert.id == alert_id).values(assigned_to_user_id=book["mia"]))
    changed(NpsResponse(external_id="nps-e1", customer_id=e1, score=3, responded_at=NOON))
