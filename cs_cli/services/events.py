"""The domain event log: what happened to a customer, written in the same
transaction as the change, for journeys and automation to consume in id order.

Every writer first calls dialect.before_writing_events, so that a consumer's
dialect.event_horizon never moves past an event still to be committed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.models import DomainEvent
from cs_cli.domain import Actor


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
