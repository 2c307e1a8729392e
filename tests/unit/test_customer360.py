"""Customer 360's service: everything about one customer in a fixed number
of queries, the reasons it is at risk in words, and access by scope."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import (
    Contact,
    CSTask,
    Customer,
    Journey,
    JourneyEnrollment,
    JourneyStep,
    Playbook,
    PlaybookRun,
    Touchpoint,
)
from cs_cli.domain import (
    AlertSeverity,
    EnrollmentStatus,
    JourneyStepType,
    JourneyType,
    PlaybookCategory,
    TaskStatus,
    TouchpointType,
)
from cs_cli.errors import NotFound
from cs_cli.services.access import resolve_actor
from cs_cli.services.customer360 import customer_360
from cs_cli.services.demo import load_demo
from cs_cli.services.health.recalc import recalc_day, target_ids
from cs_cli.specs.scorecard import load_scorecard

AS_OF = dt.date(2025, 3, 14)
NOON = dt.datetime(2025, 3, 14, 12, tzinfo=dt.UTC)


def demo_book(engine, admin, *, weeks: int = 4) -> str:
    """The 30-customer demo, scored once a week for `weeks` weeks up to
    AS_OF; returns the largest account at risk."""
    with transaction(engine) as session:
        summary = load_demo(session, admin, customers=30, months=6, seed=42, as_of=AS_OF)
    card = load_scorecard()
    with transaction(engine) as session:
        ids = target_ids(session, admin)
        for k in range(weeks, -1, -1):
            day = AS_OF - dt.timedelta(days=7 * k)
            recalc_day(
                session, admin, card, ids, as_of=day, now=dt.datetime.combine(day, dt.time(12), dt.UTC)
            )
    assert summary.largest_at_risk
    return summary.largest_at_risk


@contextmanager
def counting(engine):
    """Count the SQL statements run inside the block."""
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def _journey_and_run(session, customer_id: int) -> None:
    """An onboarding journey on step 2 of 3 and a playbook run with 2 of 3 tasks done."""
    journey = Journey(key="onboarding", name="Onboarding", journey_type=JourneyType.ONBOARDING)
    session.add(journey)
    session.flush()
    steps = [
        JourneyStep(journey_id=journey.id, key=k, step_order=i, name=n, step_type=JourneyStepType.TASK)
        for i, (k, n) in enumerate(
            (("kickoff", "Kickoff call"), ("training", "Admin training"), ("review", "Review")), 1
        )
    ]
    session.add_all(steps)
    session.flush()
    session.add(
        JourneyEnrollment(
            journey_id=journey.id,
            customer_id=customer_id,
            status=EnrollmentStatus.ACTIVE,
            current_step_id=steps[1].id,
            enrolled_at=NOON - dt.timedelta(days=20),
        )
    )
    playbook = Playbook(key="risk_response", name="Risk Response", category=PlaybookCategory.CHURN_RISK)
    session.add(playbook)
    session.flush()
    run = PlaybookRun(
        playbook_id=playbook.id, customer_id=customer_id, started_at=NOON - dt.timedelta(days=5)
    )
    session.add(run)
    session.flush()
    for status in (TaskStatus.COMPLETED, TaskStatus.CANCELLED, TaskStatus.PENDING):
        session.add(
            CSTask(
                customer_id=customer_id,
                playbook_id=playbook.id,
                playbook_run_id=run.id,
                title=f"Risk step ({status.value})",
                status=status,
                due_date=AS_OF + dt.timedelta(days=3),
            )
        )


def test_everything_about_a_customer_in_a_fixed_number_of_queries(engine, admin):
    ref = demo_book(engine, admin)
    with transaction(engine) as session:
        customer_id = session.scalar(sa.select(Customer.id).where(Customer.external_id == ref))
        _journey_and_run(session, customer_id)

    with counting(engine) as before, transaction(engine) as session:
        view = customer_360(session, resolve_actor(session, "admin"), ref, as_of=AS_OF, touchpoints=20)

    assert view.customer.external_id == ref
    assert view.health is not None and view.health.as_of == AS_OF
    assert view.health.overall_score == view.customer.health_score
    # The trend: one score a week over four weeks, oldest first.
    assert [p.as_of for p in view.history] == [AS_OF - dt.timedelta(days=7 * k) for k in range(4, -1, -1)]
    # Components with the measures behind each, from the stored explanation.
    assert [c.name for c in view.components] == [
        "adoption",
        "engagement",
        "relationship",
        "financial",
        "support",
    ]
    adoption = view.components[0]
    assert {m.name for m in adoption.measures} == {"feature_breadth", "active_days", "active_users"}
    assert all(m.meaning for m in adoption.measures)
    assert sum(c.points or 0 for c in view.components) == pytest.approx(
        view.health.explanation["base"], abs=0.1
    )
    # Not predicted yet: no churn model has run.
    assert view.churn_probability is None and view.expansion_probability is None
    # Journeys and playbook runs.
    (enrollment,) = view.journeys
    assert (enrollment.journey, enrollment.current_step, enrollment.step_order, enrollment.steps) == (
        "Onboarding",
        "Admin training",
        2,
        3,
    )
    (run,) = view.playbook_runs
    assert (run.playbook_name, run.tasks_done, run.tasks_total) == ("Risk Response", 2, 3)
    # The newest 20 touchpoints of all of them, newest first.
    with transaction(engine) as session:
        total = session.scalar(sa.select(sa.func.count()).where(Touchpoint.customer_id == customer_id))
        newest = session.scalar(
            sa.select(sa.func.max(Touchpoint.occurred_at)).where(Touchpoint.customer_id == customer_id)
        )
        open_tasks = session.scalar(
            sa.select(sa.func.count()).where(
                CSTask.customer_id == customer_id,
                CSTask.status.in_([TaskStatus.PENDING, TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED]),
            )
        )
        contacts = session.scalar(sa.select(sa.func.count()).where(Contact.customer_id == customer_id))
    assert view.touchpoints.total == total and len(view.touchpoints.rows) == min(20, total)
    assert view.touchpoints.rows[0].occurred_at == newest
    times = [t.occurred_at for t in view.touchpoints.rows]
    assert times == sorted(times, reverse=True)
    assert view.tasks.total == open_tasks
    assert all(
        t.status in (TaskStatus.PENDING, TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED) for t in view.tasks.rows
    )
    assert len(view.contacts) == contacts
    # The demo's alert for this account is among the risks, most serious first.
    assert view.alerts and view.risks[0].severity == AlertSeverity.CRITICAL
    assert any(r.kind == "alert" and view.alerts[0].title in r.text for r in view.risks)

    # Many more touchpoints, tasks and contacts: not one more query.
    with transaction(engine) as session:
        session.add_all(
            Touchpoint(
                customer_id=customer_id,
                touchpoint_type=TouchpointType.CALL,
                subject=f"call {i}",
                occurred_at=NOON - dt.timedelta(hours=i + 1),
            )
            for i in range(80)
        )
        session.add_all(
            CSTask(customer_id=customer_id, title=f"task {i}", due_date=AS_OF + dt.timedelta(days=i))
            for i in range(15)
        )
        session.add_all(Contact(customer_id=customer_id, name=f"Contact {i}") for i in range(10))
    with counting(engine) as after, transaction(engine) as session:
        bigger = customer_360(session, resolve_actor(session, "admin"), ref, as_of=AS_OF, touchpoints=20)
    assert bigger.touchpoints.total == total + 80 and bigger.touchpoints.rows[0].subject == "call 0"
    assert bigger.tasks.total == open_tasks + 15 and len(bigger.contacts) == contacts + 10
    assert len(after) == len(before) <= 25


def test_access_by_scope_and_a_customer_with_no_data(session, book):
    ana = resolve_actor(session, "ana")
    with pytest.raises(NotFound):
        customer_360(session, ana, "W-1", as_of=AS_OF)  # Bo's customer
    view = customer_360(session, ana, "E-1", as_of=AS_OF)
    # A score without its history row is shown unexplained, not refused.
    assert view.health is None and view.customer.health_score == 82 and view.components == []
    assert [c.name for c in view.contacts] == ["Ed Sponsor", "Carla Champion"]
    assert view.latest_nps == 9

    # No score, no contacts, no touchpoints, no tasks: every part empty, nothing fails.
    empty = customer_360(session, resolve_actor(session, "admin"), "U-1", as_of=AS_OF)
    assert empty.health is None and empty.history == [] and empty.components == []
    assert empty.contacts == [] and empty.journeys == [] and empty.playbook_runs == []
    assert empty.touchpoints.rows == [] and empty.tasks.rows == [] and empty.alerts == []
    assert [r.text for r in empty.risks] == ["no touchpoint yet"]


def test_risks_in_words(session, book):
    admin = resolve_actor(session, "admin")
    m1 = session.scalar(sa.select(Customer).where(Customer.external_id == "M-1"))
    session.add(
        Contact(customer_id=m1.id, name="Gone Champ", is_champion=True, left_at=NOON - dt.timedelta(days=9))
    )
    session.add(CSTask(customer_id=m1.id, title="late", due_date=AS_OF - dt.timedelta(days=2)))
    session.add(
        Touchpoint(
            customer_id=m1.id,
            touchpoint_type=TouchpointType.CALL,
            subject="old call",
            occurred_at=NOON - dt.timedelta(days=75),
        )
    )
    session.flush()
    texts = [(r.severity.value, r.text) for r in customer_360(session, admin, "M-1", as_of=AS_OF).risks]
    assert ("critical", f"champion Gone Champ left on {(NOON - dt.timedelta(days=9)).date()}") in texts
    assert ("warning", "no champion in place") in texts
    assert ("info", "no executive sponsor") in texts
    assert ("warning", "1 overdue task") in texts
    assert ("warning", "no touchpoint in 75 days") in texts
    # M-1 renews on 2025-01-20, before the day asked: no renewal risk then.
    assert not any("renewal" in t for _, t in texts)
    assert [s for s, _ in texts] == sorted((s for s, _ in texts), key=["critical", "warning", "info"].index)


def test_a_reason_an_open_alert_gives_is_not_repeated(session, book):
    from cs_cli.db.models import Alert, NpsResponse

    admin = resolve_actor(session, "admin")
    m1 = session.scalar(sa.select(Customer).where(Customer.external_id == "M-1"))
    day = dt.date(2025, 1, 10)  # M-1 renews on 2025-01-20, at risk
    noon = dt.datetime(2025, 1, 10, 12, tzinfo=dt.UTC)
    session.add(Contact(customer_id=m1.id, name="Gone Champ", is_champion=True, left_at=noon))
    session.add(NpsResponse(external_id="nps-m1", customer_id=m1.id, score=3, responded_at=noon))
    session.flush()

    def reasons() -> list[str]:
        return [r.text for r in customer_360(session, admin, "M-1", as_of=day).risks]

    before = reasons()
    assert any(t.startswith("renewal in 10 days") for t in before)
    assert any(t.startswith("champion Gone Champ left") for t in before)
    assert "detractor: last NPS 3" in before
    # The checker's and the demo's alert types for the same conditions.
    for kind, title in (
        ("renewal_at_risk", "Renewal in 10 days, health at risk"),
        ("champion_left", "Champion left"),
        ("low_nps", "Detractor NPS"),
    ):
        session.add(
            Alert(
                customer_id=m1.id,
                alert_type=kind,
                severity=AlertSeverity.WARNING,
                title=title,
                raised_at=noon,
            )
        )
    session.flush()
    after = reasons()
    assert {
        "alert: Renewal in 10 days, health at risk",
        "alert: Champion left",
        "alert: Detractor NPS",
    } <= set(after)
    assert not any(t.startswith(("renewal in", "champion Gone", "detractor")) for t in after), after


def test_a_multiplier_an_open_alert_gives_is_not_repeated(session, book):
    """The score's multipliers (renewal close, escalation open, champion
    left) are reasons too: an open alert on the same fact stands for them."""
    from cs_cli.db.models import Alert
    from cs_cli.services.customer360 import risks

    admin = resolve_actor(session, "admin")
    m1 = session.scalar(sa.select(Customer.id).where(Customer.external_id == "M-1"))
    day = dt.date(2025, 1, 10)
    multipliers = [
        ("renewal_within_days", 0.95, "renewal within 30 days"),
        ("open_escalation", 0.9, "an escalated ticket is open"),
        ("champion_left", 0.85, "a champion left within 90 days"),
    ]

    def reasons() -> list[str]:
        v = customer_360(session, admin, "M-1", as_of=day)
        said = risks(
            v.customer,
            v.health,
            multipliers,
            v.contacts,
            v.touchpoints.rows,
            v.tasks,
            v.alerts,
            v.latest_nps,
            as_of=day,
        )
        return [r.text for r in said]

    assert {
        "score x0.95: renewal within 30 days",
        "score x0.9: an escalated ticket is open",
        "score x0.85: a champion left within 90 days",
    } <= set(reasons())
    for kind, title in (("renewal_at_risk", "Renewal in 10 days"), ("escalation", "Escalated tickets")):
        session.add(
            Alert(
                customer_id=m1,
                alert_type=kind,
                severity=AlertSeverity.WARNING,
                title=title,
                raised_at=NOON,
            )
        )
    session.flush()
    after = reasons()
    assert {"alert: Renewal in 10 days", "alert: Escalated tickets"} <= set(after)
    assert not any(t.startswith(("score x0.95", "score x0.9:")) for t in after), after
    # No alert says the champion left: its multiplier stays.
    assert "score x0.85: a champion left within 90 days" in after
