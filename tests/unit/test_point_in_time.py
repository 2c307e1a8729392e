"""The point-in-time invariant, as a property on both dialects: scoring as of
a day D on the full database gives exactly the scores of scoring as of D on
a copy from which everything recorded after D was deleted.

Each example generates a messy book around D: customers whose facts change
over time (ARR, seats, status, attributes), that churn before or after D
with and without a churn date, that start after D or a few days before it
(onboarding), with usage before their start, error events, touchpoints,
tickets opened, closed and escalated on either side of D, invoices paid
late or after D, NPS responses and contacts who leave. The copy is made in
the same transaction (deletes and updates of what came after D) and rolled
back.

Before their first recorded facts, a customer whose contract started by D
takes those first facts (docs/health.md, "Point in time"): the copy keeps
that version, with what it says of a churn after D undone.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cs_cli.db.engine import transaction
from cs_cli.db.models import (
    Contact,
    Customer,
    CustomerHistory,
    HealthScoreHistory,
    Invoice,
    NpsResponse,
    SupportTicket,
    Touchpoint,
    UsageEvent,
)
from cs_cli.domain import Actor, CustomerStatus, Role, TouchpointType
from cs_cli.services.facts import FACTS, day_end
from cs_cli.services.health.recalc import score_day
from cs_cli.services.health.scoring import kept
from cs_cli.specs.scorecard import load_scorecard

ADMIN = Actor(name="admin", role=Role.ADMIN, user_id=None)
D = dt.date(2026, 6, 30)
END = day_end(D)
SIGNALS = load_scorecard(Path(__file__).parent.parent / "fixtures" / "signals_scorecard.yaml").card
DEFAULT = load_scorecard().card
NAMES = ["login", "report_run", "report_exported", "share", "error", "export_failed", "dislike", "admin"]
PLANS = ["Starter", "Growth", "Enterprise"]
CONTRACTS = ["Month-to-month", "One year", "Two year"]


def _moment(rng: random.Random, lo: int, hi: int) -> dt.datetime:
    """A random moment between lo and hi days from the end of D."""
    return END + dt.timedelta(seconds=rng.randint(lo * 86400, hi * 86400 - 1))


def build(session, seed: int, customers: int) -> None:
    """A book around D, all of it: what happened before D and after."""
    rng = random.Random(seed)
    for k in range(customers):
        start = rng.choice([None, D - dt.timedelta(days=rng.randint(-20, 400)), D - dt.timedelta(days=3)])
        c = Customer(external_id=f"C{k}", name=f"C{k}", contract_start=start)
        session.add(c)
        session.flush()
        # Versions of the facts: the first a while before D or after it.
        moment = _moment(rng, -200, 25)
        for v in range(rng.randint(1, 3)):
            churn = v > 0 and rng.random() < 0.4
            churned_at = rng.choice([None, _moment(rng, -30, 30)]) if churn else None
            values = {
                "arr": Decimal(rng.choice([0, 12000, 48000, 150000, 400000])),
                "plan": rng.choice(PLANS),
                "seats": rng.choice([None, 0, 5, 40]),
                "contract_start": start,
                "renewal_date": D + dt.timedelta(days=rng.randint(-10, 200)),
                "status": CustomerStatus.CHURNED if churn else CustomerStatus.ACTIVE,
                "churned_at": churned_at,
                "attributes": rng.choice(
                    [{}, {"Contract": rng.choice(CONTRACTS), "MonthlyCharges": rng.choice([20.5, 70, 105.2])}]
                ),
            }
            session.add(CustomerHistory(customer_id=c.id, effective_at=moment, recorded_at=moment, **values))
            for name, value in values.items():
                setattr(c, name, value)
            moment += dt.timedelta(days=rng.randint(1, 60))
        contacts = []
        for j in range(rng.randint(0, 3)):
            contact = Contact(
                customer_id=c.id,
                name=f"P{k}-{j}",
                is_champion=rng.random() < 0.5,
                is_exec_sponsor=rng.random() < 0.3,
                left_at=rng.choice([None, None, _moment(rng, -100, 30)]),
            )
            session.add(contact)
            contacts.append(contact)
        session.flush()
        heavy = rng.random() < 0.2
        events = [
            {
                "customer_id": c.id,
                "contact_id": rng.choice([None, *[p.id for p in contacts]]),
                "event_name": rng.choice(NAMES),
                "occurred_at": _moment(rng, -120, 30),
                "quantity": 1,
            }
            for _ in range(rng.randint(0, 200 if heavy else 25))
        ]
        if events:
            session.execute(sa.insert(UsageEvent), events)
        for _ in range(rng.randint(0, 6)):
            session.add(
                Touchpoint(
                    customer_id=c.id,
                    touchpoint_type=rng.choice(list(TouchpointType)),
                    occurred_at=_moment(rng, -150, 30),
                )
            )
        for j in range(rng.randint(0, 3)):
            session.add(
                NpsResponse(
                    external_id=f"N{k}-{j}",
                    customer_id=c.id,
                    score=rng.randint(0, 10),
                    responded_at=_moment(rng, -200, 30),
                )
            )
        for j in range(rng.randint(0, 4)):
            opened = _moment(rng, -150, 20)
            closed = rng.choice([None, opened + dt.timedelta(days=rng.randint(0, 40))])
            escalated = rng.random() < 0.4
            session.add(
                SupportTicket(
                    external_id=f"T{k}-{j}",
                    customer_id=c.id,
                    opened_at=opened,
                    closed_at=closed,
                    escalated=escalated,
                    escalated_at=rng.choice([None, opened + dt.timedelta(days=rng.randint(0, 20))])
                    if escalated
                    else None,
                    satisfaction=rng.randint(1, 5) if closed else None,
                )
            )
        for j in range(rng.randint(0, 4)):
            issued = D - dt.timedelta(days=rng.randint(-20, 700))
            due = issued + dt.timedelta(days=30)
            session.add(
                Invoice(
                    external_id=f"I{k}-{j}",
                    customer_id=c.id,
                    amount=Decimal(rng.choice([1000, 4000, 12000])),
                    issued_on=issued,
                    due_on=due,
                    paid_on=rng.choice([None, due - dt.timedelta(days=3), due + dt.timedelta(days=20)]),
                )
            )
    session.flush()


def forget_after(session) -> None:
    """Make the database what it was at the end of D: delete or undo
    everything recorded after it."""
    h = CustomerHistory.__table__
    versions = session.execute(sa.select(h).order_by(h.c.customer_id, h.c.effective_at, h.c.id)).all()
    by_customer: dict[int, list] = {}
    for v in versions:
        by_customer.setdefault(v.customer_id, []).append(v)
    for customer in session.scalars(sa.select(Customer)).all():
        known = by_customer.get(customer.id, [])
        before = [v for v in known if v.effective_at < END]
        started = customer.contract_start is not None and customer.contract_start <= D
        if not before and not started:
            session.delete(customer)  # cs first heard of it after D
            continue
        keep = before or known[:1]
        session.execute(
            sa.delete(h).where(h.c.customer_id == customer.id, h.c.id.not_in([v.id for v in keep]))
        )
        # What the kept version says of a churn after D was not known then.
        for v in keep:
            if v.churned_at is not None and v.churned_at >= END:
                session.execute(
                    sa.update(h).where(h.c.id == v.id).values(churned_at=None, status=CustomerStatus.ACTIVE)
                )
        latest = session.execute(sa.select(h).where(h.c.id == keep[-1].id)).one()
        for name in FACTS:
            setattr(customer, name, latest._mapping[name])
    session.flush()
    session.execute(sa.delete(UsageEvent).where(UsageEvent.occurred_at >= END))
    session.execute(sa.delete(Touchpoint).where(Touchpoint.occurred_at >= END))
    session.execute(sa.delete(NpsResponse).where(NpsResponse.responded_at >= END))
    t = SupportTicket
    session.execute(sa.delete(t).where(t.opened_at >= END))
    session.execute(sa.update(t).where(t.closed_at >= END).values(closed_at=None, satisfaction=None))
    session.execute(sa.update(t).where(t.escalated_at >= END).values(escalated=False, escalated_at=None))
    session.execute(sa.delete(Invoice).where(Invoice.issued_on > D))
    session.execute(sa.update(Invoice).where(Invoice.paid_on > D).values(paid_on=None))
    session.execute(sa.update(Contact).where(Contact.left_at >= END).values(left_at=None))
    session.execute(sa.delete(HealthScoreHistory).where(HealthScoreHistory.as_of > D))
    session.flush()


def scores(session, card) -> dict[int, tuple]:
    out = {}
    for row in score_day(session, ADMIN, card, as_of=D):
        m = kept(card, row.raw_values, row.signal_values, row.measures)
        raw = {k: round(v, 9) if isinstance(v, float) else v for k, v in m["raw"].items()}
        signals = {k: round(v, 9) if isinstance(v, float) else v for k, v in m["signals"].items()}
        out[row.customer_id] = (
            row.overall_score,
            row.health_status,
            row.component_adoption,
            row.component_engagement,
            row.component_relationship,
            row.component_financial,
            row.component_support,
            row.days_to_renewal,
            row.days_since_last_login,
            raw,
            signals,
        )
    return out


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**6))
def test_scores_as_of_a_day_ignore_everything_recorded_after_it(engine, seed):
    with transaction(engine) as session:
        try:
            build(session, seed, customers=24)
            full = {
                name: scores(session, card) for name, card in (("signals", SIGNALS), ("default", DEFAULT))
            }
            forget_after(session)
            copy = {
                name: scores(session, card) for name, card in (("signals", SIGNALS), ("default", DEFAULT))
            }
        finally:
            session.rollback()
    for name in full:
        assert full[name].keys() == copy[name].keys(), name
        for customer_id, row in full[name].items():
            assert row == copy[name][customer_id], (name, customer_id)
    # The book is messy enough to mean something: some scored, some not yet customers.
    assert full["signals"]
