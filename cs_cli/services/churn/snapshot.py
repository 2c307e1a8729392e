"""One snapshot day's features of the whole book, as of the end of the day
and nothing later: one set-based statement over the customers' facts then
(services/facts.py), the usage read for the run (services/health/usage.py)
and each source table, plus the health scores of the day and of 30, 60 and
90 days before (stored history when it is point in time, else scored)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.models import Contact, Customer, Invoice, NpsResponse, SupportTicket, Touchpoint
from cs_cli.domain import Actor
from cs_cli.services.access import customer_scope
from cs_cli.services.churn.features import (
    CATEGORICAL_FACTS,
    FIXED,
    HEALTH_CHANGES,
    LOOK_BACK_DAYS,
    DayColumns,
    text_of,
)
from cs_cli.services.facts import day_end, facts_as_of
from cs_cli.services.health.history import day_health
from cs_cli.services.health.measures import HUMAN_TOUCHPOINTS
from cs_cli.services.health.usage import UsageRange, usage_day
from cs_cli.services.health.writes import COMPONENT_COLUMNS
from cs_cli.specs.scorecard import LoadedScorecard

# A snapshot day's health may come from stored history up to this many days
# older (a weekly backfill serves every day) rather than be scored afresh.
HEALTH_STALE_DAYS = 6


def day_frame(
    session: Session,
    actor: Actor,
    day: dt.date,
    *,
    scorecard: LoadedScorecard | None,
    usage: UsageRange | None,
    event_names: Sequence[str],
    health: Callable[[dt.date], dict[int, tuple]] | None = None,
    customers: Sequence[int] | None = None,
    include_churned: bool = False,
) -> DayColumns:
    """The fixed features (and event-name features) of every customer the
    actor may see that is a customer on `day` and has not churned by then
    (or only of `customers`; `include_churned`: churned ones too, for a
    book with no history), and each one's attributes as of the day."""
    end = day_end(day)
    f = facts_as_of(session, day)
    before = facts_as_of(session, day - dt.timedelta(days=LOOK_BACK_DAYS)).alias("before")
    c = Customer.__table__
    only = [] if customers is None else [c.c.id.in_(list(customers))]

    def since(days: int) -> dt.datetime:
        return end - dt.timedelta(days=days)

    def mine(column) -> list:
        return [] if customers is None else [column.in_(list(customers))]

    subs: dict[str, sa.FromClause] = {}
    columns: dict[str, sa.ColumnElement] = {}
    if usage is not None:
        g = usage.grains.c

        def on(first: dt.date, last: dt.date = day) -> sa.ColumnElement[bool]:
            return sa.and_(g.day >= usage_day(session, first), g.day <= usage_day(session, last))

        def back(days: int) -> dt.date:
            return day - dt.timedelta(days=days - 1)

        per_name = []
        for i, name in enumerate(event_names):
            per_name += [
                sa.func.sum(g.events).filter(g.event_name == name, on(back(28))).label(f"n{i}"),
                sa.func.sum(g.events).filter(g.event_name == name, on(back(56), back(29))).label(f"p{i}"),
            ]
        u = (
            sa.select(
                g.customer_id.label("customer_id"),
                sa.func.sum(g.events).filter(on(back(7))).label("e7"),
                sa.func.sum(g.events).filter(on(back(28))).label("e28"),
                sa.func.sum(g.events).filter(on(back(56), back(29))).label("p28"),
                sa.func.sum(g.events).label("e90"),
                sa.func.count(sa.distinct(g.day)).filter(on(back(28))).label("days28"),
                sa.func.count(sa.distinct(g.contact_id)).filter(on(back(28))).label("users28"),
                sa.func.max(g.last).label("last"),
                *per_name,
            )
            .where(on(back(LOOK_BACK_DAYS)), *mine(g.customer_id))
            .group_by(g.customer_id)
            .subquery("u")
        )
        subs["u"] = u
        ever = usage.firsts.c
        has_used = sa.and_(ever.first_at.is_not(None), ever.first_at < end)
        subs["ever"] = usage.firsts

        def zero(col):
            return sa.case((has_used, sa.func.coalesce(col, 0)))

        columns |= {
            "events_7d": zero(u.c.e7),
            "events_28d": zero(u.c.e28),
            "events_90d": zero(u.c.e90),
            "active_days_28d": zero(u.c.days28),
            "users_28d": zero(u.c.users28),
            "users_per_seat": sa.case(
                (sa.and_(has_used, f.c.seats > 0), sa.func.coalesce(u.c.users28, 0) * 1.0 / f.c.seats)
            ),
            # No event in the look-back: as many days as it covers, plus one.
            "days_since_event": sa.case(
                (u.c.last.is_not(None), dialect.whole_days_since(session, end, u.c.last)),
                (has_used, LOOK_BACK_DAYS + 1),
            ),
        }
        for i, _ in enumerate(event_names):
            columns[f"_n{i}"] = zero(u.c[f"n{i}"])
            columns[f"_p{i}"] = zero(u.c[f"p{i}"])
        columns["_e28"] = zero(u.c.e28)
        columns["_p28"] = zero(u.c.p28)

    t = SupportTicket
    escalated = sa.and_(t.escalated, sa.or_(t.escalated_at.is_(None), t.escalated_at < end))
    escalated_recently = sa.and_(
        escalated, sa.func.coalesce(t.escalated_at, t.opened_at) >= since(LOOK_BACK_DAYS)
    )
    subs["support"] = support = (
        sa.select(
            t.customer_id.label("customer_id"),
            sa.func.count().filter(t.opened_at >= since(LOOK_BACK_DAYS)).label("opened"),
            sa.func.count().filter(sa.or_(t.closed_at.is_(None), t.closed_at >= end)).label("open"),
            sa.func.count().filter(escalated_recently).label("escalated"),
            sa.func.avg(t.satisfaction)
            .filter(t.closed_at >= since(LOOK_BACK_DAYS), t.closed_at < end)
            .label("csat"),
            sa.func.avg(t.sentiment_score).filter(t.opened_at >= since(LOOK_BACK_DAYS)).label("sentiment"),
        )
        .where(t.opened_at < end, *mine(t.customer_id))
        .group_by(t.customer_id)
        .subquery("support")
    )
    n = NpsResponse
    ranked = (
        sa.select(
            n.customer_id,
            n.score,
            n.responded_at,
            sa.func.row_number()
            .over(partition_by=n.customer_id, order_by=(n.responded_at.desc(), n.id.desc()))
            .label("k"),
        )
        .where(n.responded_at < end, *mine(n.customer_id))
        .subquery("ranked")
    )
    subs["nps"] = nps = (
        sa.select(
            ranked.c.customer_id.label("customer_id"),
            sa.func.max(sa.case((ranked.c.k == 1, ranked.c.score))).label("last"),
            sa.func.max(sa.case((ranked.c.k == 2, ranked.c.score))).label("previous"),
            sa.func.max(sa.case((ranked.c.k == 1, ranked.c.responded_at))).label("at"),
        )
        .where(ranked.c.k <= 2)
        .group_by(ranked.c.customer_id)
        .subquery("nps")
    )
    tp = Touchpoint
    recent = tp.occurred_at >= since(LOOK_BACK_DAYS)
    subs["touch"] = touch = (
        sa.select(
            tp.customer_id.label("customer_id"),
            sa.func.count().filter(recent, tp.touchpoint_type.in_(HUMAN_TOUCHPOINTS)).label("human"),
            sa.func.avg(tp.sentiment_score).filter(recent).label("sentiment"),
            # The trend: the last 30 days against the 60 before them.
            sa.func.avg(tp.sentiment_score).filter(tp.occurred_at >= since(30)).label("sentiment_30"),
            sa.func.avg(tp.sentiment_score)
            .filter(recent, tp.occurred_at < since(30))
            .label("sentiment_before"),
            sa.func.max(tp.occurred_at).label("last"),
        )
        .where(tp.occurred_at < end, *mine(tp.customer_id))
        .group_by(tp.customer_id)
        .subquery("touch")
    )
    k = Contact
    present = sa.or_(k.left_at.is_(None), k.left_at >= end)
    left = sa.and_(k.left_at >= since(LOOK_BACK_DAYS), k.left_at < end)
    subs["people"] = people = (
        sa.select(
            k.customer_id.label("customer_id"),
            sa.func.max(sa.case((sa.and_(k.is_champion, present), 1), else_=0)).label("champion"),
            sa.func.max(sa.case((sa.and_(k.is_exec_sponsor, present), 1), else_=0)).label("sponsor"),
            sa.func.sum(sa.case((sa.and_(k.is_champion, left), 1), else_=0)).label("champion_left"),
            sa.func.sum(sa.case((sa.and_(k.is_exec_sponsor, left), 1), else_=0)).label("sponsor_left"),
        )
        .where(*mine(k.customer_id))
        .group_by(k.customer_id)
        .subquery("people")
    )
    i = Invoice
    late_from = day - dt.timedelta(days=180)
    # Due before the day and, as of the day, paid after its due date or not
    # paid: whatever happened to it later (a payment after the day says no
    # more than "unpaid" did on the day).
    is_late = sa.or_(i.paid_on.is_(None), i.paid_on > i.due_on)
    overdue = sa.and_(i.due_on < day, sa.or_(i.paid_on.is_(None), i.paid_on > day))
    subs["billing"] = billing = (
        sa.select(
            i.customer_id.label("customer_id"),
            sa.func.count().filter(i.due_on > late_from, i.due_on < day, is_late).label("late"),
            sa.func.count().filter(overdue).label("overdue"),
        )
        .where(i.issued_on <= day, *mine(i.customer_id))
        .group_by(i.customer_id)
        .subquery("billing")
    )

    def days_since(col) -> sa.ColumnElement:
        return dialect.whole_days_since(session, end, col)

    columns |= {
        # A churned customer (read as it stands, see include_churned) was a
        # customer until it churned: its tenure stops there, and its renewal
        # date, long past, would say "churned" by its sign alone.
        "tenure_days": sa.case(
            (
                sa.and_(f.c.churned, f.c.churned_at.is_not(None)),
                dialect.floor_int(session, dialect.days_between(session, f.c.started_on, f.c.churned_at)),
            ),
            else_=f.c.tenure_days,
        )
        if include_churned
        else f.c.tenure_days,
        "days_to_renewal": sa.literal(None)
        if include_churned
        else dialect.days_until(session, f.c.renewal_date, day),
        "arr": sa.cast(f.c.arr, sa.Float),
        "seats": f.c.seats,
        "arr_change_90d": sa.case(
            (before.c.arr > 0, sa.cast(f.c.arr - before.c.arr, sa.Float) / sa.cast(before.c.arr, sa.Float))
        ),
        "seats_change_90d": sa.case((before.c.is_customer, f.c.seats - before.c.seats)),
        "plan_changed_90d": sa.case(
            (before.c.is_customer, sa.case((f.c.plan.is_distinct_from(before.c.plan), 1), else_=0))
        ),
        "tickets_90d": sa.func.coalesce(support.c.opened, 0),
        "open_tickets": sa.func.coalesce(support.c.open, 0),
        "escalations_90d": sa.func.coalesce(support.c.escalated, 0),
        "csat_90d": sa.cast(support.c.csat, sa.Float),
        "nps_last": nps.c.last,
        "nps_change": nps.c.last - nps.c.previous,
        "days_since_nps": days_since(nps.c.at),
        "touchpoints_90d": sa.func.coalesce(touch.c.human, 0),
        "sentiment_90d": sa.cast(touch.c.sentiment, sa.Float),
        "sentiment_trend": sa.cast(touch.c.sentiment_30 - touch.c.sentiment_before, sa.Float),
        "ticket_sentiment_90d": sa.cast(support.c.sentiment, sa.Float),
        "days_since_touchpoint": days_since(touch.c.last),
        "champion": sa.func.coalesce(people.c.champion, 0),
        "exec_sponsor": sa.func.coalesce(people.c.sponsor, 0),
        "champion_left_90d": sa.func.coalesce(people.c.champion_left, 0),
        "sponsor_left_90d": sa.func.coalesce(people.c.sponsor_left, 0),
        "late_invoices_180d": sa.func.coalesce(billing.c.late, 0),
        "overdue_invoices": sa.func.coalesce(billing.c.overdue, 0),
    }
    source = c.join(f, f.c.customer_id == c.c.id).outerjoin(before, before.c.customer_id == c.c.id)
    for sub in subs.values():
        source = source.outerjoin(sub, sub.c.customer_id == c.c.id)
    alive = [f.c.is_customer] if include_churned else [f.c.is_customer, sa.not_(f.c.churned)]
    names = list(columns)
    select = (
        sa.select(
            c.c.id,
            f.c.churned,
            *(columns[name].label(f"x{j}") for j, name in enumerate(names)),
            *(f.c[name] for name in CATEGORICAL_FACTS),
            f.c.attributes,
        )
        .select_from(source)
        .where(customer_scope(actor), *alive, *only)
        .order_by(c.c.id)
    )
    rows = session.execute(select).all()
    width = len(names)
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    churned = np.fromiter((bool(r[1]) for r in rows), dtype=float, count=len(rows))
    values = np.array([r[2 : 2 + width] for r in rows], dtype=float).reshape(len(rows), width)
    got = {name: values[:, j] for j, name in enumerate(names)}
    if usage is not None:
        got["events_trend"] = np.where(
            np.isnan(got["_e28"]), np.nan, np.log((got["_e28"] + 1.0) / (got["_p28"] + 1.0))
        )
        for i, name in enumerate(event_names):
            got[f"events_28d:{name}"] = got[f"_n{i}"]
            got[f"trend:{name}"] = np.where(
                np.isnan(got[f"_n{i}"]), np.nan, np.log((got[f"_n{i}"] + 1.0) / (got[f"_p{i}"] + 1.0))
            )
    else:
        for name in FIXED:
            if name.startswith(("events_", "active_days", "users_", "days_since_event")):
                got[name] = np.full(len(rows), np.nan)
    for name in FIXED:
        if name.startswith("health_"):
            got[name] = np.full(len(rows), np.nan)
    if health is not None and scorecard is not None:
        _add_health(got, ids, day, health)
    attributes = [r[-1] if isinstance(r[-1], dict) else {} for r in rows]
    facts = [[text_of(r[2 + width + j]) for r in rows] for j in range(len(CATEGORICAL_FACTS))]
    return DayColumns(ids, churned, got, facts, attributes)


def _add_health(got: dict[str, np.ndarray], ids: np.ndarray, day: dt.date, health) -> None:
    now = health(day)
    components = list(COMPONENT_COLUMNS)
    got["health_score"] = np.array([now.get(i, (np.nan,))[0] for i in ids.tolist()], dtype=float)
    for j, name in enumerate(components, start=1):
        got[f"health_{name}"] = np.array(
            [_float(now.get(i, (None,) * (len(components) + 1))[j]) for i in ids.tolist()], dtype=float
        )
    for days in HEALTH_CHANGES:
        then = health(day - dt.timedelta(days=days))
        got[f"health_change_{days}d"] = np.array(
            [now[i][0] - then[i][0] if i in now and i in then else np.nan for i in ids.tolist()],
            dtype=float,
        )


def _float(value) -> float:
    return math.nan if value is None else float(value)


def health_reader(
    session: Session,
    actor: Actor,
    scorecard: LoadedScorecard,
    usage: UsageRange | None,
    customers: list[int] | None = None,
) -> Callable[[dt.date], dict[int, tuple]]:
    """Each day's health (overall score, then the component scores) by
    customer, from stored history where it is point in time and of this
    scorecard, else scored afresh; each day read once."""
    cache: dict[dt.date, dict[int, tuple]] = {}

    def read(day: dt.date) -> dict[int, tuple]:
        if day not in cache:
            cache[day] = day_health(
                session, actor, scorecard, day, usage, customers, stale_days=HEALTH_STALE_DAYS
            )
        return cache[day]

    return read
