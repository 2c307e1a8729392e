"""The raw measures of a range of customers as one SQL query: one aggregate
subquery per source table (usage, touchpoints, contacts, NPS, invoices,
tickets), left-joined to the customers' facts as of the day. Nothing here
runs per customer.

Every measure is NULL when the customer has no data for it; docs/health.md
gives each definition. Point in time: everything reads what was recorded by
the end of the as-of day (customer facts through services/facts.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.models import Contact, Customer, Invoice, NpsResponse, SupportTicket, Touchpoint
from cs_cli.domain import TouchpointType
from cs_cli.services.facts import day_end
from cs_cli.services.health.usage import UsageRange, event_filter, usage_day
from cs_cli.specs.scorecard import USAGE_MEASURES, EventCount, Measure, MeasureKind, Scorecard

__all__ = ["HUMAN_TOUCHPOINTS", "MeasureQuery", "day_end", "feature_count", "measure_query"]

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
    tenure_days: sa.ColumnElement


def window(card: Scorecard, name: str, default: int = 30) -> int:
    for spec in card.components.values():
        if name in spec.measures and spec.measures[name].window_days:
            return spec.measures[name].window_days or default
    return default


def _usage_measures(card: Scorecard) -> dict[str, Measure]:
    """The measures that read usage events: the built-in ones and event counts."""
    return {
        name: measure
        for spec in card.components.values()
        for name, measure in spec.measures.items()
        if name in USAGE_MEASURES or measure.kind == MeasureKind.EVENT_COUNT
    }


def feature_count(
    session: Session, card: Scorecard, as_of: dt.date, facts: sa.FromClause, usage: UsageRange
) -> int:
    """How many features there are, for feature breadth: the scorecard's list,
    or every event name (that feature breadth counts) used in the window by
    a customer of that day, since it became one."""
    if card.features:
        return len(card.features)
    g = usage.grains.c
    first = as_of - dt.timedelta(days=window(card, "feature_breadth") - 1)
    measure = card.measure("feature_breadth") if "feature_breadth" in _usage_measures(card) else None
    # DISTINCT in a subquery hashes in parallel; count(DISTINCT ...) sorts.
    names = (
        sa.select(g.event_name)
        .join(facts, facts.c.customer_id == g.customer_id)
        .where(
            g.day >= usage_day(session, first),
            g.day <= usage_day(session, as_of),
            facts.c.is_customer,
            sa.or_(facts.c.started_on.is_(None), g.day >= facts.c.started_on),
            event_filter(session, card, g.event_name, measure),
        )
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
    facts: sa.FromClause,
    usage: UsageRange,
) -> MeasureQuery:
    """The measures of the customers matching `customers` (a condition on
    the customers table) that are customers on `as_of`, as of its end;
    `facts` is services.facts.facts_as_of for that day, `usage` the run's
    usage events, carried forward to that day.

    Each aggregate reads its whole table in one pass (a sequential scan,
    grouped by customer); the condition applies once, to the customers.
    Filtering the aggregates by customer instead makes Postgres walk the
    customer index of 10 million events, several times slower."""
    end = day_end(as_of)

    def start(name: str) -> dt.datetime:
        return end - dt.timedelta(days=window(card, name))

    f = facts.c
    usage_measures = _usage_measures(card)
    g = usage.grains.c
    # Usage counts from the day the customer became one: a window longer
    # than its tenure is cut to it.
    since_start = sa.or_(f.started_on.is_(None), g.day >= f.started_on)

    def counted(measure_name: str) -> list[sa.ColumnElement[bool]]:
        measure = usage_measures[measure_name]
        first = as_of - dt.timedelta(days=window(card, measure_name) - 1)
        where = [g.day >= usage_day(session, first), event_filter(session, card, g.event_name, measure)]
        if measure_name == "feature_breadth" and card.features:
            where.append(g.event_name.in_(card.features))
        return where

    counts = None
    if usage_measures:
        columns = []
        for measure_name, measure in usage_measures.items():
            if measure_name == "feature_breadth":
                value = sa.func.count(sa.distinct(g.event_name))
            elif measure_name == "active_days" or measure.count == EventCount.DAYS:
                value = sa.func.count(sa.distinct(g.day))
            elif measure_name == "active_users" or measure.count == EventCount.USERS:
                value = sa.func.count(sa.distinct(g.contact_id))
            else:
                value = sa.func.sum(g.events)
            columns.append(value.filter(*counted(measure_name)).label(f"u_{measure_name}"))
        earliest = as_of - dt.timedelta(days=max(window(card, n) for n in usage_measures) - 1)
        counts = (
            sa.select(g.customer_id.label("customer_id"), *columns)
            .select_from(usage.grains.join(facts, f.customer_id == g.customer_id))
            .where(g.day >= usage_day(session, earliest), g.day <= usage_day(session, as_of), since_start)
            .group_by(g.customer_id)
            .subquery("usage")
        )
    # A customer with usage events (of any name) by the end of the day has
    # usage data; its last use of the product is its last event that counts
    # as use (carried forward to the day, see usage.py).
    firsts, last_use = usage.firsts, usage.last_use
    active = sa.and_(firsts.c.first_at.is_not(None), firsts.c.first_at < end)
    last = last_use.c[usage.column(card)]

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
    # Escalated by then: a ticket escalated later was not, on the day.
    escalated = sa.and_(t.escalated, sa.or_(t.escalated_at.is_(None), t.escalated_at < end))
    support = (
        sa.select(
            t.customer_id.label("customer_id"),
            sa.func.count().filter(t.opened_at >= start("tickets_per_seat")).label("opened"),
            sa.func.count().filter(escalated, still_open).label("escalations"),
            sa.func.avg(t.satisfaction).filter(t.closed_at >= start("csat"), t.closed_at < end).label("csat"),
        )
        .where(t.opened_at < end)
        .group_by(t.customer_id)
        .subquery("support")
    )

    c = Customer.__table__
    source = c.join(facts, f.customer_id == c.c.id)
    source = source.outerjoin(firsts, firsts.c.customer_id == c.c.id)
    source = source.outerjoin(last_use, last_use.c.customer_id == c.c.id)
    for sub in (counts, touch, people, nps, billing, support):
        if sub is not None:
            source = source.outerjoin(sub, sub.c.customer_id == c.c.id)

    has_seats = f.seats > 0
    one = sa.literal(1.0)
    tenure = f.tenure_days

    def used(measure_name: str) -> sa.ColumnElement:
        # Only the usage measures the scorecard has are counted.
        if counts is None or f"u_{measure_name}" not in counts.c:
            return sa.literal(0)
        return sa.func.coalesce(counts.c[f"u_{measure_name}"], 0)

    builtin = {
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
        "contract_value": sa.cast(f.arr, sa.Float),
        "tickets_per_seat": sa.case(
            (sa.and_(support.c.customer_id.is_not(None), has_seats), _ratio(support.c.opened, f.seats))
        ),
        "open_escalations": support.c.escalations,
        "csat": sa.cast(support.c.csat, sa.Float),
    }
    if counts is not None:
        builtin |= {
            "feature_breadth": sa.case(
                (
                    sa.and_(active, sa.literal(features) > 0),
                    dialect.least(session, one, _ratio(used("feature_breadth"), features)),
                ),
            ),
            # Days a customer in the window: the window, or the tenure when shorter.
            "active_days": sa.case(
                (
                    active,
                    dialect.least(
                        session,
                        one,
                        _ratio(
                            used("active_days"),
                            sa.case(
                                (tenure < window(card, "active_days"), tenure),
                                else_=window(card, "active_days"),
                            ),
                        ),
                    ),
                )
            ),
            "active_users": sa.case(
                (
                    sa.and_(active, has_seats),
                    dialect.least(session, one, _ratio(used("active_users"), f.seats)),
                ),
            ),
        }
    for measure_name, measure in _usage_measures(card).items():
        if measure.kind == MeasureKind.EVENT_COUNT:
            count = used(measure_name)
            builtin[measure_name] = (
                sa.case((sa.and_(active, has_seats), _ratio(count, f.seats)))
                if measure.per_seat
                else sa.case((active, sa.cast(count, sa.Float)))
            )
    raw: dict[str, sa.ColumnElement] = {}
    for spec in card.components.values():
        for measure_name, measure in spec.measures.items():
            if measure.kind == MeasureKind.TENURE:
                raw[measure_name] = sa.cast(tenure, sa.Float)
            elif measure.kind == MeasureKind.ATTRIBUTE:
                assert measure.attribute is not None
                read = dialect.json_text if measure.is_categorical else dialect.json_number
                raw[measure_name] = read(session, f.attributes, measure.attribute)
            else:
                raw[measure_name] = builtin[measure_name]
    return MeasureQuery(
        source=source,
        condition=sa.and_(customers, f.is_customer),
        customer_id=c.c.id,
        churned=f.churned,
        raw=raw,
        days_to_renewal=dialect.days_until(session, f.renewal_date, as_of),
        days_since_last_login=dialect.whole_days_since(session, end, last),
        open_escalations=sa.func.coalesce(support.c.escalations, 0),
        champion_left=sa.func.coalesce(people.c.champion_left, 0),
        tenure_days=tenure,
    )
