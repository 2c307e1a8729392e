"""The raw measures of every customer in a range of ids, in a fixed number of
set-based queries (one per source table), whatever the number of customers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.models import Contact, Customer, Invoice, NpsResponse, SupportTicket, Touchpoint, UsageEvent
from cs_cli.domain import CustomerStatus, TouchpointType
from cs_cli.services.health.scoring import Signals
from cs_cli.specs.scorecard import Scorecard

HUMAN_TOUCHPOINTS = (
    TouchpointType.CALL,
    TouchpointType.MEETING,
    TouchpointType.QBR,
    TouchpointType.RENEWAL_DISCUSSION,
)


@dataclass
class CustomerMeasures:
    customer_id: int
    churned: bool
    raw: dict[str, float | None] = field(default_factory=dict)
    signals: Signals = field(default_factory=Signals)
    days_since_last_login: int | None = None
    days_to_renewal: int | None = None


def _window(card: Scorecard, name: str, default: int = 30) -> int:
    for spec in card.components.values():
        if name in spec.measures and spec.measures[name].window_days:
            return spec.measures[name].window_days or default
    return default


def _used(card: Scorecard) -> set[str]:
    return {name for spec in card.components.values() for name in spec.measures}


def _days_between(later: dt.datetime, earlier: Any) -> int | None:
    if earlier is None:
        return None
    if isinstance(earlier, str):  # SQLite returns max() of a timestamp column as text
        earlier = dt.datetime.fromisoformat(earlier).replace(tzinfo=dt.UTC)
    return max(0, (later - earlier).days)


def feature_count(session: Session, card: Scorecard, end: dt.datetime) -> int:
    """How many features there are, for feature breadth: the scorecard's list,
    or every event name seen across the book in the window."""
    if card.features:
        return len(card.features)
    start = end - dt.timedelta(days=_window(card, "feature_breadth"))
    return (
        session.scalar(
            sa.select(sa.func.count(sa.distinct(UsageEvent.event_name))).where(
                UsageEvent.occurred_at >= start, UsageEvent.occurred_at < end
            )
        )
        or 0
    )


def collect(
    session: Session, card: Scorecard, lo: int, hi: int, *, as_of: dt.date, features: int
) -> dict[int, CustomerMeasures]:
    """Raw measures for active and churned customers with lo <= id <= hi."""
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    used = _used(card)

    def start(name: str) -> dt.datetime:
        return end - dt.timedelta(days=_window(card, name))

    out: dict[int, CustomerMeasures] = {}
    seats: dict[int, int | None] = {}
    for row in session.execute(
        sa.select(Customer.id, Customer.status, Customer.arr, Customer.seats, Customer.renewal_date).where(
            Customer.id.between(lo, hi)
        )
    ):
        m = CustomerMeasures(row.id, churned=row.status == CustomerStatus.CHURNED)
        m.days_to_renewal = (row.renewal_date - as_of).days if row.renewal_date else None
        if "contract_value" in used and row.arr is not None:
            m.raw["contract_value"] = float(row.arr)
        seats[row.id] = row.seats
        out[row.id] = m
    if not out:
        return out

    # Usage: adoption, and the last activity of any kind.
    ev = UsageEvent
    day = dialect.utc_day(session, ev.occurred_at)
    feature_filter = [ev.event_name.in_(card.features)] if card.features else []
    usage = session.execute(
        sa.select(
            ev.customer_id,
            sa.func.count(sa.distinct(ev.event_name)).filter(
                ev.occurred_at >= start("feature_breadth"), *feature_filter
            ),
            sa.func.count(sa.distinct(day)).filter(ev.occurred_at >= start("active_days")),
            sa.func.count(sa.distinct(ev.contact_id)).filter(ev.occurred_at >= start("active_users")),
            sa.func.max(ev.occurred_at),
        )
        .where(ev.customer_id.between(lo, hi), ev.occurred_at < end)
        .group_by(ev.customer_id)
    )
    for customer_id, breadth, days, users, last in usage:
        m = out.get(customer_id)
        if m is None:
            continue
        m.days_since_last_login = _days_between(end, last)
        if features:
            m.raw["feature_breadth"] = min(1.0, breadth / features)
        m.raw["active_days"] = days / _window(card, "active_days")
        if seats.get(customer_id):
            m.raw["active_users"] = min(1.0, users / seats[customer_id])

    # Touchpoints: engagement.
    tp = Touchpoint
    engaged = (TouchpointType.EMAIL_OPENED, TouchpointType.EMAIL_CLICKED)
    for customer_id, human, sent, opened, webinars, last in session.execute(
        sa.select(
            tp.customer_id,
            sa.func.count().filter(
                tp.touchpoint_type.in_(HUMAN_TOUCHPOINTS), tp.occurred_at >= start("touchpoints")
            ),
            sa.func.count().filter(
                tp.touchpoint_type == TouchpointType.EMAIL_SENT, tp.occurred_at >= start("email_engagement")
            ),
            sa.func.count().filter(
                tp.touchpoint_type.in_(engaged), tp.occurred_at >= start("email_engagement")
            ),
            sa.func.count().filter(
                tp.touchpoint_type == TouchpointType.WEBINAR, tp.occurred_at >= start("webinars")
            ),
            sa.func.max(tp.occurred_at),
        )
        .where(tp.customer_id.between(lo, hi), tp.occurred_at < end)
        .group_by(tp.customer_id)
    ):
        m = out.get(customer_id)
        if m is None:
            continue
        m.raw["touchpoints"] = human
        m.raw["email_engagement"] = min(1.0, opened / sent) if sent else None
        m.raw["webinars"] = webinars
        m.raw["touchpoint_recency"] = _days_between(end, last)

    # Contacts: relationship, and the champion-left multiplier.
    c = Contact
    present = sa.or_(c.left_at.is_(None), c.left_at >= end)
    left_since = end - dt.timedelta(days=card.multipliers.champion_left_within_days)
    for customer_id, champion, sponsor, champion_left in session.execute(
        sa.select(
            c.customer_id,
            sa.func.max(sa.case((sa.and_(c.is_champion, present), 1), else_=0)),
            sa.func.max(sa.case((sa.and_(c.is_exec_sponsor, present), 1), else_=0)),
            sa.func.max(
                sa.case((sa.and_(c.is_champion, c.left_at >= left_since, c.left_at < end), 1), else_=0)
            ),
        )
        .where(c.customer_id.between(lo, hi))
        .group_by(c.customer_id)
    ):
        m = out.get(customer_id)
        if m is None:
            continue
        m.raw["champion"] = float(champion)
        m.raw["exec_sponsor"] = float(sponsor)
        m.signals = Signals(champion_left_recently=bool(champion_left))

    # NPS.
    n = NpsResponse
    for customer_id, average in session.execute(
        sa.select(n.customer_id, sa.func.avg(n.score))
        .where(n.customer_id.between(lo, hi), n.responded_at >= start("nps"), n.responded_at < end)
        .group_by(n.customer_id)
    ):
        if customer_id in out and average is not None:
            out[customer_id].raw["nps"] = float(average)

    # Invoices: financial. Dates, not times.
    i = Invoice
    late_from = (end - dt.timedelta(days=_window(card, "late_invoices"))).date()
    growth_days = _window(card, "arr_growth")
    recent_from = (end - dt.timedelta(days=growth_days)).date()
    previous_from = recent_from - dt.timedelta(days=growth_days)
    end_day = end.date()
    late = sa.or_(
        sa.and_(i.paid_on.is_not(None), i.paid_on > i.due_on),
        sa.and_(i.paid_on.is_(None), i.due_on <= as_of),
    )
    for customer_id, due, late_count, recent, previous in session.execute(
        sa.select(
            i.customer_id,
            sa.func.count().filter(i.due_on >= late_from, i.due_on <= as_of),
            sa.func.count().filter(i.due_on >= late_from, i.due_on <= as_of, late),
            sa.func.sum(i.amount).filter(i.issued_on >= recent_from, i.issued_on < end_day),
            sa.func.sum(i.amount).filter(i.issued_on >= previous_from, i.issued_on < recent_from),
        )
        .where(i.customer_id.between(lo, hi), i.issued_on < end_day)
        .group_by(i.customer_id)
    ):
        m = out.get(customer_id)
        if m is None:
            continue
        if due:
            m.raw["late_invoices"] = late_count
        if previous:
            m.raw["arr_growth"] = float((recent or 0) - previous) / float(previous)

    # Tickets: support, and the open-escalation multiplier.
    t = SupportTicket
    still_open = sa.or_(t.closed_at.is_(None), t.closed_at >= end)
    for customer_id, opened, escalations, csat in session.execute(
        sa.select(
            t.customer_id,
            sa.func.count().filter(t.opened_at >= start("tickets_per_seat")),
            sa.func.count().filter(t.escalated, still_open),
            sa.func.avg(t.satisfaction).filter(t.closed_at >= start("csat"), t.closed_at < end),
        )
        .where(t.customer_id.between(lo, hi), t.opened_at < end)
        .group_by(t.customer_id)
    ):
        m = out.get(customer_id)
        if m is None:
            continue
        if seats.get(customer_id):
            m.raw["tickets_per_seat"] = opened / seats[customer_id]
        m.raw["open_escalations"] = escalations
        if csat is not None:
            m.raw["csat"] = float(csat)
        m.signals = Signals(
            champion_left_recently=m.signals.champion_left_recently, open_escalations=escalations
        )
    for m in out.values():
        # A customer without any ticket is not known to have perfect support:
        # its support component is missing (the desk's export may lack it).
        m.signals = Signals(
            days_to_renewal=m.days_to_renewal,
            open_escalations=m.signals.open_escalations,
            champion_left_recently=m.signals.champion_left_recently,
        )
        # Only the measures this scorecard uses.
        m.raw = {k: v for k, v in m.raw.items() if k in used}
    return out
