"""How the work performs: playbooks (completion, success), journeys
(success, the step funnel) and CSMs (load and output), over a period."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.base import UTCDateTime
from cs_cli.db.models import (
    CSTask,
    Customer,
    Journey,
    JourneyEnrollment,
    JourneyStep,
    JourneyStepRun,
    Playbook,
    PlaybookRun,
    User,
)
from cs_cli.domain import (
    Actor,
    CsmPerformance,
    EnrollmentStatus,
    FunnelStep,
    JourneyPerformance,
    PlaybookPerformance,
    PlaybookRunStatus,
    Role,
    TaskOutcome,
    TaskStatus,
)
from cs_cli.errors import NotFound
from cs_cli.services.facts import day_end, day_start, facts_as_of
from cs_cli.services.metrics.filters import Filters, condition, share
from cs_cli.services.metrics.standing import health_then
from cs_cli.services.tasks.selection import OPEN


def _moments(start: dt.date, end: dt.date):
    return sa.literal(day_start(start), UTCDateTime()), sa.literal(day_end(end), UTCDateTime())


def playbook_performance(
    session: Session, actor: Actor, filters: Filters, *, start: dt.date, end: dt.date
) -> list[PlaybookPerformance]:
    """Each playbook's runs started from `start` to `end`, as they stand at
    the end of `end` (a run ended later is still active)."""
    begin, stop = _moments(start, end)
    r = PlaybookRun
    ended = sa.and_(r.completed_at.is_not(None), r.completed_at < stop)
    tasks = (
        sa.select(
            CSTask.playbook_run_id.label("run_id"),
            sa.func.count().label("tasks"),
            sa.func.count()
            .filter(CSTask.status == TaskStatus.COMPLETED, CSTask.completed_at < stop)
            .label("done"),
        )
        .where(CSTask.playbook_run_id.is_not(None))
        .group_by(CSTask.playbook_run_id)
        .subquery()
    )
    rows = session.execute(
        sa.select(
            Playbook.key,
            Playbook.name,
            sa.func.count(),
            sa.func.count().filter(ended, r.status == PlaybookRunStatus.COMPLETED),
            sa.func.count().filter(ended, r.status == PlaybookRunStatus.CANCELLED),
            sa.func.count().filter(ended, r.status == PlaybookRunStatus.COMPLETED, r.success.is_not(None)),
            sa.func.count().filter(ended, r.status == PlaybookRunStatus.COMPLETED, r.success.is_(True)),
            sa.func.coalesce(sa.func.sum(tasks.c.tasks), 0),
            sa.func.coalesce(sa.func.sum(tasks.c.done), 0),
        )
        .select_from(r)
        .join(Playbook, Playbook.id == r.playbook_id)
        .join(Customer, Customer.id == r.customer_id)
        .outerjoin(tasks, tasks.c.run_id == r.id)
        .where(condition(session, actor, filters, on=end), r.started_at >= begin, r.started_at < stop)
        .group_by(Playbook.key, Playbook.name)
        .order_by(Playbook.key)
    ).all()
    return [
        PlaybookPerformance(
            key=key,
            name=name,
            started=started,
            completed=completed,
            cancelled=cancelled,
            active=started - completed - cancelled,
            completion=share(completed, completed + cancelled),
            success=share(good, judged),
            tasks=int(n_tasks),
            tasks_done=int(done),
        )
        for key, name, started, completed, cancelled, judged, good, n_tasks, done in rows
    ]


def journey_performance(
    session: Session, actor: Actor, filters: Filters, *, start: dt.date, end: dt.date
) -> list[JourneyPerformance]:
    """Each journey's enrollments that began from `start` to `end`, as they
    stand at the end of `end`."""
    begin, stop = _moments(start, end)
    e = JourneyEnrollment
    ended = sa.and_(e.completed_at.is_not(None), e.completed_at < stop)
    rows = session.execute(
        sa.select(
            Journey.key,
            Journey.name,
            sa.func.count(),
            *(
                sa.func.count().filter(ended, e.status == s)
                for s in (EnrollmentStatus.COMPLETED, EnrollmentStatus.EXITED, EnrollmentStatus.FAILED)
            ),
            sa.func.count().filter(ended, e.success.is_(True)),
        )
        .select_from(e)
        .join(Journey, Journey.id == e.journey_id)
        .join(Customer, Customer.id == e.customer_id)
        .where(condition(session, actor, filters, on=end), e.enrolled_at >= begin, e.enrolled_at < stop)
        .group_by(Journey.key, Journey.name)
        .order_by(Journey.key)
    ).all()
    return [
        JourneyPerformance(
            key=key,
            name=name,
            enrolled=enrolled,
            completed=completed,
            exited=exited,
            failed=failed,
            active=enrolled - completed - exited - failed,
            success=share(good, completed + exited + failed),
        )
        for key, name, enrolled, completed, exited, failed, good in rows
    ]


def journey_funnel(
    session: Session, actor: Actor, filters: Filters, *, journey: str, start: dt.date, end: dt.date
) -> tuple[int, list[FunnelStep]]:
    """Of the journey's enrollments that began in the period, how many ran
    each step of its current version by the end of `end`, in step order."""
    found = session.execute(sa.select(Journey.id, Journey.version).where(Journey.key == journey)).first()
    if found is None:
        raise NotFound(f"no journey {journey!r} (cs journeys list)")
    begin, stop = _moments(start, end)
    e = JourneyEnrollment
    enrolled = (
        sa.select(e.id)
        .join(Customer, Customer.id == e.customer_id)
        .where(
            e.journey_id == found.id,
            condition(session, actor, filters, on=end),
            e.enrolled_at >= begin,
            e.enrolled_at < stop,
        )
    )
    total = session.scalar(sa.select(sa.func.count()).select_from(enrolled.subquery())) or 0
    reached = dict(
        session.execute(
            sa.select(JourneyStepRun.step_key, sa.func.count(sa.distinct(JourneyStepRun.enrollment_id)))
            .where(JourneyStepRun.enrollment_id.in_(enrolled), JourneyStepRun.executed_at < stop)
            .group_by(JourneyStepRun.step_key)
        ).all()
    )
    steps = session.execute(
        sa.select(JourneyStep.key, JourneyStep.name)
        .where(JourneyStep.journey_id == found.id, JourneyStep.version == found.version)
        .order_by(JourneyStep.step_order)
    ).all()
    return total, [FunnelStep(k, n, reached.get(k, 0), share(reached.get(k, 0), total)) for k, n in steps]


def csm_performance(
    session: Session, actor: Actor, filters: Filters, *, start: dt.date, end: dt.date
) -> list[CsmPerformance]:
    """Each CSM in the filters: their active accounts and ARR on `end` (and
    the ARR at risk or critical then), and their tasks completed in the
    period (a week's worth, time spent, outcomes) and overdue on `end`."""
    begin, stop = _moments(start, end)
    facts = facts_as_of(session, end)
    health = health_then(end)
    wanted = [condition(session, actor, filters, on=end), facts.c.is_customer, sa.not_(facts.c.churned)]
    if filters.plan:
        wanted.append(facts.c.plan == filters.plan)
    risky = sa.type_coerce(health.c.health_status, sa.String).in_(["at_risk", "critical"])
    books = {
        csm: (n, float(arr or 0), float(risk or 0))
        for csm, n, arr, risk in session.execute(
            sa.select(
                facts.c.csm_id,
                sa.func.count(),
                sa.func.sum(facts.c.arr),
                sa.func.sum(facts.c.arr).filter(risky),
            )
            .select_from(
                sa.join(Customer, facts, facts.c.customer_id == Customer.id).outerjoin(
                    health, health.c.customer_id == Customer.id
                )
            )
            .where(*wanted, facts.c.csm_id.is_not(None))
            .group_by(facts.c.csm_id)
        ).all()
    }
    done = sa.and_(
        CSTask.status == TaskStatus.COMPLETED, CSTask.completed_at >= begin, CSTask.completed_at < stop
    )
    work = {
        user: row
        for user, *row in session.execute(
            sa.select(
                CSTask.assigned_to_user_id,
                sa.func.count().filter(done),
                sa.func.coalesce(sa.func.sum(CSTask.time_spent_minutes).filter(done), 0),
                sa.func.count().filter(done, CSTask.outcome.is_not(None)),
                sa.func.count().filter(done, CSTask.outcome == TaskOutcome.SUCCESSFUL),
                sa.func.count().filter(CSTask.status.in_(OPEN), CSTask.due_date < end),
            )
            .join(Customer, Customer.id == CSTask.customer_id)
            .where(condition(session, actor, filters, on=end), CSTask.assigned_to_user_id.is_not(None))
            .group_by(CSTask.assigned_to_user_id)
        ).all()
    }
    users = session.execute(
        sa.select(User.id, User.email)
        .where(User.role == Role.CSM, User.id.in_(set(books) | set(work)))
        .order_by(User.email)
    ).all()
    weeks = ((end - start).days + 1) / 7
    out = []
    for user_id, email in users:
        n, arr, risk = books.get(user_id, (0, 0.0, 0.0))
        tasks_done, minutes, judged, good, overdue = work.get(user_id, (0, 0, 0, 0, 0))
        out.append(
            CsmPerformance(
                csm=email,
                accounts=n,
                arr=arr,
                at_risk_arr=risk,
                tasks_done=tasks_done,
                tasks_a_week=tasks_done / weeks if weeks else 0.0,
                minutes_spent=int(minutes),
                successful=share(good, judged),
                overdue=overdue,
            )
        )
    return out
