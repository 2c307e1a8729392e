"""A past day's health scores, read from the stored history when it can be
trusted for that day, else computed point in time: what the backtest and the
churn model read about health on a snapshot day."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.models import Customer, HealthScoreHistory
from cs_cli.domain import Actor
from cs_cli.services.access import customer_scope
from cs_cli.services.health.recalc import score_day
from cs_cli.services.health.scoring import SIGNAL_VALUES, measure_names
from cs_cli.services.health.usage import UsageRange
from cs_cli.services.health.writes import COMPONENT_COLUMNS
from cs_cli.specs.scorecard import LoadedScorecard


def stored_day(
    session: Session, actor: Actor, loaded: LoadedScorecard, day: dt.date, customers: list[int] | None = None
) -> list | None:
    """The day's scores as history keeps them, when every score of that day
    was made by this scorecard, point in time (rows written since the
    scores were; their signals say how much of the weights had data); else
    None. Rows as score_day(flat=True) gives them."""
    h = HealthScoreHistory
    c = Customer
    # Rows kept as arrays are point in time; of the rows kept as JSON before,
    # those whose signals have a coverage.
    coverage = SIGNAL_VALUES.index("coverage")
    pit = sa.or_(
        dialect.array_item(session, h.signal_values, coverage).is_not(None),
        dialect.json_number(session, h.measures, ("signals", "coverage")).is_not(None),
    )
    mine = sa.and_(h.scorecard_version == loaded.version, pit)
    counted = session.execute(
        sa.select(sa.func.count(), sa.func.count().filter(mine)).where(h.as_of == day)
    ).one()
    if not counted[0] or counted[0] != counted[1]:
        return None
    card = loaded.card
    raw = []
    for index, name in enumerate(measure_names(card)):
        if card.measure(name).is_categorical:
            value = dialect.json_text(session, h.measures, ("raw", name))
        else:
            # The array's number; NULL there, the JSON of a row kept before.
            value = sa.case(
                (h.raw_values.is_not(None), dialect.array_item(session, h.raw_values, index)),
                else_=dialect.json_number(session, h.measures, ("raw", name)),
            )
        raw.append(value.label(f"raw_{name}"))
    components = [getattr(h, column).label(f"component_{name}") for name, column in COMPONENT_COLUMNS.items()]
    # Core rows straight from the connection, fetched all at once (iterating
    # a result fetches row by row): the ORM's result machinery costs as
    # much again as the query on a whole book.
    select = (
        sa.select(h.customer_id, h.overall_score, h.health_status, *components, *raw)
        .join(c, c.id == h.customer_id)
        .where(h.as_of == day, customer_scope(actor), *([] if customers is None else [c.id.in_(customers)]))
    )
    return session.connection().execute(select).all()


def day_health(
    session: Session,
    actor: Actor,
    loaded: LoadedScorecard,
    day: dt.date,
    usage: UsageRange | None,
    customers: list[int] | None = None,
    *,
    stale_days: int = 0,
) -> dict[int, tuple]:
    """Per customer: (overall score, then each component's score, None
    where it has no data), for the day; churned customers left out. With
    `stale_days`, a day history lacks may be read from the latest stored
    day up to that many days before it (older, so still point in time:
    a weekly backfill serves any day), before scoring it afresh."""
    rows = stored_day(session, actor, loaded, day, customers)
    back = 1
    while rows is None and back <= stale_days:
        rows = stored_day(session, actor, loaded, day - dt.timedelta(days=back), customers)
        back += 1
    if rows is None:
        rows = score_day(session, actor, loaded.card, as_of=day, customers=customers, flat=True, usage=usage)
    names = [f"component_{name}" for name in COMPONENT_COLUMNS]
    return {
        r.customer_id: (float(r.overall_score), *(r._mapping[n] for n in names))
        for r in rows
        if r.health_status != "churned"
    }
