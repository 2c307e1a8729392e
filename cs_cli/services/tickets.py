"""Support tickets as the board reads them: a customer's newest (open ones
first) for its 360, and one ticket whole. Tickets arrive by import
(`cs import`); cs only reads them and what it found in their text."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import Contact, Customer, SupportTicket
from cs_cli.domain import Actor, TicketDetail, TicketRow, TicketStatus
from cs_cli.errors import NotFound
from cs_cli.services.access import customer_scope
from cs_cli.services.audit import record_read

OPEN_STATUSES = (TicketStatus.OPEN, TicketStatus.PENDING)


def _row_columns() -> tuple:
    t = SupportTicket
    return (
        t.id,
        t.external_id,
        t.subject,
        t.status,
        t.priority,
        t.opened_at,
        t.closed_at,
        t.escalated,
        t.sentiment_label,
    )


def recent_tickets(session: Session, customer_id: int, *, limit: int = 20) -> list[TicketRow]:
    """A customer's newest tickets, open ones first. The caller has checked
    that the actor may see the customer."""
    t = SupportTicket
    rows = session.execute(
        sa.select(*_row_columns())
        .where(t.customer_id == customer_id)
        .order_by(t.status.in_(OPEN_STATUSES).desc(), t.opened_at.desc(), t.id.desc())
        .limit(limit)
    )
    return [TicketRow(**r._mapping) for r in rows]


def ticket_detail(session: Session, actor: Actor, ticket_id: int) -> TicketDetail:
    """Everything about one ticket of a customer the actor may see."""
    t = SupportTicket
    found = session.execute(
        sa.select(
            *_row_columns(),
            Customer.id.label("customer_id"),
            Customer.external_id.label("customer"),
            Customer.name.label("customer_name"),
            t.description,
            t.sentiment_score,
            t.key_topics,
            t.satisfaction,
            t.escalated_at,
            sa.func.coalesce(Contact.name, Contact.email).label("contact"),
        )
        .join(Customer, Customer.id == t.customer_id)
        .outerjoin(Contact, Contact.id == t.contact_id)
        .where(t.id == ticket_id, customer_scope(actor))
    ).first()
    if found is None:
        raise NotFound(f"ticket {ticket_id} not found")
    fields = dict(found._mapping)
    customer_id = fields.pop("customer_id")
    record_read(session, actor, "ticket", customer_id=customer_id, entity_type="ticket", entity_id=ticket_id)
    row = TicketRow(**{k: fields.pop(k) for k in list(fields) if k in TicketRow.__dataclass_fields__})
    return TicketDetail(row=row, **fields)
