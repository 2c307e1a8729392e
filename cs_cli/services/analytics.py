"""Success analytics over a scope of the book: the dashboard (plan 7.1) and
the key metrics of plan 11, each a handful of aggregate queries however
large the book."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.models import (
    CSTask,
    Customer,
    HealthScore,
    Journey,
    JourneyEnrollment,
    NpsResponse,
    User,
)
from cs_cli.domain import (
    Actor,
    AtRiskCustomer,
    CustomerStatus,
    Dashboard,
    EnrollmentStatus,
    HealthStatus,
    JourneyType,
    KeyMetrics,
    StatusCount,
)
from cs_cli.services.alerts import list_alerts, open_counts
from cs_cli.services.health.overrides import active
from cs_cli.services.scopes import customers_in, tasks_in
from cs_cli.services.tasks.selection import OPEN

YEAR = dt.timedelta(days=365)


def dashboard(
    session: Session, actor: Actor, *, as_of: dt.date, scope: str = "all", at_risk: int = 10, alerts: int = 5
) -> Dashboard:
    """The dashboard of a scope (mine, team or all) on `as_of`: health
    distribution, journeys, tasks due, alerts, key metrics and the
    customers most at risk."""
    in_scope = customers_in(actor, scope)
    override = active(as_of)
    score = sa.func.coalesce(override.c.overall_score, HealthScore.overall_score)
    status = sa.func.coalesce(override.c.health_status, HealthScore.health_status)

    by_status = session.execute(
        sa.select(status.label("status"), sa.func.count(), sa.func.sum(Customer.arr))
        .select_from(Customer)
        .outerjoin(HealthScore, HealthScore.customer_id == Customer.id)
        .outerjoin(override, override.c.customer_id == Customer.id)
        .where(in_scope)
        .group_by(status)
    ).all()
    found = {HealthStatus(s) if s is not None else None: (n, arr) for s, n, arr in by_status}
    health = [StatusCount(s, found.get(s, (0, None))[0], found.get(s, (0, None))[1]) for s in HealthStatus]
    arrs = [arr for _, arr in found.values() if arr is not None]

    journeys = session.execute(
        sa.select(
            sa.func.count(sa.distinct(JourneyEnrollment.journey_id)),
            sa.func.count(),
        )
        .join(Customer, Customer.id == JourneyEnrollment.customer_id)
        .where(in_scope, JourneyEnrollment.status == EnrollmentStatus.ACTIVE)
    ).one()

    week_end = as_of + dt.timedelta(days=6)
    due = session.execute(
        sa.select(
            sa.func.count().filter(CSTask.due_date == as_of),
            sa.func.count().filter(CSTask.due_date.between(as_of, week_end)),
            sa.func.count().filter(CSTask.due_date < as_of),
        ).where(
            tasks_in(actor, scope),
            CSTask.status.in_(OPEN),
            CSTask.due_date <= week_end,
            # A snoozed task comes back on its day.
            sa.or_(CSTask.snoozed_until.is_(None), CSTask.snoozed_until <= as_of),
        )
    ).one()

    top = session.execute(
        sa.select(
            Customer.external_id,
            Customer.name,
            score.label("overall_score"),
            status.label("health_status"),
            HealthScore.score_change_30d,
            Customer.arr,
            Customer.renewal_date,
            User.email.label("csm"),
        )
        .join(HealthScore, HealthScore.customer_id == Customer.id)
        .outerjoin(override, override.c.customer_id == Customer.id)
        .outerjoin(User, User.id == Customer.csm_id)
        .where(
            in_scope,
            Customer.status == CustomerStatus.ACTIVE,
            status.in_([HealthStatus.AT_RISK, HealthStatus.CRITICAL]),
        )
        .order_by(score.asc(), Customer.arr.desc().nulls_last(), Customer.external_id)
        .limit(at_risk)
    ).all()

    return Dashboard(
        as_of=as_of,
        scope=scope,
        customers=sum(n for n, _ in found.values()),
        unscored=found.get(None, (0, None))[0],
        arr=sum(arrs) if arrs else None,
        health=health,
        active_journeys=journeys[0] or 0,
        active_enrollments=journeys[1] or 0,
        tasks_due_today=due[0] or 0,
        tasks_due_week=due[1] or 0,
        tasks_overdue=due[2] or 0,
        open_alerts=open_counts(session, actor, scope=scope),
        recent_alerts=list_alerts(session, actor, as_of=as_of, scope=scope, limit=alerts).rows,
        metrics=key_metrics(session, actor, as_of=as_of, scope=scope),
        at_risk=[
            AtRiskCustomer(**{**r._mapping, "health_status": HealthStatus(r.health_status)}) for r in top
        ],
    )


def key_metrics(session: Session, actor: Actor, *, as_of: dt.date, scope: str = "all") -> KeyMetrics:
    """NPS, churn rate and time to value over the last 12 months of a scope."""
    in_scope = customers_in(actor, scope)
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    start = end - YEAR

    nps = session.execute(
        sa.select(
            sa.func.count(),
            sa.func.avg(NpsResponse.score),
            sa.func.count().filter(NpsResponse.score >= 9),
            sa.func.count().filter(NpsResponse.score <= 6),
        )
        .join(Customer, Customer.id == NpsResponse.customer_id)
        .where(in_scope, NpsResponse.responded_at >= start, NpsResponse.responded_at < end)
    ).one()
    responses, average, promoters, detractors = nps[0] or 0, nps[1], nps[2] or 0, nps[3] or 0

    # Active a year ago: a contract begun by then (or of unknown start), not churned before.
    began = sa.or_(Customer.contract_start.is_(None), Customer.contract_start <= start.date())
    churn = session.execute(
        sa.select(
            sa.func.count().filter(
                began, sa.or_(Customer.churned_at.is_(None), Customer.churned_at >= start)
            ),
            sa.func.count().filter(began, Customer.churned_at >= start, Customer.churned_at < end),
        ).where(in_scope)
    ).one()
    active_then, churned = churn[0] or 0, churn[1] or 0

    days = dialect.days_between(session, JourneyEnrollment.enrolled_at, JourneyEnrollment.completed_at)
    ttv = session.execute(
        sa.select(sa.func.avg(days), sa.func.count(sa.distinct(JourneyEnrollment.customer_id)))
        .join(Journey, Journey.id == JourneyEnrollment.journey_id)
        .join(Customer, Customer.id == JourneyEnrollment.customer_id)
        .where(
            in_scope,
            Journey.journey_type == JourneyType.ONBOARDING,
            JourneyEnrollment.status == EnrollmentStatus.COMPLETED,
            JourneyEnrollment.completed_at >= start,
            JourneyEnrollment.completed_at < end,
        )
    ).one()

    return KeyMetrics(
        nps=round(100 * (promoters - detractors) / responses) if responses else None,
        nps_average=round(float(average), 1) if average is not None else None,
        nps_responses=responses,
        churn_rate=round(churned / active_then, 4) if active_then else None,
        churned_12m=churned,
        active_12m_ago=active_then,
        time_to_value_days=round(float(ttv[0]), 1) if ttv[0] is not None else None,
        time_to_value_customers=ttv[1] or 0,
    )
