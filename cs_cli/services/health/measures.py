"""The raw measures of a range of customers as one SQL query: one aggregate
subquery per source table (usage, touchpoints, contacts, NPS, invoices,
tickets), left-joined to the customers. Nothing here runs per customer.

Every measure is NULL when the customer has no data for it; docs/health.md
gives each definition.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.models import Contact, Customer, Invoice, NpsResponse, SupportTicket, Touchpoint, UsageEvent
from cs_cli.domain import TouchpointType
from cs_cli.specs.scorecard import Scorecard

HUMAN_TOUCHPOINTS = (
    TouchpointType.CALL,
    TouchpointType.MEETING,
    TouchpointType.QBR,
    TouchpointType.RENEWAL_DISCUSSION,
)


@dataclass(frozen=True)
class MeasureQuery:
    """The raw measures and multiplier signals of a set of customers, as
    column expressions over `source` (one row per customer)."""

    source: sa.FromClause
    condition: sa.ColumnElement[bool]
    customer_id: sa.ColumnElement
    churned: sa.ColumnElement
    raw: dict[str, sa.ColumnElement]
    days_to_renewal: sa.ColumnElement
    days_since_last_login: sa.ColumnElement
    open_escalations: sa.ColumnElement
    champion_left: sa.ColumnElement


def window(card: Scorecard, name: str, default: int = 30) -> int:
    for spec in card.components.values():
        if name in spec.measures and spec.measures[name].window_days:
            return spec.measures[name].window_days or default
    return default


def day_end(as_of: dt.date) -> dt.datetime:
    """Windows end at the end of the as-of day, UTC (exclusive)."""
    return dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def feature_count(session: Session, card: Scorecard, as_of: dt.date) -> int:
    """How many features there are, for feature breadth: the scorecard's list,
    or every event name seen across the book in the window."""
    if card.features:
        return len(card.features)
    end = day_end(as_of)
    start = end - dt.timedelta(days=window(card, "feature_breadth"))
    # DISTINCT in a subquery hashes in parallel; count(DISTINCT ...) sorts
    # every event of the window (about three times slower on Postgres).
    names = (
        sa.select(UsageEvent.event_name)
        .where(UsageEvent.occurred_at >= start, UsageEvent.occurred_at < end)
        .distinct()
        .subquery("names")
    )
    return session.scalar(sa.select(sa.func.count()).select_from(names)) or 0


def _ratio(numerator, denominator) -> sa.ColumnElement:
    return sa.cast(numerator, sa.Float) / sa.cast(denominator, sa.Float)


def measure_query(
    session: Session,
    card: Scorecard,
    customers: sa.ColumnElement[bool],
    *,
    as_of: dt.date,
    features: int,
) -> MeasureQuery:
    """The measures of the customers matching `customers` (a condition on
    the customers table), as of the end of `as_of`.

    Each aggregate reads its whole table in one pass (a sequential scan,
    grouped by customer); the condition applies once, to the customers.
    Filtering the aggregates by customer instead makes Postgres walk the
    customer index of 10 million events, several times slower."""
    end = day_end(as_of)

    def start(name: str) -> dt.datetime:
        return end - dt.timedelta(days=window(card, name))

    c = Customer

    ev = UsageEvent
    # Distinct features, days and users in a window: first group the
    # window's events by (customer, feature, user, day), then count those
    # groups. Both steps hash; count(DISTINCT) straight over the events sorts
    # them all, three times.
    earliest = min(start(n) for n in ("feature_breadth", "active_days", "active_users"))
    day = dialect.utc_day(session, ev.occurred_at)
    name = dialect.bytewise(session, ev.event_name)
    grains = (
        sa.select(
            ev.customer_id.label("customer_id"),
            name.label("event_name"),
            ev.contact_id.label("contact_id"),
            day.label("day"),
            sa.func.min(ev.occurred_at).label("first"),
        )
        .where(ev.occurred_at >= earliest, ev.occurred_at < end)
        .group_by(ev.customer_id, name, ev.contact_id, day)
        .subquery("grains")
    )
    g = grains.c
    # A group lies within one day and windows start at midnight, so its
    # first event tells whether the whole group is in a window.
    usage = (
        sa.select(
            g.customer_id.label("customer_id"),
            sa.func.count(sa.distinct(g.event_name))
            .filter(
                g.first >= start("feature_breadth"),
                *([g.event_name.in_(card.features)] if card.features else []),
            )
            .label("features"),
            sa.func.count(sa.distinct(g.day)).filter(g.first >= start("active_days")).label("days"),
            sa.func.count(sa.distinct(g.contact_id)).filter(g.first >= start("active_users")).label("users"),
        )
        .group_by(g.customer_id)
        .subquery("usage")
    )
    activity = (
        sa.select(ev.customer_id.label("customer_id"), sa.func.max(ev.occurred_at).label("last"))
        .where(ev.occurred_at < end)
        .group_by(ev.customer_id)
        .subquery("activity")
    )

    tp = Touchpoint
    engaged = (TouchpointType.EMAIL_OPENED, TouchpointType.EMAIL_CLICKED)
    touch = (
        sa.select(
            tp.customer_id.label("customer_id"),
            sa.func.count()
            .filter(tp.touchpoint_type.in_(HUMAN_TOUCHPOINTS), tp.occurred_at >= start("touchpoints"))
            .label("human"),
            sa.func.count()
            .filter(
                tp.touchpoint_type == TouchpointType.EMAIL_SENT, tp.occurred_at >= start("email_engagement")
            )
            .label("sent"),
            sa.func.count()
            .filter(tp.touchpoint_type.in_(engaged), tp.occurred_at >= start("email_engagement"))
            .label("engaged"),
            sa.func.count()
            .filter(tp.touchpoint_type == TouchpointType.WEBINAR, tp.occurred_at >= start("webinars"))
            .label("webinars"),
            sa.func.max(tp.occurred_at).label("last"),
        )
        .where(tp.occurred_at < end)
        .group_by(tp.customer_id)
        .subquery("touch")
    )

    k = Contact
    present = sa.or_(k.left_at.is_(None), k.left_at >= end)
    left_since = end - dt.timedelta(days=card.multipliers.champion_left_within_days)
    people = (
        sa.select(
            k.customer_id.label("customer_id"),
            sa.func.max(sa.case((sa.and_(k.is_champion, present), 1), else_=0)).label("champion"),
            sa.func.max(sa.case((sa.and_(k.is_exec_sponsor, present), 1), else_=0)).label("sponsor"),
            sa.func.max(
                sa.case((sa.and_(k.is_champion, k.left_at >= left_since, k.left_at < end), 1), else_=0)
            ).label("champion_left"),
        )
        .group_by(k.customer_id)
        .subquery("people")
    )

    n = NpsResponse
    nps = (
        sa.select(n.customer_id.label("customer_id"), sa.func.avg(n.score).label("average"))
        .where(n.responded_at >= start("nps"), n.responded_at < end)
        .group_by(n.customer_id)
        .subquery("nps")
    )

    i = Invoice
    late_from = (end - dt.timedelta(days=window(card, "late_invoices"))).date()
    growth_days = window(card, "arr_growth")
    recent_from = (end - dt.timedelta(days=growth_days)).date()
    previous_from = recent_from - dt.timedelta(days=growth_days)
    is_late = sa.or_(
        sa.and_(i.paid_on.is_not(None), i.paid_on > i.due_on),
        sa.and_(i.paid_on.is_(None), i.due_on <= as_of),
    )
    billing = (
        sa.select(
            i.customer_id.label("customer_id"),
            sa.func.count().filter(i.due_on >= late_from, i.due_on <= as_of).label("due"),
            sa.func.count().filter(i.due_on >= late_from, i.due_on <= as_of, is_late).label("late"),
            sa.func.sum(i.amount)
            .filter(i.issued_on >= recent_from, i.issued_on < end.date())
            .label("recent"),
            sa.func.sum(i.amount)
            .filter(i.issued_on >= previous_from, i.issued_on < recent_from)
            .label("previous"),
        )
        .where(i.issued_on < end.date())
        .group_by(i.customer_id)
        .subquery("billing")
    )

    t = SupportTicket
    still_open = sa.or_(t.closed_at.is_(None), t.closed_at >= end)
    support = (
        sa.select(
            t.customer_id.label("customer_id"),
            sa.func.count().filter(t.opened_at >= start("tickets_per_seat")).label("opened"),
            sa.func.count().filter(t.escalated, still_open).label("escalations"),
            sa.func.avg(t.satisfaction).filter(t.closed_at >= start("csat"), t.closed_at < end).label("csat"),
        )
        .where(t.opened_at < end)
        .group_by(t.customer_id)
        .subquery("support")
    )

    source = c.__table__
    for sub in (activity, usage, touch, people, nps, billing, support):
        source = source.outerjoin(sub, sub.c.customer_id == c.id)

    has_seats = c.seats > 0
    one = sa.literal(1.0)
    raw = {
        "feature_breadth": sa.case(
            (
                sa.and_(activity.c.customer_id.is_not(None), sa.literal(features) > 0),
                dialect.least(session, one, _ratio(sa.func.coalesce(usage.c.features, 0), features)),
            ),
        ),
        "active_days": sa.case(
            (
                activity.c.customer_id.is_not(None),
                _ratio(sa.func.coalesce(usage.c.days, 0), window(card, "active_days")),
            )
        ),
        "active_users": sa.case(
            (
                sa.and_(activity.c.customer_id.is_not(None), has_seats),
                dialect.least(session, one, _ratio(sa.func.coalesce(usage.c.users, 0), c.seats)),
            ),
        ),
        "touchpoints": touch.c.human,
        "email_engagement": sa.case(
            (touch.c.sent > 0, dialect.least(session, one, _ratio(touch.c.engaged, touch.c.sent)))
        ),
        "webinars": touch.c.webinars,
        "touchpoint_recency": dialect.whole_days_since(session, end, touch.c.last),
        "champion": people.c.champion,
        "exec_sponsor": people.c.sponsor,
        "nps": sa.cast(nps.c.average, sa.Float),
        "late_invoices": sa.case((billing.c.due > 0, billing.c.late)),
        "arr_growth": sa.case(
            (
                billing.c.previous > 0,
                _ratio(sa.func.coalesce(billing.c.recent, 0) - billing.c.previous, billing.c.previous),
            ),
        ),
        "contract_value": sa.cast(c.arr, sa.Float),
        "tickets_per_seat": sa.case(
            (sa.and_(support.c.customer_id.is_not(None), has_seats), _ratio(support.c.opened, c.seats))
        ),
        "open_escalations": support.c.escalations,
        "csat": sa.cast(support.c.csat, sa.Float),
    }
    used = {name for spec in card.components.values() for name in spec.measures}
    return MeasureQuery(
        source=source,
        condition=customers,
        customer_id=c.id,
        churned=c.status == "churned",
        raw={name: expr for name, expr in raw.items() if name in used},
        days_to_renewal=dialect.days_until(session, c.renewal_date, as_of),
        days_since_last_login=dialect.whole_days_since(session, end, activity.c.last),
        open_escalations=sa.func.coalesce(support.c.escalations, 0),
        champion_left=sa.func.coalesce(people.c.champion_left, 0),
    )
