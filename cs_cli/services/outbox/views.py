"""The outbox as people see it: listings, one message, and retry by hand."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import Contact, Customer, OutboxMessage
from cs_cli.domain import Actor, OutboxChannel, OutboxDetail, OutboxRow, OutboxStatus, Page, Role
from cs_cli.domain.outbound import mask_urls
from cs_cli.errors import BadInput, NotFound
from cs_cli.services.access import customer_scope
from cs_cli.services.audit import audit

_t = OutboxMessage.__table__


def _scoped(actor: Actor, stmt: sa.Select) -> sa.Select:
    """Messages of the customers the actor may see; messages tied to no
    customer only for admins."""
    stmt = stmt.select_from(_t.outerjoin(Customer, Customer.id == _t.c.customer_id))
    if actor.role == Role.ADMIN:
        return stmt
    return stmt.where(customer_scope(actor))


_ROW_COLUMNS = (
    _t.c.id,
    _t.c.channel,
    _t.c.status,
    _t.c.recipient,
    _t.c.subject,
    Customer.external_id.label("customer"),
    _t.c.attempts,
    _t.c.next_attempt_at,
    _t.c.sent_at,
    _t.c.last_error,
    _t.c.held_reason,
    _t.c.idempotency_key,
    _t.c.created_at,
)


# Shown masked to everyone, admins too: a URL's user, password and query
# (a token) are secrets, and a listing ends up in terminals and tickets.
_MASKED = ("recipient", "last_error", "held_reason")


def _fields(r: Any) -> dict[str, Any]:
    fields = {c: getattr(r, c) for c in OutboxRow.__dataclass_fields__}
    for name in _MASKED:
        fields[name] = mask_urls(fields[name])
    return fields


def _row(r: Any) -> OutboxRow:
    return OutboxRow(**_fields(r))


def _masked_payload(value: Any) -> Any:
    """The payload with every URL in a `url` field masked (the webhook's
    destination, an in-app message's link)."""
    if isinstance(value, dict):
        return {
            k: mask_urls(v) if k == "url" and isinstance(v, str) else _masked_payload(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_masked_payload(v) for v in value]
    return value


def list_messages(
    session: Session,
    actor: Actor,
    *,
    status: OutboxStatus | None = None,
    channel: OutboxChannel | None = None,
    customer: str | None = None,
    offset: int = 0,
    limit: int | None = 50,
) -> Page:
    """Outbox messages the actor may see, newest first, filtered."""
    conditions = []
    if status is not None:
        conditions.append(_t.c.status == status)
    if channel is not None:
        conditions.append(_t.c.channel == channel)
    if customer is not None:
        conditions.append(_t.c.customer_id == _customer_id(session, actor, customer))
    total = session.scalar(_scoped(actor, sa.select(sa.func.count())).where(*conditions)) or 0
    stmt = _scoped(actor, sa.select(*_ROW_COLUMNS)).where(*conditions).order_by(_t.c.id.desc())
    stmt = stmt.offset(offset).limit(limit)
    rows = [_row(r) for r in session.execute(stmt)]
    return Page(rows=rows, total=total, offset=offset, limit=limit)


def message_detail(session: Session, actor: Actor, message_id: int) -> OutboxDetail:
    """One message with its payload, its customer and contact."""
    stmt = _scoped(
        actor,
        sa.select(
            *_ROW_COLUMNS,
            Customer.name.label("customer_name"),
            _t.c.payload,
            Contact.name.label("contact"),
        ),
    )
    stmt = stmt.outerjoin(Contact, Contact.id == _t.c.contact_id).where(_t.c.id == message_id)
    r = session.execute(stmt).one_or_none()
    if r is None:
        raise NotFound(f"no outbox message {message_id}", hint="see `cs outbox list`")
    return OutboxDetail(
        **_fields(r),
        customer_name=r.customer_name,
        contact=r.contact,
        payload=_masked_payload(r.payload or {}),
    )


def retry_message(session: Session, actor: Actor, message_id: int, *, now: dt.datetime) -> OutboxRow:
    """Make a failed, dead, held or waiting message due now, with a fresh set
    of attempts (the last error stays until the next attempt)."""
    detail = message_detail(session, actor, message_id)
    if detail.status == OutboxStatus.SENT:
        raise BadInput(
            f"outbox message {message_id} was sent at {detail.sent_at:%Y-%m-%d %H:%M} UTC; "
            "a retry would send it twice"
        )
    session.execute(
        sa.update(_t)
        .where(_t.c.id == message_id)
        .values(status=OutboxStatus.PENDING, next_attempt_at=now, attempts=0, held_reason=None)
    )
    customer_id = session.scalar(sa.select(_t.c.customer_id).where(_t.c.id == message_id))
    audit(
        session,
        actor,
        "outbox.retried",
        "outbox_message",
        message_id,
        at=now,
        customer_id=customer_id,
        details={"status": detail.status.value, "attempts": detail.attempts},
    )
    return _row(session.execute(_scoped(actor, sa.select(*_ROW_COLUMNS)).where(_t.c.id == message_id)).one())


def _customer_id(session: Session, actor: Actor, external_id: str) -> int:
    found = session.scalar(
        sa.select(Customer.id).where(Customer.external_id == external_id, customer_scope(actor))
    )
    if found is None:
        raise NotFound(f"no customer {external_id}", hint="see `cs customers list`")
    return found
