"""For comparison only: health scoring done the straightforward way, one
customer at a time with ORM queries. `benchmarks/recalc.py` times it against
`cs recalc` (the set-based way) on the same book."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import Contact, Customer, NpsResponse, SupportTicket, UsageEvent
from cs_cli.services.health import scoring
from cs_cli.services.health.scoring import Signals
from cs_cli.specs.scorecard import Scorecard


def score_one(session: Session, card: Scorecard, customer: Customer, as_of: dt.date) -> scoring.Scored | None:
    """A few of the measures, per customer, each its own query (the way not to do it)."""
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    start = end - dt.timedelta(days=30)
    events = session.scalars(
        sa.select(UsageEvent).where(
            UsageEvent.customer_id == customer.id,
            UsageEvent.occurred_at >= start,
            UsageEvent.occurred_at < end,
        )
    ).all()
    contacts = session.scalars(sa.select(Contact).where(Contact.customer_id == customer.id)).all()
    nps = session.scalars(sa.select(NpsResponse).where(NpsResponse.customer_id == customer.id)).all()
    tickets = session.scalars(sa.select(SupportTicket).where(SupportTicket.customer_id == customer.id)).all()
    raw: dict[str, float | None] = {
        "feature_breadth": len({e.event_name for e in events}) / 12,
        "active_days": len({e.occurred_at.date() for e in events}) / 30,
        "active_users": min(1.0, len({e.contact_id for e in events}) / customer.seats)
        if customer.seats
        else None,
        "champion": float(any(c.is_champion and c.left_at is None for c in contacts)),
        "exec_sponsor": float(any(c.is_exec_sponsor and c.left_at is None for c in contacts)),
        "nps": sum(n.score for n in nps) / len(nps) if nps else None,
        "open_escalations": sum(1 for t in tickets if t.escalated and t.closed_at is None),
    }
    days = (customer.renewal_date - as_of).days if customer.renewal_date else None
    return scoring.score(card, raw, Signals(days_to_renewal=days), churned=customer.status == "churned")


def run(session: Session, card: Scorecard, as_of: dt.date, limit: int) -> int:
    customers = session.scalars(sa.select(Customer).order_by(Customer.id).limit(limit)).all()
    return sum(1 for c in customers if score_one(session, card, c, as_of) is not None)
