"""The dashboard's numbers over a scope of the book: health distribution
(overrides in force win), tasks due, journeys, alerts, NPS, churn rate,
time to value and the customers most at risk."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from cs_cli.db.models import (
    Alert,
    CSTask,
    Customer,
    HealthOverride,
    Journey,
    JourneyEnrollment,
    NpsResponse,
    UsageEvent,
    User,
)
from cs_cli.domain import AlertSeverity, AlertStatus, EnrollmentStatus, HealthStatus, JourneyType, TaskStatus
from cs_cli.services.access import resolve_actor
from cs_cli.services.analytics import dashboard

AS_OF = dt.date(2025, 1, 15)
NOON = dt.datetime(2025, 1, 15, 12, tzinfo=dt.UTC)


def _arrange(session) -> None:
    ids = dict(session.execute(sa.select(Customer.external_id, Customer.id)).all())
    users = dict(session.execute(sa.select(User.login, User.id)).all())
    # E-1 is overridden down to at risk until next month.
    session.add(
        HealthOverride(
            customer_id=ids["E-1"],
            overall_score=50,
            health_status=HealthStatus.AT_RISK,
            reason="their sponsor left",
            expires_on=AS_OF + dt.timedelta(days=30),
            set_by="mia",
        )
    )
    day = dt.timedelta(days=1)
    tasks = [
        # customer, assignee, due, status, snoozed until
        ("E-1", "ana", AS_OF, TaskStatus.PENDING, None),
        ("E-1", "ana", AS_OF + 3 * day, TaskStatus.IN_PROGRESS, None),
        ("E-3", "ana", AS_OF - 2 * day, TaskStatus.BLOCKED, None),
        ("E-3", "ana", AS_OF, TaskStatus.COMPLETED, None),  # done: not due
        ("E-3", "ana", AS_OF + 2 * day, TaskStatus.PENDING, AS_OF + 5 * day),  # snoozed past its due date
        ("E-1", "ana", AS_OF + 9 * day, TaskStatus.PENDING, None),  # next week
        ("M-1", "mia", AS_OF, TaskStatus.PENDING, None),
        ("W-1", "bo", AS_OF - 1 * day, TaskStatus.PENDING, None),
        ("W-1", "bo", AS_OF + 6 * day, TaskStatus.PENDING, None),
    ]
    for customer, login, due, status, snoozed in tasks:
        session.add(
            CSTask(
                customer_id=ids[customer],
                title=f"{customer} {due}",
                assigned_to_user_id=users[login],
                due_date=due,
                status=status,
                snoozed_until=snoozed,
            )
        )
    # NPS: E-1's 9 is already there (2025-01-02); a detractor, a passive and one too old to count.
    for ext, (customer, score, when) in enumerate(
        (("M-1", 3, NOON - 40 * day), ("W-1", 7, NOON - 200 * day), ("W-1", 0, NOON - 400 * day))
    ):
        session.add(
            NpsResponse(external_id=f"N-x{ext}", customer_id=ids[customer], score=score, responded_at=when)
        )
    # Time to value: E-1 and E-3 started in the last year and first used the
    # product 10 and 20 days in (E-3's event before its start does not
    # count); W-1 started and has not yet.
    for ext, start in (
        ("E-1", dt.date(2024, 11, 1)),
        ("E-3", dt.date(2024, 12, 1)),
        ("W-1", dt.date(2024, 12, 20)),
    ):
        session.execute(sa.update(Customer).where(Customer.id == ids[ext]).values(contract_start=start))
    for ext, when in (
        ("E-1", dt.datetime(2024, 11, 11, 9, tzinfo=dt.UTC)),
        ("E-1", dt.datetime(2024, 11, 30, 9, tzinfo=dt.UTC)),
        ("E-3", dt.datetime(2024, 11, 25, 9, tzinfo=dt.UTC)),
        ("E-3", dt.datetime(2024, 12, 21, 9, tzinfo=dt.UTC)),
    ):
        session.add(UsageEvent(customer_id=ids[ext], event_name="login", occurred_at=when, quantity=1))
    onboarding = Journey(key="onboarding", name="Onboarding", journey_type=JourneyType.ONBOARDING)
    adoption = Journey(key="adoption", name="Adoption", journey_type=JourneyType.ADOPTION)
    session.add_all([onboarding, adoption])
    session.flush()
    enrollments = [
        # journey, customer, status, enrolled days ago, days to complete
        (onboarding, "E-1", EnrollmentStatus.COMPLETED, 60, 20),
        (onboarding, "E-3", EnrollmentStatus.COMPLETED, 30, 10),
        (onboarding, "W-1", EnrollmentStatus.EXITED, 30, 5),  # left early: not value
        (adoption, "W-2", EnrollmentStatus.COMPLETED, 30, 2),  # not onboarding
        (onboarding, "M-1", EnrollmentStatus.ACTIVE, 5, None),
        (adoption, "M-1", EnrollmentStatus.ACTIVE, 5, None),
        (adoption, "W-1", EnrollmentStatus.ACTIVE, 5, None),
    ]
    for journey, customer, status, ago, took in enrollments:
        start = NOON - ago * day
        session.add(
            JourneyEnrollment(
                journey_id=journey.id,
                customer_id=ids[customer],
                status=status,
                enrolled_at=start,
                completed_at=None if took is None else start + took * day,
            )
        )
    for customer, severity, status, hours in (
        ("E-1", AlertSeverity.WARNING, AlertStatus.OPEN, 5),
        ("M-1", AlertSeverity.CRITICAL, AlertStatus.ACKNOWLEDGED, 2),
        ("W-1", AlertSeverity.CRITICAL, AlertStatus.OPEN, 1),
        ("W-1", AlertSeverity.INFO, AlertStatus.RESOLVED, 3),
    ):
        session.add(
            Alert(
                customer_id=ids[customer],
                alert_type="health_drop",
                severity=severity,
                status=status,
                title=f"{customer} {severity.value}",
                raised_at=NOON - dt.timedelta(hours=hours),
            )
        )
    session.flush()


def test_the_whole_book(session, book):
    _arrange(session)
    board = dashboard(session, resolve_actor(session, "admin"), as_of=AS_OF, scope="all")

    counts = {c.status: c.customers for c in board.health}
    assert counts == {
        HealthStatus.HEALTHY: 0,
        HealthStatus.AT_RISK: 2,  # M-1, and E-1 by its override
        HealthStatus.CRITICAL: 1,
        HealthStatus.CHURNED: 0,
        HealthStatus.ONBOARDING: 0,
        HealthStatus.INSUFFICIENT_DATA: 0,
    }
    assert (board.customers, board.unscored) == (7, 4)
    assert board.arr == sum(session.scalars(sa.select(Customer.arr).where(Customer.arr.is_not(None))))
    assert (board.tasks_due_today, board.tasks_due_week, board.tasks_overdue) == (2, 4, 2)
    assert (board.active_journeys, board.active_enrollments) == (2, 3)
    assert board.open_alerts == {"info": 0, "warning": 1, "critical": 2}
    assert [a.title for a in board.recent_alerts] == ["W-1 critical", "M-1 critical", "E-1 warning"]
    assert [(c.external_id, c.overall_score) for c in board.at_risk] == [
        ("W-1", 30),
        ("M-1", 45),
        ("E-1", 50),
    ]

    m = board.metrics
    # 9 (promoter), 3 (detractor), 7 (passive) in the last 12 months.
    assert (m.nps, m.nps_average, m.nps_responses) == (0, 6.3, 3)
    # E-2 churned on 2024-12-02; the five without a contract start were
    # customers a year ago, the three that started since were not.
    assert (m.churned_12m, m.active_12m_ago, m.churn_rate) == (1, 4, round(1 / 4, 4))
    # Median of 10 and 20 days (W-1 has not reached it).
    assert (m.time_to_value_days, m.time_to_value_customers) == (15.0, 2)


def test_scopes_narrow_every_number(session, book):
    _arrange(session)
    mia = resolve_actor(session, "mia")
    mine = dashboard(session, mia, as_of=AS_OF, scope="mine")
    team = dashboard(session, mia, as_of=AS_OF, scope="team")
    # Mia owns M-1; her team (East) owns E-1, E-2, E-3 and M-1, and its tasks are Ana's and hers.
    assert (mine.customers, team.customers) == (1, 4)
    assert (mine.tasks_due_today, mine.tasks_due_week, mine.tasks_overdue) == (1, 1, 0)
    assert (team.tasks_due_today, team.tasks_due_week, team.tasks_overdue) == (2, 3, 1)
    assert [c.external_id for c in team.at_risk] == ["M-1", "E-1"]
    assert mine.open_alerts == {"info": 0, "warning": 0, "critical": 1}
    assert team.metrics.nps_responses == 2 and team.metrics.churned_12m == 1
    # Ana sees only her book even when asking for everything.
    ana_all = dashboard(session, resolve_actor(session, "ana"), as_of=AS_OF, scope="all")
    assert ana_all.customers == 3 and [c.external_id for c in ana_all.at_risk] == ["E-1"]


def test_an_empty_book(session, admin):
    board = dashboard(session, resolve_actor(session, "admin"), as_of=AS_OF)
    assert board.customers == 0 and board.arr is None and board.at_risk == [] and board.recent_alerts == []
    assert [c.customers for c in board.health] == [0] * len(HealthStatus)
    m = board.metrics
    assert (m.nps, m.churn_rate, m.time_to_value_days) == (None, None, None)
