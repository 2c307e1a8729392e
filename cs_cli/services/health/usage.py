"""The usage events of a run of days, read once: whatever the number of days
a recalculation or a backtest scores, the events table is read once for
the run's days (by the time index) and probed once per customer, not
scanned every day.

- `grains`: the events from the earliest window's first day to the last
  day, grouped by (customer, event name, user, UTC day), with the first and
  last moment and the count of each group. A day's usage measures read its
  windows' groups (an index on the day).
- `firsts`: per customer, its first event ever (a customer with an event by
  the end of a day has usage data that day) and its last use of the product
  before the grains begin, for each way the scorecards count use (index
  probes, not a scan).
- `last_use`: the last use by the end of the day being scored, carried
  forward day by day from the grains (days are scored oldest first).

Temporary tables, dropped when the run ends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.base import UTCDateTime
from cs_cli.db.models import Customer, UsageEvent
from cs_cli.services.facts import day_end, day_start
from cs_cli.specs.scorecard import USAGE_MEASURES, Measure, MeasureKind, Scorecard


def usage_windows(card: Scorecard) -> list[int]:
    """The look-back windows (days) of the scorecard's usage measures."""
    return [
        measure.window_days or 30
        for spec in card.components.values()
        for name, measure in spec.measures.items()
        if name in USAGE_MEASURES or measure.kind == MeasureKind.EVENT_COUNT
    ]


def use_key(card: Scorecard) -> tuple:
    """What a scorecard counts as use of the product (its `usage` lists)."""
    return (tuple(card.usage.events or ()), tuple(card.usage.exclude))


@dataclass
class UsageRange:
    grains: sa.Table
    firsts: sa.Table
    last_use: sa.Table
    # The `last_N` column of firsts and last_use for each way of counting use.
    keys: dict[tuple, str]
    cards: dict[tuple, Scorecard]
    scored_through: dt.date | None = None
    tables: list[sa.Table] = field(default_factory=list)

    def column(self, card: Scorecard) -> str:
        return self.keys[use_key(card)]

    def advance(self, session: Session, day: dt.date) -> None:
        """Carry the last use forward to the end of `day` (not before the
        last day carried to)."""
        if self.scored_through is not None and day < self.scored_through:
            raise ValueError("days are scored oldest first")
        g = self.grains.c
        since = self.scored_through
        within = [g.day <= usage_day(session, day)]
        if since is not None:
            within.append(g.day > usage_day(session, since))
        latest = (
            sa.select(
                g.customer_id,
                *(
                    sa.func.max(g.last).filter(event_filter(session, card, g.event_name, None)).label(name)
                    for key, name in self.keys.items()
                    for card in [self.cards[key]]
                ),
            )
            .where(*within)
            .group_by(g.customer_id)
        )
        table = self.last_use
        insert = dialect.insert_for(session, table).from_select(["customer_id", *self.keys.values()], latest)
        update = {
            name: sa.case(
                (insert.excluded[name].is_(None), table.c[name]),
                (table.c[name].is_(None), insert.excluded[name]),
                (insert.excluded[name] > table.c[name], insert.excluded[name]),
                else_=table.c[name],
            )
            for name in self.keys.values()
        }
        session.execute(insert.on_conflict_do_update(index_elements=["customer_id"], set_=update))
        self.scored_through = day


def event_filter(
    session: Session, card: Scorecard, column, measure: Measure | None
) -> sa.ColumnElement[bool]:
    """Which event names a usage measure counts: its own `events` and
    `exclude`, else the scorecard's `usage` lists (an event count names its
    events itself); with no measure, what the scorecard counts as use."""
    if measure is not None and measure.kind == MeasureKind.EVENT_COUNT:
        include, exclude = measure.events, measure.exclude or []
    else:
        include = measure.events if measure and measure.events is not None else card.usage.events
        exclude = measure.exclude if measure and measure.exclude is not None else card.usage.exclude
    parts = []
    if include:
        parts.append(_matches(session, column, include))
    if exclude:
        parts.append(sa.not_(_matches(session, column, exclude)))
    return sa.and_(sa.true(), *parts)


def _matches(session: Session, column, patterns: list[str]) -> sa.ColumnElement[bool]:
    exact = [p for p in patterns if "*" not in p and "?" not in p]
    parts = [column.in_(exact)] if exact else []
    parts += [dialect.glob(session, column, p) for p in patterns if p not in exact]
    return sa.or_(*parts)


def usage_day(session: Session, day: dt.date) -> sa.ColumnElement:
    """A day as the grains' day column holds it (a date; ISO text on SQLite)."""
    if dialect.is_postgres(session):
        return sa.literal(day, sa.Date)
    return sa.literal(day.isoformat())


@contextmanager
def usage_range(
    session: Session,
    cards: Sequence[Scorecard],
    days: Sequence[dt.date],
    *,
    window: int = 1,
    customers: Sequence[int] | None = None,
) -> Iterator[UsageRange]:
    """Read the usage events the scoring of `days` (oldest first) with
    `cards` needs (and `window` days back from each, at least), once, of
    every customer (or of `customers`, by id: a few, read by the index);
    the tables go when the block ends."""
    ev = UsageEvent.__table__
    only = [] if customers is None else [ev.c.customer_id.in_(list(customers))]
    if customers is None:
        dialect.for_whole_table_reads(session)
    widest = max([window, *(w for card in cards for w in usage_windows(card))])
    start = day_start(days[0] - dt.timedelta(days=widest - 1))
    end = day_end(days[-1])
    keys: dict[tuple, str] = {}
    by_key: dict[tuple, Scorecard] = {}
    for card in cards:
        key = use_key(card)
        if key not in keys:
            keys[key] = f"last_{len(keys)}"
            by_key[key] = card
    connection = session.connection()
    day = dialect.utc_day(session, ev.c.occurred_at)
    name = dialect.bytewise(session, ev.c.event_name)
    grains_select = (
        sa.select(
            ev.c.customer_id.label("customer_id"),
            name.label("event_name"),
            ev.c.contact_id.label("contact_id"),
            day.label("day"),
            sa.func.min(ev.c.occurred_at).label("first"),
            sa.func.max(ev.c.occurred_at).label("last"),
            sa.func.count().label("events"),
        )
        .where(
            ev.c.occurred_at >= sa.literal(start, UTCDateTime()),
            ev.c.occurred_at < sa.literal(end, UTCDateTime()),
            *only,
        )
        .group_by(ev.c.customer_id, name, ev.c.contact_id, day)
    )
    grains = dialect.temp_table_from(session, "cs_usage_grains", grains_select)
    session.execute(sa.text(f"CREATE INDEX cs_usage_grains_day ON {grains.name} (day)"))
    # Per customer, by its index on (customer_id, occurred_at): the first
    # event, and the last use before the grains, each one index probe (a
    # GROUP BY over every event ever read the whole table each run).
    c = Customer.__table__
    mine = ev.c.customer_id == c.c.id
    before = ev.c.occurred_at < sa.literal(start, UTCDateTime())
    firsts_select = sa.select(
        c.c.id.label("customer_id"),
        sa.select(sa.func.min(ev.c.occurred_at)).where(mine).scalar_subquery().label("first_at"),
        *(
            sa.select(sa.func.max(ev.c.occurred_at))
            .where(mine, before, event_filter(session, by_key[key], ev.c.event_name, None))
            .scalar_subquery()
            .label(column)
            for key, column in keys.items()
        ),
    ).where(*([] if customers is None else [c.c.id.in_(list(customers))]))
    with dialect.index_probes(session):
        firsts = dialect.temp_table_from(session, "cs_usage_firsts", firsts_select)
    session.execute(sa.text(f"CREATE UNIQUE INDEX cs_usage_firsts_customer ON {firsts.name} (customer_id)"))
    last_use = sa.Table(
        "cs_last_use",
        sa.MetaData(),
        sa.Column("customer_id", sa.Integer, primary_key=True),
        *(sa.Column(column, UTCDateTime()) for column in keys.values()),
        prefixes=["TEMPORARY"],
    )
    last_use.drop(connection, checkfirst=True)
    last_use.create(connection)
    session.execute(
        sa.insert(last_use).from_select(
            ["customer_id", *keys.values()],
            sa.select(firsts.c.customer_id, *(firsts.c[c] for c in keys.values())),
        )
    )
    for table in (grains, firsts, last_use):
        dialect.analyze(session, table)
    usage = UsageRange(grains, firsts, last_use, keys, by_key, tables=[grains, firsts, last_use])
    try:
        yield usage
    finally:
        for table in usage.tables:
            table.drop(session.connection(), checkfirst=True)
