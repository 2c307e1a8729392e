"""Tasks and renewal dates as an iCalendar file (RFC 5545), for any
calendar to show or subscribe to (plan 7.6, calendar integration).

Each entry is an all-day event with a UID that never changes for the same
task or renewal, so importing or subscribing again updates the events
instead of doubling them; a task that is done or cancelled leaves the file,
and a subscribed calendar drops it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import CSTask, Customer, User
from cs_cli.domain import Actor, CustomerStatus
from cs_cli.services.scopes import customers_in, tasks_in
from cs_cli.services.tasks.selection import OPEN

# The domain part of every UID: stable across machines and exports.
UID_DOMAIN = "cs.tasks"


@dataclass(frozen=True)
class CalendarEntry:
    uid: str
    day: dt.date
    summary: str
    description: str
    modified: dt.datetime | None


def calendar_entries(
    session: Session,
    actor: Actor,
    *,
    scope: str = "mine",
    renewals: bool = True,
    since: dt.date | None = None,
) -> list[CalendarEntry]:
    """The open tasks with a due date of the scope (from `since`, when
    given), and the renewal dates of its active customers."""
    wanted = [tasks_in(actor, scope), CSTask.status.in_(OPEN), CSTask.due_date.is_not(None)]
    if since is not None:
        wanted.append(CSTask.due_date >= since)
    rows = session.execute(
        sa.select(
            CSTask.id,
            CSTask.title,
            CSTask.description,
            CSTask.due_date,
            CSTask.priority,
            CSTask.status,
            sa.func.coalesce(CSTask.updated_at, CSTask.created_at),
            Customer.external_id,
            Customer.name,
        )
        .join(Customer, Customer.id == CSTask.customer_id)
        .where(*wanted)
        .order_by(CSTask.due_date, CSTask.id)
    ).all()
    entries = [
        CalendarEntry(
            uid=f"task-{task_id}@{UID_DOMAIN}",
            day=due,
            summary=f"{title} ({name})",
            description="\n".join(
                part
                for part in (
                    f"{name} ({external_id}), task {task_id}: {status.value}, {priority.value} priority",
                    description or "",
                    f"cs tasks show {task_id}",
                )
                if part
            ),
            modified=modified,
        )
        for task_id, title, description, due, priority, status, modified, external_id, name in rows
    ]
    if renewals:
        customers = customers_in(actor, scope)
        found = session.execute(
            sa.select(Customer.external_id, Customer.name, Customer.renewal_date, Customer.arr, User.email)
            .outerjoin(User, User.id == Customer.csm_id)
            .where(
                customers,
                Customer.status == CustomerStatus.ACTIVE,
                Customer.renewal_date.is_not(None),
                *([Customer.renewal_date >= since] if since is not None else []),
            )
            .order_by(Customer.renewal_date, Customer.external_id)
        ).all()
        entries += [
            CalendarEntry(
                # One per renewal: a new date is a new renewal, the old one leaves the file.
                uid=f"renewal-{external_id}-{day.isoformat()}@{UID_DOMAIN}",
                day=day,
                summary=f"Renewal: {name}",
                description=f"{name} ({external_id}) renews"
                + (f", ARR {arr:,.0f}" if arr is not None else "")
                + (f"; CSM {csm}" if csm else "")
                + f"\ncs customers show {external_id}",
                modified=None,
            )
            for external_id, name, day, arr, csm in found
        ]
    return sorted(entries, key=lambda e: (e.day, e.uid))


def to_ical(entries: list[CalendarEntry], *, name: str, now: dt.datetime) -> bytes:
    """The entries as one VCALENDAR of all-day VEVENTs."""
    import icalendar

    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//cs//customer success tasks//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    for entry in entries:
        event = icalendar.Event()
        event.add("uid", entry.uid)
        event.add("dtstamp", now)
        event.add("dtstart", entry.day)
        event.add("dtend", entry.day + dt.timedelta(days=1))
        event.add("summary", entry.summary)
        event.add("description", entry.description)
        event.add("transp", "TRANSPARENT")  # a due date does not make anyone busy
        if entry.modified is not None:
            event.add("last-modified", entry.modified.astimezone(dt.UTC))
        calendar.add_component(event)
    return calendar.to_ical()
