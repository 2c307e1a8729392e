"""Logo and revenue retention: of the customers active when a period
began, how many churned by its end and what became of their ARR."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.models import Customer
from cs_cli.domain import Actor, RetentionPeriod
from cs_cli.services.facts import facts_as_of, over_many_days
from cs_cli.services.metrics.filters import Filters, condition, months, share, wilson


@over_many_days
def retention(
    session: Session, actor: Actor, filters: Filters, *, start: dt.date, end: dt.date
) -> tuple[list[RetentionPeriod], RetentionPeriod]:
    """Each month from `start` to `end`, and the whole span as one period.
    The facts of each day a period starts or ends from are computed once
    (a month's end is the next one's start)."""
    spans = months(start, end)
    days = {s - dt.timedelta(days=1) for s, _ in spans} | {e for _, e in spans}
    with facts_by_day(session, sorted(days)) as facts:
        periods = [period(session, actor, filters, start=s, end=e, facts=facts) for s, e in spans]
        return periods, period(session, actor, filters, start=start, end=end, facts=facts)


# The facts a period reads.
_READ = ("customer_id", "is_customer", "churned", "arr", "plan")


@contextmanager
def facts_by_day(session: Session, days: Sequence[dt.date]) -> Iterator[dict[dt.date, sa.Table]]:
    """The customers' facts on each of `days` (facts.facts_as_of) that a
    period reads, each in a scratch table for the block: one pass over the
    history a day, however many periods read it (and only these columns:
    copying the rest, attributes and all, took a third of the time)."""
    tables: dict[dt.date, sa.Table] = {}
    try:
        for i, day in enumerate(days):
            facts = facts_as_of(session, day)
            select = sa.select(*(facts.c[name] for name in _READ))
            tables[day] = dialect.temp_table_from(session, f"cs_facts_day_{i}", select, key="customer_id")
        yield tables
    finally:
        for table in tables.values():
            table.drop(session.connection(), checkfirst=True)


def period(
    session: Session,
    actor: Actor,
    filters: Filters,
    *,
    start: dt.date,
    end: dt.date,
    facts: dict[dt.date, sa.Table] | None = None,
) -> RetentionPeriod:
    """One period: the cohort is every customer active at the end of the day
    before `start` (a customer by then, not churned), with the facts then in
    force; its end is the facts in force at the end of `end`. `facts`: the
    facts of days computed already (facts_by_day)."""
    before = start - dt.timedelta(days=1)
    known = facts or {}

    def on(day: dt.date, alias: str):
        return known[day].alias(alias) if day in known else facts_as_of(session, day).alias(alias)

    f0, f1 = on(before, "f0"), on(end, "f1")
    wanted = [condition(session, actor, filters, on=before)]
    if filters.plan:
        wanted.append(f0.c.plan == filters.plan)
    in_cohort = sa.and_(f0.c.is_customer, sa.not_(f0.c.churned))
    arr0 = sa.func.coalesce(f0.c.arr, 0)
    arr1 = sa.func.coalesce(f1.c.arr, 0)
    stayed = sa.and_(in_cohort, sa.not_(f1.c.churned))
    row = session.execute(
        sa.select(
            sa.func.count().filter(in_cohort),
            sa.func.count().filter(in_cohort, f1.c.churned),
            sa.func.count().filter(sa.not_(f0.c.is_customer), f1.c.is_customer, sa.not_(f1.c.churned)),
            sa.func.sum(arr0).filter(in_cohort),
            sa.func.sum(arr0).filter(in_cohort, f1.c.churned),
            sa.func.sum(arr0 - arr1).filter(stayed, arr1 < arr0),
            sa.func.sum(arr1 - arr0).filter(stayed, arr1 > arr0),
        )
        .select_from(Customer)
        .join(f0, f0.c.customer_id == Customer.id)
        .join(f1, f1.c.customer_id == Customer.id)
        .where(*wanted)
    ).one()
    customers, churned, new = (int(v or 0) for v in row[:3])
    start_arr, churned_arr, contraction, expansion = (float(v or 0) for v in row[3:])
    kept = start_arr - churned_arr - contraction
    return RetentionPeriod(
        start=start,
        end=end,
        customers=customers,
        churned=churned,
        new=new,
        start_arr=start_arr,
        churned_arr=churned_arr,
        contraction_arr=contraction,
        expansion_arr=expansion,
        logo_churn=share(churned, customers),
        logo_churn_interval=wilson(churned, customers),
        arr_churn=share(churned_arr, start_arr),
        gross_retention=share(kept, start_arr),
        net_retention=share(kept + expansion, start_arr),
    )


def annualised(monthly: float | None) -> float | None:
    """A monthly churn rate as the share lost over twelve such months."""
    return None if monthly is None else 1 - (1 - monthly) ** 12
