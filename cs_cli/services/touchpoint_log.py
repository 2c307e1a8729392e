"""Logging a touchpoint from the board: on a day (not only now), with the
customer's people who took part, notes of several lines, and the follow-up
task it calls for, all in one transaction through the touchpoints and task
services (so `touchpoint.logged` and `task.created` follow as from the CLI)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from cs_cli.domain import Actor, FollowUp, LoggedTouchpoint, Sentiment, TouchpointType
from cs_cli.errors import BadInput
from cs_cli.services.tasks.lifecycle import create_task
from cs_cli.services.text.sentiment import Analyser
from cs_cli.services.touchpoints import log_touchpoint

# A touchpoint logged for a past day is put at noon UTC of it: the day is what
# was said, and noon keeps it on that day in every timezone a team is likely in.
PAST_DAY_TIME = dt.time(12)


def log_interaction(
    session: Session,
    actor: Actor,
    customer: str,
    *,
    touchpoint_type: TouchpointType,
    subject: str,
    notes: str | None = None,
    minutes: int | None = None,
    sentiment: Sentiment | None = None,
    occurred_on: dt.date | None = None,
    attendees: Sequence[int] = (),
    follow_up: FollowUp | None = None,
    today: dt.date,
    now: dt.datetime,
    analyser: Analyser | None = None,
) -> LoggedTouchpoint:
    """Log a touchpoint with a customer on `occurred_on` (today: now), its
    attendees (the customer's contact ids), and create the follow-up task
    (pending, the customer's CSM's, its description naming the touchpoint)."""
    if occurred_on is not None and occurred_on > today:
        raise BadInput(f"a touchpoint cannot be in the future ({occurred_on} is after {today})")
    when = (
        now
        if occurred_on in (None, today)
        else dt.datetime.combine(occurred_on, PAST_DAY_TIME, tzinfo=dt.UTC)
    )
    touchpoint = log_touchpoint(
        session,
        actor,
        customer,
        touchpoint_type=touchpoint_type,
        subject=subject,
        notes=notes,
        minutes=minutes,
        sentiment=sentiment,
        occurred_at=when,
        attendees=attendees,
        now=now,
        analyser=analyser,
    )
    task = None
    if follow_up is not None:
        day = f"{touchpoint.row.occurred_at:%Y-%m-%d}"
        task = create_task(
            session,
            actor,
            customer,
            title=follow_up.title,
            task_type=follow_up.task_type,
            priority=follow_up.priority,
            due_date=follow_up.due_date,
            description=f"Follow-up to touchpoint {touchpoint.row.id} ({day}): {subject}",
            today=today,
            now=now,
        )
    return LoggedTouchpoint(touchpoint=touchpoint, follow_up=task)
