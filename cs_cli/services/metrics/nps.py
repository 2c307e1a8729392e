"""NPS by period: % promoters (9-10) minus % detractors (0-6) of the
responses given in it, with its 95% interval."""

from __future__ import annotations

import datetime as dt
import math

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.base import UTCDateTime
from cs_cli.db.models import Customer, NpsResponse
from cs_cli.domain import Actor, Interval, NpsPeriod
from cs_cli.services.facts import day_end, day_start, facts_as_of
from cs_cli.services.metrics.filters import THIN, Z95, Filters, condition, months


def nps_trend(
    session: Session, actor: Actor, filters: Filters, *, start: dt.date, end: dt.date
) -> tuple[list[NpsPeriod], NpsPeriod]:
    """Each month from `start` to `end`, and the whole span."""
    periods = [nps_period(session, actor, filters, start=s, end=e) for s, e in months(start, end)]
    return periods, nps_period(session, actor, filters, start=start, end=end)


def nps_period(
    session: Session, actor: Actor, filters: Filters, *, start: dt.date, end: dt.date
) -> NpsPeriod:
    """The responses given from the start of `start` to the end of `end`, by
    the customers the filters hold at the end of `end`."""
    wanted = [
        condition(session, actor, filters, on=end),
        NpsResponse.responded_at >= sa.literal(day_start(start), UTCDateTime()),
        NpsResponse.responded_at < sa.literal(day_end(end), UTCDateTime()),
    ]
    source = sa.join(Customer, NpsResponse, NpsResponse.customer_id == Customer.id)
    if filters.plan:
        facts = facts_as_of(session, end)
        source = source.join(facts, facts.c.customer_id == Customer.id)
        wanted.append(facts.c.plan == filters.plan)
    row = session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count().filter(NpsResponse.score >= 9),
            sa.func.count().filter(NpsResponse.score <= 6),
            sa.func.avg(NpsResponse.score),
        )
        .select_from(source)
        .where(*wanted)
    ).one()
    n, promoters, detractors = (int(v or 0) for v in row[:3])
    return NpsPeriod(
        start=start,
        end=end,
        responses=n,
        promoters=promoters,
        passives=n - promoters - detractors,
        detractors=detractors,
        nps=100 * (promoters - detractors) / n if n else None,
        interval=interval(promoters, detractors, n),
        average=None if row[3] is None else float(row[3]),
        thin=n < THIN,
    )


def interval(promoters: int, detractors: int, n: int) -> Interval | None:
    """The normal 95% interval of NPS: each response scores +1, 0 or -1, and
    NPS is 100 times their mean."""
    if n < 2:
        return None
    p, d = promoters / n, detractors / n
    spread = math.sqrt(max(0.0, p + d - (p - d) ** 2) / n)
    nps = 100 * (p - d)
    return Interval(max(-100.0, nps - 100 * Z95 * spread), min(100.0, nps + 100 * Z95 * spread))
