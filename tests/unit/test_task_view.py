"""One task whole (task_view): its history in words from the audit trail,
the touchpoints logged for it, a bulk-made task's first line, and the
scope; one ticket whole (ticket_detail) in the scope."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from cs_cli.db.models import CSTask, Customer, SupportTicket
from cs_cli.domain import Priority, TaskOutcome, TaskType
from cs_cli.errors import NotFound
from cs_cli.services.access import resolve_actor
from cs_cli.services.tasks import lifecycle
from cs_cli.services.tasks.bulk import Target
from cs_cli.services.tasks.detail import task_view
from cs_cli.services.tickets import ticket_detail

TODAY = dt.date(2025, 1, 15)
NOW = dt.datetime(2025, 1, 15, 10, 0, tzinfo=dt.UTC)


def _at(minutes: int) -> dt.datetime:
    return NOW + dt.timedelta(minutes=minutes)


def test_the_history_in_words_oldest_first_and_the_touchpoints(session, book):
    admin, ana = resolve_actor(session, "admin"), resolve_actor(session, "ana")
    task = lifecycle.create_task(
        session, admin, "E-1", title="Renewal call", task_type=TaskType.CALL, due_date=TODAY,
        assignee="ana", today=TODAY, now=NOW,
    ).row.id  # fmt: skip
    one = Target(ids=(task,))
    lifecycle.reschedule(session, ana, one, due=TODAY + dt.timedelta(3), today=TODAY, now=_at(1))
    lifecycle.assign(session, ana, one, to="mia", today=TODAY, now=_at(2))
    lifecycle.update(session, admin, one, priority=Priority.HIGH, today=TODAY, now=_at(3))
    lifecycle.snooze(session, admin, one, until=TODAY + dt.timedelta(2), today=TODAY, now=_at(4))
    lifecycle.block(session, admin, one, reason="legal", today=TODAY, now=_at(5))
    lifecycle.unblock(session, admin, one, today=TODAY, now=_at(6))
    lifecycle.complete(
        session,
        admin,
        one,
        outcome=TaskOutcome.SUCCESSFUL,
        notes="Agreed",
        minutes=20,
        today=TODAY,
        now=_at(7),
    )
    view = task_view(session, admin, task, today=TODAY)
    assert [(h.actor, h.words) for h in view.history] == [
        ("admin", "created: call, medium, due 2025-01-15, for Ana"),
        ("ana", "rescheduled from 2025-01-15 to 2025-01-18"),
        ("ana", "assigned to Mia (was Ana)"),
        ("admin", "edited: priority high"),
        ("admin", "snoozed until 2025-01-17"),
        ("admin", "blocked: legal"),
        ("admin", "unblocked (back to pending)"),
        ("admin", "completed: successful, 20 minutes"),
    ]
    assert [h.at for h in view.history] == sorted(h.at for h in view.history)
    assert (view.card.customer, view.card.health_score, view.owner_name) == ("E-1", 82, "Mia")
    assert (view.outcome_notes, view.time_spent_minutes) == ("Agreed", 20)
    [tp] = view.touchpoints
    assert (tp.row.task_id, tp.description, tp.row.duration_minutes) == (task, "Agreed", 20)


def test_a_bulk_made_task_starts_with_created_and_the_scope_holds(session, book):
    ana, bo = resolve_actor(session, "ana"), resolve_actor(session, "bo")
    e1 = session.scalar(sa.select(Customer.id).where(Customer.external_id == "E-1"))
    # As a playbook run inserts its tasks: no audit entry of its own.
    task = CSTask(customer_id=e1, title="From a run", created_at=NOW)
    session.add(task)
    session.flush()
    view = task_view(session, ana, task.id, today=TODAY)
    assert [(h.actor, h.words) for h in view.history] == [(None, "created")]
    assert view.touchpoints == [] and view.meeting_agenda is None
    with pytest.raises(NotFound):
        task_view(session, bo, task.id, today=TODAY)

    ticket = SupportTicket(
        external_id="T-1", customer_id=e1, subject="Export", description="It broke.", opened_at=NOW
    )
    session.add(ticket)
    session.flush()
    found = ticket_detail(session, ana, ticket.id)
    assert (found.row.subject, found.description, found.customer) == ("Export", "It broke.", "E-1")
    with pytest.raises(NotFound):
        ticket_detail(session, bo, ticket.id)
