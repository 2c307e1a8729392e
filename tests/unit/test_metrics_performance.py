"""Playbook, journey and CSM performance over a period, on the small book
(ana and bo, CSMs; mia, manager), every figure counted by hand."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from cs_cli.db.models import (
    CSTask,
    Customer,
    Journey,
    JourneyEnrollment,
    JourneyStep,
    JourneyStepRun,
    Playbook,
    PlaybookRun,
)
from cs_cli.domain import (
    EnrollmentStatus,
    JourneyStepType,
    JourneyType,
    PlaybookCategory,
    PlaybookRunStatus,
    TaskOutcome,
    TaskStatus,
)
from cs_cli.services.access import resolve_actor
from cs_cli.services.metrics.filters import Filters
from cs_cli.services.metrics.performance import (
    csm_performance,
    journey_funnel,
    journey_performance,
    playbook_performance,
)

START, END = dt.date(2025, 1, 1), dt.date(2025, 1, 31)


def _at(day: int, month: int = 1) -> dt.datetime:
    return dt.datetime(2025, month, day, 12, tzinfo=dt.UTC)


def _arrange(session, users) -> None:
    ids = dict(session.execute(sa.select(Customer.external_id, Customer.id)).all())
    playbook = Playbook(key="risk", name="Risk", category=PlaybookCategory.CHURN_RISK)
    session.add(playbook)
    session.flush()
    runs = [
        # customer, started, status, ended, success
        ("E-1", _at(3), PlaybookRunStatus.COMPLETED, _at(10), True),
        ("E-3", _at(5), PlaybookRunStatus.COMPLETED, _at(20), False),
        ("W-1", _at(6), PlaybookRunStatus.CANCELLED, _at(7), None),
        ("M-1", _at(8), PlaybookRunStatus.COMPLETED, _at(2, 2), True),  # ended after the period: active then
        ("W-2", _at(1, 2), PlaybookRunStatus.ACTIVE, None, None),  # started after: not counted
    ]
    for customer, started, status, ended, success in runs:
        session.add(
            PlaybookRun(
                playbook_id=playbook.id,
                customer_id=ids[customer],
                status=status,
                started_at=started,
                completed_at=ended,
                success=success,
            )
        )
    session.flush()
    first_run = session.scalar(sa.select(PlaybookRun.id).order_by(PlaybookRun.id))
    journey = Journey(key="onboard", name="Onboard", journey_type=JourneyType.ONBOARDING)
    session.add(journey)
    session.flush()
    steps = {}
    for order, key in enumerate(("welcome", "wait", "call")):
        step = JourneyStep(
            journey_id=journey.id, key=key, step_order=order, name=key.title(), step_type=JourneyStepType.WAIT
        )
        session.add(step)
        session.flush()
        steps[key] = step.id
    enrollments = [
        # customer, enrolled, status, ended, success, steps run
        ("E-1", _at(2), EnrollmentStatus.COMPLETED, _at(15), True, ["welcome", "wait", "call"]),
        ("E-3", _at(4), EnrollmentStatus.EXITED, _at(9), False, ["welcome", "wait"]),
        ("W-1", _at(6), EnrollmentStatus.ACTIVE, None, None, ["welcome"]),
        ("M-1", _at(9, 2), EnrollmentStatus.ACTIVE, None, None, ["welcome"]),  # after the period
    ]
    for customer, enrolled, status, ended, success, ran in enrollments:
        enrollment = JourneyEnrollment(
            journey_id=journey.id,
            customer_id=ids[customer],
            status=status,
            enrolled_at=enrolled,
            completed_at=ended,
            success=success,
        )
        session.add(enrollment)
        session.flush()
        for key in ran:
            session.add(
                JourneyStepRun(
                    enrollment_id=enrollment.id,
                    step_id=steps[key],
                    step_key=key,
                    visit=1,
                    executed_at=enrolled + dt.timedelta(days=1),
                    outcome="done",
                )
            )
    tasks = [
        # customer, assignee, status, completed, minutes, outcome, due, run
        ("E-1", "ana", TaskStatus.COMPLETED, _at(10), 30, TaskOutcome.SUCCESSFUL, None, first_run),
        ("E-1", "ana", TaskStatus.COMPLETED, _at(12), 60, TaskOutcome.UNSUCCESSFUL, None, first_run),
        ("E-3", "ana", TaskStatus.COMPLETED, _at(20), 15, None, None, None),
        ("E-3", "ana", TaskStatus.PENDING, None, None, None, dt.date(2025, 1, 20), first_run),  # overdue
        ("E-3", "ana", TaskStatus.COMPLETED, _at(5, 2), 99, TaskOutcome.SUCCESSFUL, None, None),  # after
        ("W-1", "bo", TaskStatus.COMPLETED, _at(11), 45, TaskOutcome.SUCCESSFUL, None, None),
    ]
    for customer, login, status, done, minutes, outcome, due, run in tasks:
        session.add(
            CSTask(
                customer_id=ids[customer],
                assigned_to_user_id=users[login],
                title="t",
                status=status,
                completed_at=done,
                time_spent_minutes=minutes,
                outcome=outcome,
                due_date=due,
                playbook_run_id=run,
            )
        )
    session.commit()


def test_playbook_performance(session, book):
    _arrange(session, book)
    admin = resolve_actor(session, "admin")
    [risk] = playbook_performance(session, admin, Filters(), start=START, end=END)
    # Four started in January; M-1's ended in February, so it was active then.
    assert (risk.started, risk.completed, risk.cancelled, risk.active) == (4, 2, 1, 1)
    assert risk.completion == 2 / 3
    assert risk.success == 1 / 2
    # The first run's tasks: two done in January, one still open.
    assert (risk.tasks, risk.tasks_done) == (3, 2)
    # A CSM counts only their own customers (ana: E-1, E-3).
    [mine] = playbook_performance(session, resolve_actor(session, "ana"), Filters(), start=START, end=END)
    assert (mine.started, mine.completed) == (2, 2)


def test_journey_performance_and_funnel(session, book):
    _arrange(session, book)
    admin = resolve_actor(session, "admin")
    [onboard] = journey_performance(session, admin, Filters(), start=START, end=END)
    assert (onboard.enrolled, onboard.completed, onboard.exited, onboard.active) == (3, 1, 1, 1)
    assert onboard.success == 1 / 2
    total, steps = journey_funnel(session, admin, Filters(), journey="onboard", start=START, end=END)
    assert total == 3
    assert [(s.key, s.reached) for s in steps] == [("welcome", 3), ("wait", 2), ("call", 1)]
    assert steps[1].share == 2 / 3


def test_csm_performance(session, book):
    _arrange(session, book)
    admin = resolve_actor(session, "admin")
    rows = {r.csm: r for r in csm_performance(session, admin, Filters(), start=START, end=END)}
    assert set(rows) == {"ana@example.com", "Bo@Example.com"}  # mia is a manager
    ana = rows["ana@example.com"]
    # Three done in January (30 + 60 + 15 minutes); two outcomes, one successful.
    assert (ana.tasks_done, ana.minutes_spent, ana.successful, ana.overdue) == (3, 105, 0.5, 1)
    assert ana.tasks_a_week == 3 / (31 / 7)
    bo = rows["Bo@Example.com"]
    assert (bo.tasks_done, bo.successful, bo.overdue) == (1, 1.0, 0)
