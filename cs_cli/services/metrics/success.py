"""The plan's success metrics (section 11): each one's value on a day, its
target, whether it is met, and its value one period earlier (the trend)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.base import UTCDateTime
from cs_cli.db.models import CSTask, Customer, JourneyEnrollment, PlaybookRun, User
from cs_cli.domain import Actor, PlaybookRunStatus, Role, TaskStatus
from cs_cli.domain.metrics import TARGETS
from cs_cli.services.facts import day_end, over_many_days
from cs_cli.services.metrics.filters import Filters, condition, months_back
from cs_cli.services.metrics.nps import nps_period
from cs_cli.services.metrics.revenue import retention
from cs_cli.services.metrics.standing import NOT_SCORED, distribution
from cs_cli.services.metrics.value import time_to_value

QUARTER = dt.timedelta(days=90)


@dataclass(frozen=True)
class SuccessMetric:
    name: str
    words: str
    unit: str
    value: float | None
    target: float
    met: bool | None  # None: no data
    previous: float | None  # the same figure one period before
    basis: str  # what it is made of, in words


@over_many_days
def success_metrics(
    session: Session,
    actor: Actor,
    filters: Filters,
    *,
    as_of: dt.date,
    goals: dict[str, float],
    first_value_event: str = "",
) -> list[SuccessMetric]:
    earlier = as_of - QUARTER
    figures = {
        "churn_monthly": (_churn(session, actor, filters, as_of), _churn(session, actor, filters, earlier)),
        "time_to_value_days": (
            _time_to_value(session, actor, filters, as_of, first_value_event),
            _time_to_value(session, actor, filters, earlier, first_value_event),
        ),
        "nps": (_nps(session, actor, filters, as_of), _nps(session, actor, filters, earlier)),
        "health_coverage": (
            _coverage(session, actor, filters, as_of),
            _coverage(session, actor, filters, earlier),
        ),
        "playbook_completion": (
            _ended_share(
                session, actor, filters, as_of, PlaybookRun, PlaybookRun.status == PlaybookRunStatus.COMPLETED
            ),
            _ended_share(
                session,
                actor,
                filters,
                earlier,
                PlaybookRun,
                PlaybookRun.status == PlaybookRunStatus.COMPLETED,
            ),
        ),
        "journey_success": (
            _ended_share(
                session, actor, filters, as_of, JourneyEnrollment, JourneyEnrollment.success.is_(True)
            ),
            _ended_share(
                session, actor, filters, earlier, JourneyEnrollment, JourneyEnrollment.success.is_(True)
            ),
        ),
        "csm_efficiency_growth": (_efficiency(session, actor, filters, as_of), (None, "")),
    }
    out = []
    for name, ((value, basis), (previous, _)) in figures.items():
        target = TARGETS[name]
        goal = goals[name]
        met = None if value is None else (value >= goal if target.higher_is_better else value <= goal)
        out.append(SuccessMetric(name, target.words, target.unit, value, goal, met, previous, basis))
    return out


def _churn(session, actor, filters, day: dt.date) -> tuple[float | None, str]:
    """Mean monthly logo churn of the three calendar months ending with the day's."""
    periods, _span = retention(session, actor, filters, start=months_back(day, 3), end=day)
    cohort = sum(p.customers for p in periods)
    churned = sum(p.churned for p in periods)
    return (churned / cohort if cohort else None), f"{churned} churned of {cohort} customer-months"


def _nps(session, actor, filters, day: dt.date) -> tuple[float | None, str]:
    p = nps_period(session, actor, filters, start=day - QUARTER + dt.timedelta(days=1), end=day)
    return p.nps, f"{p.responses} responses" + (" (thin)" if p.thin else "")


def _coverage(session, actor, filters, day: dt.date) -> tuple[float | None, str]:
    shares = distribution(session, actor, filters, as_of=day)
    total = sum(s.customers for s in shares)
    scored = total - sum(s.customers for s in shares if s.status == NOT_SCORED)
    return (scored / total if total else None), f"{scored} of {total} active customers scored"


def _ended_share(session, actor, filters, day: dt.date, model, good) -> tuple[float | None, str]:
    """Of the runs (or enrollments) that ended in the 90 days to `day`, the share `good`."""
    end = sa.literal(day_end(day), UTCDateTime())
    start = sa.literal(day_end(day) - QUARTER, UTCDateTime())
    row = session.execute(
        sa.select(sa.func.count(), sa.func.count().filter(good))
        .select_from(model)
        .join(Customer, Customer.id == model.customer_id)
        .where(
            condition(session, actor, filters, on=day), model.completed_at >= start, model.completed_at < end
        )
    ).one()
    ended, met = int(row[0] or 0), int(row[1] or 0)
    return (met / ended if ended else None), f"{met} of {ended} ended in 90 days"


def _time_to_value(session, actor, filters, day: dt.date, event: str) -> tuple[float | None, str]:
    median, reached, started = time_to_value(session, actor, filters, day, event)
    what = f"first {event}" if event else "first use"
    return median, f"{reached} of {started} new customers reached their {what}"


def _efficiency(session, actor, filters, day: dt.date) -> tuple[float | None, str]:
    """Tasks completed a week per CSM in the 90 days to `day` against the 90
    days before: the change, as a share."""
    end = day_end(day)

    def per_csm(start: dt.datetime, stop: dt.datetime) -> tuple[int, int]:
        row = session.execute(
            sa.select(sa.func.count(), sa.func.count(sa.distinct(CSTask.assigned_to_user_id)))
            .join(Customer, Customer.id == CSTask.customer_id)
            .join(User, User.id == CSTask.assigned_to_user_id)
            .where(
                condition(session, actor, filters, on=day),
                User.role == Role.CSM,
                CSTask.status == TaskStatus.COMPLETED,
                CSTask.completed_at >= sa.literal(start, UTCDateTime()),
                CSTask.completed_at < sa.literal(stop, UTCDateTime()),
            )
        ).one()
        return int(row[0] or 0), int(row[1] or 0)

    now_done, now_csms = per_csm(end - QUARTER, end)
    then_done, then_csms = per_csm(end - 2 * QUARTER, end - QUARTER)
    weeks = QUARTER.days / 7
    now_rate = now_done / now_csms / weeks if now_csms else None
    then_rate = then_done / then_csms / weeks if then_csms else None
    basis = (
        f"{now_rate:.1f} tasks a week per CSM, {then_rate:.1f} the quarter before"
        if now_rate is not None and then_rate is not None
        else f"{now_done} tasks completed by {now_csms} CSMs in 90 days"
    )
    if not now_rate or not then_rate:
        return None, basis
    return now_rate / then_rate - 1, basis
