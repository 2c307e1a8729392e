"""What a batch of enrollments' templates and recipients read: each
customer with its health (an override in force wins), CSM and contacts,
loaded for the whole batch in three queries.

`people` picks whom a step's `to:` names: the enrollment's contact, else the
customer's champion, else its executive sponsor (`contact`); the current
champion or sponsor; or the CSM. Contacts who left do not count.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from cs_cli.db.models import Contact, Customer, HealthScore, User
from cs_cli.services.health.overrides import active
from cs_cli.specs.journey import Recipient


@dataclass(frozen=True)
class Person:
    name: str | None
    email: str | None
    title: str | None = None
    contact_id: int | None = None
    timezone: str | None = None

    def fields(self) -> dict[str, Any]:
        first = (self.name or "").split(" ")[0] or None
        return {"name": self.name, "first_name": first, "email": self.email, "title": self.title}


@dataclass
class CustomerFacts:
    id: int
    customer: dict[str, Any]
    health: dict[str, Any]
    status: str
    csm: Person | None
    csm_id: int | None
    contacts: dict[int, Person] = field(default_factory=dict)
    champion: Person | None = None
    sponsor: Person | None = None

    def person(self, to: Recipient, contact_id: int | None) -> Person | None:
        if to == Recipient.CSM:
            return self.csm
        if to == Recipient.CHAMPION:
            return self.champion
        if to == Recipient.SPONSOR:
            return self.sponsor
        chosen = self.contacts.get(contact_id) if contact_id is not None else None
        return chosen or self.champion or self.sponsor


def load(session: Session, customer_ids: set[int], *, today: dt.date) -> dict[int, CustomerFacts]:
    """The template facts of each customer (by id)."""
    if not customer_ids:
        return {}
    ids = sorted(customer_ids)
    csm = aliased(User)
    override = active(today)
    rows = session.execute(
        sa.select(
            Customer.id,
            Customer.external_id,
            Customer.name,
            Customer.arr,
            Customer.plan,
            Customer.seats,
            Customer.industry,
            Customer.region,
            Customer.renewal_date,
            Customer.contract_start,
            Customer.attributes,
            Customer.status,
            Customer.csm_id,
            sa.func.coalesce(override.c.overall_score, HealthScore.overall_score).label("overall_score"),
            sa.func.coalesce(override.c.health_status, HealthScore.health_status).label("health_status"),
            HealthScore.score_trend,
            HealthScore.score_change_30d,
            csm.name.label("csm_name"),
            csm.email.label("csm_email"),
            csm.timezone.label("csm_timezone"),
        )
        .outerjoin(HealthScore, HealthScore.customer_id == Customer.id)
        .outerjoin(override, override.c.customer_id == Customer.id)
        .outerjoin(csm, csm.id == Customer.csm_id)
        .where(Customer.id.in_(ids))
    ).all()
    out: dict[int, CustomerFacts] = {}
    for r in rows:
        out[r.id] = CustomerFacts(
            id=r.id,
            customer={
                "external_id": r.external_id,
                "name": r.name,
                "arr": r.arr,
                "plan": r.plan,
                "seats": r.seats,
                "industry": r.industry,
                "region": r.region,
                "renewal_date": r.renewal_date,
                "contract_start": r.contract_start,
                "days_to_renewal": (r.renewal_date - today).days if r.renewal_date else None,
                "attributes": r.attributes or {},
            },
            health={
                "overall_score": r.overall_score,
                "health_status": r.health_status,
                "score_trend": r.score_trend,
                "score_change_30d": r.score_change_30d,
            },
            status=str(r.status),
            csm=Person(r.csm_name, r.csm_email, timezone=r.csm_timezone) if r.csm_name else None,
            csm_id=r.csm_id,
        )
    contacts = session.execute(
        sa.select(
            Contact.id,
            Contact.customer_id,
            Contact.name,
            Contact.email,
            Contact.title,
            Contact.is_champion,
            Contact.is_exec_sponsor,
            Contact.timezone,
        )
        .where(Contact.customer_id.in_(ids), Contact.left_at.is_(None))
        .order_by(Contact.id)
    ).all()
    for c in contacts:
        facts = out.get(c.customer_id)
        if facts is None:
            continue
        person = Person(c.name, c.email, c.title, c.id, c.timezone)
        facts.contacts[c.id] = person
        if c.is_champion and facts.champion is None:
            facts.champion = person
        if c.is_exec_sponsor and facts.sponsor is None:
            facts.sponsor = person
    return out


def template_context(
    facts: CustomerFacts,
    person: Person | None,
    *,
    journey: dict[str, Any],
    step: dict[str, Any],
    enrollment: dict[str, Any],
    today: dt.date,
) -> dict[str, Any]:
    """The names a journey's texts read (templates.emails.FIELDS)."""
    return {
        "customer": facts.customer,
        "health": facts.health,
        "csm": facts.csm.fields() if facts.csm else {"name": None, "first_name": None, "email": None},
        "contact": person.fields()
        if person
        else {"name": None, "first_name": None, "email": None, "title": None},
        "journey": journey,
        "step": step,
        "enrollment": enrollment,
        "today": today,
    }
