"""Where the book stands on a day: each customer's health then (the latest
score on or before the day) and what renews in the months after."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import Customer, HealthScoreHistory
from cs_cli.domain import Actor, HealthStatus, RenewalMonth, StatusShare
from cs_cli.services.facts import facts_as_of
from cs_cli.services.metrics.filters import Filters, condition

NOT_SCORED = "not_scored"
# How far back a customer's latest score is looked for: an older one says
# nothing of the day (the daily job scores every customer), and reading all
# of history for every figure would cost seconds on a large book.
LOOKBACK_DAYS = 90


def health_then(day: dt.date) -> sa.Subquery:
    """Each customer's latest history row on or before `day`, at most
    LOOKBACK_DAYS old (status, score, churn probability)."""
    h = HealthScoreHistory
    ranked = (
        sa.select(
            h.customer_id,
            h.health_status,
            h.overall_score,
            h.churn_probability,
            sa.func.row_number().over(partition_by=h.customer_id, order_by=h.as_of.desc()).label("pick"),
        )
        .where(h.as_of <= day, h.as_of > day - dt.timedelta(days=LOOKBACK_DAYS))
        .subquery("ranked")
    )
    return sa.select(ranked).where(ranked.c.pick == 1).subquery("health_then")


def active_book(session: Session, actor: Actor, filters: Filters, day: dt.date):
    """The active customers of the filters on `day`: their facts and health then."""
    facts = facts_as_of(session, day)
    health = health_then(day)
    wanted = [condition(session, actor, filters, on=day), facts.c.is_customer, sa.not_(facts.c.churned)]
    if filters.plan:
        wanted.append(facts.c.plan == filters.plan)
    source = sa.join(Customer, facts, facts.c.customer_id == Customer.id).outerjoin(
        health, health.c.customer_id == Customer.id
    )
    return facts, health, source, wanted


def distribution(session: Session, actor: Actor, filters: Filters, *, as_of: dt.date) -> list[StatusShare]:
    """The active customers by health status on `as_of`, with their ARR."""
    facts, health, source, wanted = active_book(session, actor, filters, as_of)
    status = sa.func.coalesce(sa.type_coerce(health.c.health_status, sa.String), NOT_SCORED)
    rows = session.execute(
        sa.select(status, sa.func.count(), sa.func.sum(facts.c.arr))
        .select_from(source)
        .where(*wanted)
        .group_by(status)
    ).all()
    found = {str(getattr(s, "value", s)): (int(n), float(arr or 0)) for s, n, arr in rows}
    total = sum(n for n, _ in found.values())
    order = [*(s.value for s in HealthStatus if s != HealthStatus.CHURNED), NOT_SCORED]
    return [
        StatusShare(
            s,
            found.get(s, (0, 0.0))[0],
            found.get(s, (0, 0.0))[0] / total if total else 0.0,
            found.get(s, (0, 0.0))[1],
        )
        for s in order
    ]


def renewals(
    session: Session, actor: Actor, filters: Filters, *, as_of: dt.date, months: int
) -> list[RenewalMonth]:
    """The active customers whose renewal date (in force on `as_of`) falls
    from `as_of` to the end of the `months`-th month, by month, their ARR by
    health on `as_of`."""
    facts, health, source, wanted = active_book(session, actor, filters, as_of)
    last = as_of.replace(day=1)
    for _ in range(months):
        last = (last + dt.timedelta(days=32)).replace(day=1)
    wanted += [facts.c.renewal_date >= as_of, facts.c.renewal_date < last]
    rows = session.execute(
        sa.select(
            facts.c.renewal_date,
            health.c.health_status,
            sa.func.count(),
            sa.func.sum(facts.c.arr),
            sa.func.sum(health.c.churn_probability),
            sa.func.count(health.c.churn_probability),
        )
        .select_from(source)
        .where(*wanted)
        .group_by(facts.c.renewal_date, health.c.health_status)
    ).all()
    sums: dict[dt.date, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for day, status, n, arr, p_sum, p_n in rows:
        if isinstance(day, str):  # SQLite keeps dates as text
            day = dt.date.fromisoformat(day)
        month = sums[day.replace(day=1)]
        word = str(getattr(status, "value", status))
        key = word if word in ("healthy", "at_risk", "critical") else "other"
        month["customers"] += n
        month["arr"] += float(arr or 0)
        month[key] += float(arr or 0)
        month["p_sum"] += float(p_sum or 0)
        month["p_n"] += p_n
    out = []
    first = as_of.replace(day=1)
    while first < last:
        m = sums.get(first, {})
        out.append(
            RenewalMonth(
                month=first,
                customers=int(m.get("customers", 0)),
                arr=m.get("arr", 0.0),
                healthy_arr=m.get("healthy", 0.0),
                at_risk_arr=m.get("at_risk", 0.0),
                critical_arr=m.get("critical", 0.0),
                other_arr=m.get("other", 0.0),
                churn_probability=m["p_sum"] / m["p_n"] if m.get("p_n") else None,
            )
        )
        first = (first + dt.timedelta(days=32)).replace(day=1)
    return out
