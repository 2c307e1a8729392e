"""Time to value: days from a customer's contract start to its first value
(the first use of the product, or the first of a named event:
`first_value_event`), for the customers who started in the year to a day;
as one median (the success metric) and by the month they started."""

from __future__ import annotations

import datetime as dt
import statistics

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.base import UTCDateTime
from cs_cli.db.models import Customer, UsageEvent
from cs_cli.domain import Actor, ValueCohort
from cs_cli.services.facts import day_end, day_start, facts_as_of
from cs_cli.services.metrics.filters import Filters, condition

# How far back new customers are looked at.
YEAR = dt.timedelta(days=365)


def time_to_value(
    session: Session, actor: Actor, filters: Filters, day: dt.date, event: str = ""
) -> tuple[float | None, int, int]:
    """Median days from contract start to the first `event` (any usage event
    when none is named), of the customers whose contract started in the 365
    days to `day` and reached it by then; how many reached it, of how many."""
    starts = first_values(session, actor, filters, day, event)
    days = [(reached - start).days for start, reached in starts if reached is not None]
    return (float(statistics.median(days)) if days else None), len(days), len(starts)


def cohorts(
    session: Session, actor: Actor, filters: Filters, day: dt.date, event: str = "", target_days: int = 30
) -> list[ValueCohort]:
    """The customers who started in the 365 days to `day`, by the month
    their contract started (oldest first): how many reached their first
    value by `day`, how many within `target_days`, and the quartiles of the
    days it took those who did."""
    by_month: dict[dt.date, list[tuple[dt.date, dt.date | None]]] = {}
    for start, reached in first_values(session, actor, filters, day, event):
        by_month.setdefault(start.replace(day=1), []).append((start, reached))
    out = []
    for month in sorted(by_month):
        pairs = by_month[month]
        days = sorted((reached - start).days for start, reached in pairs if reached is not None)
        quartiles = statistics.quantiles(days, n=4, method="inclusive") if len(days) > 1 else days * 3
        out.append(
            ValueCohort(
                month=month,
                started=len(pairs),
                reached=len(days),
                within_target=sum(1 for d in days if d <= target_days),
                median_days=float(statistics.median(days)) if days else None,
                p25_days=float(quartiles[0]) if days else None,
                p75_days=float(quartiles[-1]) if days else None,
            )
        )
    return out


def first_values(
    session: Session, actor: Actor, filters: Filters, day: dt.date, event: str = ""
) -> list[tuple[dt.date, dt.date | None]]:
    """(contract start, day of first value or None) of each customer of
    `filters` whose contract (in force on `day`) started in the 365 days to
    `day`; only what was known by the end of `day` counts."""
    facts = facts_as_of(session, day)
    started = facts.c.contract_start
    wanted = [
        condition(session, actor, filters, on=day),
        facts.c.is_customer,
        started > day - YEAR,
        started <= day,
    ]
    if filters.plan:
        wanted.append(facts.c.plan == filters.plan)
    new = dialect.temp_table_from(
        session,
        "cs_new_customers",
        sa.select(Customer.id.label("customer_id"), started.label("started"))
        .select_from(sa.join(Customer, facts, facts.c.customer_id == Customer.id))
        .where(*wanted),
        key="customer_id",
    )
    # One pass over the events joined to the new customers, grouped: a
    # lookup per customer reads all of each one's events (the index is on
    # the customer alone), seconds on a large book.
    ev = UsageEvent.__table__
    first = (
        sa.select(ev.c.customer_id, sa.func.min(ev.c.occurred_at).label("first_at"))
        .select_from(ev.join(new, new.c.customer_id == ev.c.customer_id))
        .where(
            ev.c.occurred_at >= _midnight(session, new.c.started),
            ev.c.occurred_at >= sa.literal(day_start(day - YEAR), UTCDateTime()),
            ev.c.occurred_at < sa.literal(day_end(day), UTCDateTime()),
            *([ev.c.event_name == event] if event else []),
        )
        .group_by(ev.c.customer_id)
        .subquery("first")
    )
    # A scan of the events, not a walk of the customer index: each
    # customer's events lie scattered over the table in arrival order.
    dialect.for_whole_table_reads(session)
    try:
        rows = session.execute(
            sa.select(new.c.started, dialect.utc_day(session, first.c.first_at)).select_from(
                new.outerjoin(first, first.c.customer_id == new.c.customer_id)
            )
        ).all()
    finally:
        dialect.for_key_lookups(session)
        new.drop(session.connection())
    return [(_date(start), None if reached is None else _date(reached)) for start, reached in rows]


def _date(value) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _midnight(session, day_column):
    """A date column as the moment its day begins (UTC), to compare with times."""
    if dialect.is_postgres(session):
        return sa.cast(day_column, sa.DateTime(timezone=True))
    return sa.func.datetime(day_column)
