"""Success analytics over a scope of the book: the dashboard (plan 7.1) and
the key metrics of plan 11, each a handful of aggregate queries however
large the book."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import (
    CSTask,
    Customer,
    HealthScore,
    HealthScoreHistory,
    JourneyEnrollment,
    User,
)
from cs_cli.domain import (
    Actor,
    AtRiskCustomer,
    BookScorePoint,
    CustomerStatus,
    Dashboard,
    EnrollmentStatus,
    HealthStatus,
    KeyMetrics,
    StatusCount,
)
from cs_cli.services.alerts import list_alerts, open_counts
from cs_cli.services.facts import over_many_days
from cs_cli.services.health.overrides import active
from cs_cli.services.scopes import customers_in, tasks_in
from cs_cli.services.tasks.selection import OPEN

YEAR = dt.timedelta(days=365)
# Days of the book's score trend on the dashboard.
TREND_DAYS = 90


@over_many_days
def dashboard(
    session: Session,
    actor: Actor,
    *,
    as_of: dt.date,
    scope: str = "all",
    at_risk: int = 10,
    alerts: int = 5,
    first_value_event: str = "",
) -> Dashboard:
    """The dashboard of a scope (mine, team or all) on `as_of`: health
    distribution, journeys, tasks due, alerts, key metrics, the renewal
    pipeline's windows and the customers most at risk."""
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

    from cs_cli.services.metrics.filters import Filters
    from cs_cli.services.metrics.standing import renewal_pipeline

    pipeline = renewal_pipeline(session, actor, Filters(scope=scope), as_of=as_of, limit=0)
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
        metrics=key_metrics(session, actor, as_of=as_of, scope=scope, first_value_event=first_value_event),
        at_risk=[
            AtRiskCustomer(**{**r._mapping, "health_status": HealthStatus(r.health_status)}) for r in top
        ],
        renewals=pipeline.windows,
        score_trend=score_trend(session, actor, as_of=as_of, scope=scope),
        status_bands=_shipped_bands(),
    )


def score_trend(
    session: Session, actor: Actor, *, as_of: dt.date, scope: str = "all", days: int = TREND_DAYS
) -> list[BookScorePoint]:
    """For each day of the `days` to `as_of` on which scores were written,
    the scope's customers scored, their mean score and how many were at risk
    or critical: one statement over the score history (overrides aside, as
    the history keeps the computed scores)."""
    h = HealthScoreHistory
    rows = session.execute(
        sa.select(
            h.as_of,
            sa.func.count(),
            sa.func.avg(h.overall_score),
            sa.func.count().filter(h.health_status.in_([HealthStatus.AT_RISK, HealthStatus.CRITICAL])),
        )
        .join(Customer, Customer.id == h.customer_id)
        .where(customers_in(actor, scope), h.as_of > as_of - dt.timedelta(days=days), h.as_of <= as_of)
        .group_by(h.as_of)
        .order_by(h.as_of)
    ).all()
    return [BookScorePoint(day, n, round(float(mean), 1), risky) for day, n, mean, risky in rows]


def _shipped_bands() -> tuple[int, int]:
    from cs_cli.specs.scorecard import load_scorecard

    status = load_scorecard().card.status
    return status.at_risk, status.healthy


def key_metrics(
    session: Session, actor: Actor, *, as_of: dt.date, scope: str = "all", first_value_event: str = ""
) -> KeyMetrics:
    """NPS, churn and time to value over the 12 months to `as_of`, each as
    `cs analytics` defines it (services/metrics, docs/analytics.md)."""
    from cs_cli.services.metrics.filters import Filters
    from cs_cli.services.metrics.nps import nps_period
    from cs_cli.services.metrics.revenue import period
    from cs_cli.services.metrics.value import time_to_value

    filters = Filters(scope=scope)
    start = as_of - YEAR + dt.timedelta(days=1)
    nps = nps_period(session, actor, filters, start=start, end=as_of)
    churn = period(session, actor, filters, start=start, end=as_of)
    ttv, reached, _started = time_to_value(session, actor, filters, as_of, first_value_event)
    return KeyMetrics(
        nps=round(nps.nps) if nps.nps is not None else None,
        nps_average=round(nps.average, 1) if nps.average is not None else None,
        nps_responses=nps.responses,
        churn_rate=round(churn.logo_churn, 4) if churn.logo_churn is not None else None,
        churned_12m=churn.churned,
        active_12m_ago=churn.customers,
        time_to_value_days=ttv,
        time_to_value_customers=reached,
    )
