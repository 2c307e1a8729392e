"""The domain event log: what happened to a customer, written in the same
transaction as the change, for journeys and automation to consume in id order.

Every writer first calls dialect.before_writing_events, so that a consumer's
dialect.event_horizon never moves past an event still to be committed."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.models import DomainEvent
from cs_cli.domain import Actor, EventRow


def record(
    session: Session,
    actor: Actor,
    event_type: str,
    *,
    customer_id: int | None,
    occurred_at: dt.datetime,
    data: dict[str, Any] | None = None,
) -> None:
    """Append one event."""
    dialect.before_writing_events(session)
    session.add(
        DomainEvent(
            event_type=event_type,
            customer_id=customer_id,
            occurred_at=occurred_at,
            data=data,
            actor_name=actor.name,
            created_at=occurred_at,
        )
    )


def record_many(
    session: Session,
    actor: Actor,
    event_type: str,
    rows: list[tuple[int | None, dict[str, Any] | None]],
    *,
    occurred_at: dt.datetime,
) -> None:
    """Append one event per (customer_id, data) pair, in one batched INSERT."""
    if not rows:
        return
    dialect.before_writing_events(session)
    session.execute(
        sa.insert(DomainEvent),
        [
            {
                "event_type": event_type,
                "customer_id": customer_id,
                "occurred_at": occurred_at,
                "data": data,
                "actor_name": actor.name,
                "created_at": occurred_at,
            }
            for customer_id, data in rows
        ],
    )


def record_from_select(
    session: Session,
    actor: Actor,
    event_type: str,
    source: sa.Select,
    *,
    occurred_at: dt.datetime,
    count: bool = True,
) -> int | None:
    """Append one event per row of `source`, a SELECT of (customer_id, data),
    without bringing the rows into Python. Returns how many were written
    (unless `count` is false: counting brings back one id per row)."""
    dialect.before_writing_events(session)
    events = DomainEvent.__table__
    sub = source.subquery()
    customer_id, data = list(sub.c)
    values = {
        "event_type": sa.literal(event_type),
        "customer_id": customer_id,
        "occurred_at": sa.literal(occurred_at, events.c.occurred_at.type),
        "data": data,
        "actor_name": sa.literal(actor.name),
        "created_at": sa.literal(occurred_at, events.c.created_at.type),
    }
    insert = sa.insert(events).from_select(list(values), sa.select(*values.values()))
    if not count:
        session.execute(insert)
        return None
    # RETURNING, not rowcount: drivers report -1 for INSERT ... SELECT.
    return len(session.execute(insert.returning(events.c.id)).all())


def record_rows(
    session: Session,
    actor: Actor,
    rows: list[tuple[str, int | None, dt.datetime, dict[str, Any] | None]],
) -> None:
    """Append events of several types and moments, (event_type, customer_id,
    occurred_at, data) each, in one batched INSERT."""
    if not rows:
        return
    dialect.before_writing_events(session)
    session.execute(
        sa.insert(DomainEvent),
        [
            {
                "event_type": event_type,
                "customer_id": customer_id,
                "occurred_at": occurred_at,
                "data": data,
                "actor_name": actor.name,
                "created_at": occurred_at,
            }
            for event_type, customer_id, occurred_at, data in rows
        ],
    )


# -- what people and other systems see of the log

_EVENT_TYPE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")


def known_types(session: Session, listened: set[str]) -> set[str]:
    """Event types cs knows: those already in the log, those a journey
    trigger or wait or a playbook trigger names, and `listened` (the
    automation rules' types)."""
    from cs_cli.db.models import Journey, JourneyStep, Playbook

    known = set(listened)
    known.update(session.scalars(sa.select(DomainEvent.event_type).distinct()))
    known.update(
        session.scalars(sa.select(Playbook.trigger_event).where(Playbook.trigger_event.is_not(None)))
    )
    known.update(
        session.scalars(
            sa.select(JourneyStep.wait_until_event)
            .where(JourneyStep.wait_until_event.is_not(None))
            .distinct()
        )
    )
    for config in session.scalars(
        sa.select(Journey.trigger_config).where(Journey.trigger_config.is_not(None))
    ):
        if isinstance(config, dict) and isinstance(config.get("event"), str):
            known.add(config["event"])
    return known


def emit(
    session: Session,
    actor: Actor,
    event_type: str,
    *,
    customer: str,
    data: dict[str, Any] | None,
    now: dt.datetime,
    known: set[str] | None = None,
) -> EventRow:
    """Record an event another system reports about a customer (admins).
    With `known`, a type outside it is refused (a typo, most likely), with
    the nearest known types."""
    from cs_cli.domain import Role
    from cs_cli.errors import BadInput
    from cs_cli.services.access import require_role
    from cs_cli.services.customers import find_customer

    require_role(actor, Role.ADMIN, doing="emitting events")
    if not _EVENT_TYPE.fullmatch(event_type) or len(event_type) > 100:
        raise BadInput(
            f"'{event_type}' is not an event type: lower-case words joined by dots, e.g. invoice.paid_late"
        )
    if data is not None and not isinstance(data, dict):
        raise BadInput("--data is a JSON object, e.g. '{\"amount\": 1200}'")
    if known is not None and event_type not in known:
        import difflib

        near = difflib.get_close_matches(event_type, sorted(known), n=3, cutoff=0.6)
        raise BadInput(
            f"unknown event type '{event_type}': nothing has recorded it and no rule, journey or playbook "
            "acts on it" + (f" (did you mean {', '.join(near)}?)" if near else ""),
            hint="record a type of your own with --new-type",
        )
    target = find_customer(session, actor, customer)
    event = DomainEvent(
        event_type=event_type,
        customer_id=target.id,
        occurred_at=now,
        data=data,
        actor_name=actor.name,
        created_at=now,
    )
    dialect.before_writing_events(session)
    session.add(event)
    session.flush()
    from cs_cli.services.audit import audit

    audit(
        session,
        actor,
        "event.emitted",
        "event",
        event.id,
        at=now,
        customer_id=target.id,
        details={"event_type": event_type, "data": data},
    )
    return EventRow(event.id, event_type, target.external_id, now, data, actor.name)


def list_events(
    session: Session,
    actor: Actor,
    *,
    event_type: str | None = None,
    customer: str | None = None,
    since: dt.datetime | None = None,
    limit: int | None = 50,
) -> list[EventRow]:
    """The latest events of the customers you can see, newest first; a type
    ending in `.` or `*` matches every type it begins (segment.*)."""
    from cs_cli.db.models import Customer
    from cs_cli.services.access import customer_scope
    from cs_cli.services.customers import find_customer

    e = DomainEvent
    stmt = (
        sa.select(e.id, e.event_type, Customer.external_id, e.occurred_at, e.data, e.actor_name)
        .join(Customer, Customer.id == e.customer_id)
        .where(customer_scope(actor))
        .order_by(e.id.desc())
        .limit(limit)
    )
    if event_type:
        prefix = event_type.rstrip("*")
        if prefix.endswith("."):
            stmt = stmt.where(e.event_type.startswith(prefix, autoescape=True))
        else:
            stmt = stmt.where(e.event_type == event_type)
    if customer:
        stmt = stmt.where(e.customer_id == find_customer(session, actor, customer).id)
    if since is not None:
        stmt = stmt.where(e.occurred_at >= since)
    return [EventRow(*row) for row in session.execute(stmt)]
