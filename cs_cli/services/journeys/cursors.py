"""The journeys' cursors on the domain event log (cs_event_cursors): one per
journey (consumer `journey:KEY`) for its trigger, plus those of the tick's
wake-ups and sweeps. Read and moved by the triggers (triggers.py); started
by loading a journey (catalog.py), which is why they live apart from both.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.models import DomainEvent, EventCursor


def consumer(journey_key: str) -> str:
    return f"journey:{journey_key}"


def cursor(session: Session, name: str, *, now: dt.datetime, start: int | None = None) -> EventCursor:
    """The cursor `name`, made at `start` (else the log's end) the first time."""
    row = session.get(EventCursor, name)
    if row is None:
        if start is None:
            start = session.scalar(sa.select(sa.func.max(DomainEvent.id))) or 0
        session.execute(
            dialect.insert_ignoring(session, EventCursor.__table__).values(
                consumer=name, position=start, updated_at=now, acted_count=0
            )
        )
        row = session.get_one(EventCursor, name)
    return row


def start_cursor(session: Session, journey_key: str, *, scheduled: bool, now: dt.datetime) -> None:
    """Loading a journey never acts on old history: an event trigger reads
    events recorded from now on; a scheduled one is evaluated at the next tick."""
    row = cursor(session, consumer(journey_key), now=now)
    row.position = 0 if scheduled else session.scalar(sa.select(sa.func.max(DomainEvent.id))) or 0
    row.updated_at = now
