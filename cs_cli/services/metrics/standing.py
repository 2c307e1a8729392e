"""Where the book stands on a day: each customer's health then (the latest
score on or before the day) and what renews in the months (or days) after."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import CSTask, Customer, HealthScoreHistory, Playbook, User
from cs_cli.domain import (
    Actor,
    HealthStatus,
    PlaybookCategory,
    RenewalMonth,
    RenewalPipeline,
    RenewalWindow,
    RenewingCustomer,
    StatusShare,
)
from cs_cli.errors import BadInput
from cs_cli.services.facts import facts_as_of
from cs_cli.services.metrics.filters import Filters, condition
from cs_cli.services.tasks.selection import OPEN

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


def _renewing(facts: sa.Subquery, start: dt.date, stop: dt.date) -> list[sa.ColumnElement[bool]]:
    """Renewing from `start` to the day before `stop`: the one definition the
    monthly pipeline and the windows in days share, so their numbers agree."""
    return [facts.c.renewal_date >= start, facts.c.renewal_date < stop]


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
    wanted += _renewing(facts, as_of, last)
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


# The board's renewal windows, in days from the as-of day.
RENEWAL_WINDOWS = (30, 60, 90, 180)


def renewal_tasks() -> sa.Subquery:
    """Each customer's open renewal tasks: those of a renewal playbook, and
    any whose title says renewal (the ones a CSM or the demo writes by hand)."""
    renewal_playbooks = sa.select(Playbook.id).where(Playbook.category == PlaybookCategory.RENEWAL)
    return (
        sa.select(CSTask.customer_id, sa.func.count().label("renewal_tasks"))
        .where(
            CSTask.status.in_(OPEN),
            sa.or_(CSTask.playbook_id.in_(renewal_playbooks), CSTask.title.ilike("%renewal%")),
        )
        .group_by(CSTask.customer_id)
        .subquery("renewal_tasks")
    )


def renewal_pipeline(
    session: Session,
    actor: Actor,
    filters: Filters,
    *,
    as_of: dt.date,
    windows: tuple[int, ...] = RENEWAL_WINDOWS,
    limit: int = 500,
) -> RenewalPipeline:
    """The active customers renewing within each window (`as_of` to `as_of`
    plus that many days, both included), as `renewals` counts them: ARR,
    ARR at risk or critical on `as_of`, mean churn probability where
    predicted, open renewal tasks; and the customers of the widest window,
    soonest first (at most `limit`; none when 0)."""
    if not windows or min(windows) < 0 or limit < 0:
        raise BadInput("windows must be days >= 0 and limit >= 0")
    windows = tuple(sorted(set(windows)))
    facts, health, source, wanted = active_book(session, actor, filters, as_of)
    tasks = renewal_tasks()
    source = source.outerjoin(tasks, tasks.c.customer_id == Customer.id)
    wanted += _renewing(facts, as_of, as_of + dt.timedelta(days=windows[-1] + 1))
    risky = sa.type_coerce(health.c.health_status, sa.String).in_(["at_risk", "critical"])
    n_tasks = sa.func.coalesce(tasks.c.renewal_tasks, 0)
    columns = []
    for days in windows:
        inside = facts.c.renewal_date <= as_of + dt.timedelta(days=days)
        columns += [
            sa.func.count().filter(inside),
            sa.func.sum(facts.c.arr).filter(inside),
            sa.func.sum(facts.c.arr).filter(inside, risky),
            sa.func.sum(health.c.churn_probability).filter(inside),
            sa.func.count(health.c.churn_probability).filter(inside),
            sa.func.sum(n_tasks).filter(inside),
        ]
    sums = session.execute(sa.select(*columns).select_from(source).where(*wanted)).one()
    summary = []
    for i, days in enumerate(windows):
        n, arr, risk, p_sum, p_n, open_tasks = sums[i * 6 : i * 6 + 6]
        summary.append(
            RenewalWindow(
                days=days,
                customers=int(n or 0),
                arr=float(arr or 0),
                at_risk_arr=float(risk or 0),
                churn_probability=float(p_sum) / p_n if p_n else None,
                renewal_tasks=int(open_tasks or 0),
            )
        )
    if limit == 0:  # the summary alone (the dashboard's)
        return RenewalPipeline(as_of=as_of, windows=summary, customers=[], total=summary[-1].customers)
    rows = session.execute(
        sa.select(
            Customer.external_id,
            Customer.name,
            User.email,
            facts.c.renewal_date,
            facts.c.arr,
            health.c.health_status,
            health.c.overall_score,
            health.c.churn_probability,
            n_tasks,
        )
        .select_from(source.outerjoin(User, User.id == facts.c.csm_id))
        .where(*wanted)
        .order_by(facts.c.renewal_date, facts.c.arr.desc().nulls_last(), Customer.external_id)
        .limit(limit)
    ).all()
    customers = []
    for external_id, name, csm, renewal, arr, status, score, p, open_tasks in rows:
        if isinstance(renewal, str):  # SQLite keeps dates as text
            renewal = dt.date.fromisoformat(renewal)
        customers.append(
            RenewingCustomer(
                external_id=external_id,
                name=name,
                csm=csm,
                renewal_date=renewal,
                days=(renewal - as_of).days,
                arr=float(arr or 0),
                health_status=str(getattr(status, "value", status)) if status is not None else NOT_SCORED,
                health_score=score,
                churn_probability=None if p is None else float(p),
                renewal_tasks=int(open_tasks or 0),
            )
        )
    return RenewalPipeline(as_of=as_of, windows=summary, customers=customers, total=summary[-1].customers)
