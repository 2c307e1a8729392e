"""One task whole, as the board's task detail shows it: its card, what it
asks, the playbook step it came from with that step's guidance, its
customer's key facts, its history in words (from the audit trail) and the
touchpoints logged for it. A fixed number of queries, whatever the task."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from cs_cli.db.models import (
    AuditEntry,
    CSTask,
    Customer,
    Journey,
    JourneyEnrollment,
    Playbook,
    PlaybookStep,
    User,
)
from cs_cli.domain import Actor, TaskHistoryEntry, TaskView
from cs_cli.errors import NotFound
from cs_cli.services.tasks.board import card_of, card_select
from cs_cli.services.tasks.selection import task_scope
from cs_cli.services.touchpoints import task_touchpoints

# The keys of an audit entry's details that name a user by id.
_USER_KEYS = ("assigned_to_user_id", "from_user_id", "to_user_id")


def task_view(session: Session, actor: Actor, task_id: int, *, today: dt.date) -> TaskView:
    """Everything about one task the actor may see (NotFound otherwise), as
    of `today` (overdue, the customer's health and days to renewal)."""
    owner = aliased(User)
    found = session.execute(
        card_select(today)
        .add_columns(
            CSTask.description,
            CSTask.created_at,
            CSTask.started_at,
            CSTask.outcome_notes,
            CSTask.time_spent_minutes,
            CSTask.playbook_run_id,
            Customer.status.label("customer_status"),
            owner.name.label("owner_name"),
            PlaybookStep.name.label("step_name"),
            PlaybookStep.step_order,
            PlaybookStep.meeting_agenda_template.label("meeting_agenda"),
            PlaybookStep.talk_track,
            Playbook.name.label("playbook_name"),
            Journey.name.label("journey"),
        )
        .outerjoin(owner, owner.id == CSTask.assigned_to_user_id)
        .outerjoin(PlaybookStep, PlaybookStep.id == CSTask.playbook_step_id)
        .outerjoin(JourneyEnrollment, JourneyEnrollment.id == CSTask.journey_enrollment_id)
        .outerjoin(Journey, Journey.id == JourneyEnrollment.journey_id)
        .where(CSTask.id == task_id, task_scope(actor))
    ).first()
    if found is None:
        raise NotFound(f"task {task_id} not found")
    fields = dict(found._mapping)
    card = card_of(fields, today)
    status = fields["customer_status"]
    return TaskView(
        card=card,
        description=fields["description"],
        owner_name=fields["owner_name"],
        created_at=fields["created_at"],
        started_at=fields["started_at"],
        outcome_notes=fields["outcome_notes"],
        time_spent_minutes=fields["time_spent_minutes"],
        playbook_name=fields["playbook_name"],
        playbook_run_id=fields["playbook_run_id"],
        step_name=fields["step_name"],
        step_order=fields["step_order"],
        meeting_agenda=fields["meeting_agenda"],
        talk_track=fields["talk_track"],
        journey=fields["journey"],
        customer_status=str(getattr(status, "value", status)),
        history=task_history(
            session, task_id, created_at=fields["created_at"], playbook=fields["playbook_name"]
        ),
        touchpoints=task_touchpoints(session, task_id),
    )


def task_history(
    session: Session, task_id: int, *, created_at: dt.datetime, playbook: str | None = None
) -> list[TaskHistoryEntry]:
    """The changes to a task, oldest first, in words: its audit entries (reads
    left out). A task made in bulk (by a playbook, a journey or an automation
    rule) has no entry of its own for its creation: one is said from the task."""
    entries = session.execute(
        sa.select(AuditEntry.occurred_at, AuditEntry.actor_name, AuditEntry.action, AuditEntry.details)
        .where(
            AuditEntry.entity_type == "task",
            AuditEntry.entity_id == str(task_id),
            AuditEntry.action.not_like("read.%"),
        )
        .order_by(AuditEntry.occurred_at, AuditEntry.id)
    ).all()
    ids = {
        int(e.details[k]) for e in entries if e.details for k in _USER_KEYS if e.details.get(k) is not None
    }
    users: dict[int, str] = {}
    if ids:
        users = {
            r.id: r.name or r.email
            for r in session.execute(sa.select(User.id, User.name, User.email).where(User.id.in_(ids)))
        }
    history = [
        TaskHistoryEntry(
            at=e.occurred_at,
            actor=e.actor_name,
            action=e.action,
            words=words(e.action, e.details or {}, users),
        )
        for e in entries
    ]
    if not any(h.action == "task.create" for h in history):
        made = f"created by the playbook {playbook}" if playbook else "created"
        history.insert(0, TaskHistoryEntry(at=created_at, actor=None, action="task.create", words=made))
    return history


def _day(value: Any) -> str:
    return str(value)[:10] if value else "none"


def words(action: str, details: dict[str, Any], users: dict[int, str]) -> str:
    """An audit entry of a task in a few words ('rescheduled from 2025-01-08 to 2025-01-13')."""

    def who(key: str) -> str:
        ident = details.get(key)
        return users.get(int(ident), f"user {ident}") if ident is not None else "nobody"

    verb = action.removeprefix("task.")
    if verb == "create":
        parts = [details.get("task_type"), details.get("priority")]
        if details.get("due_date"):
            parts.append(f"due {_day(details['due_date'])}")
        if details.get("assigned_to_user_id") is not None:
            parts.append(f"for {who('assigned_to_user_id')}")
        return "created: " + ", ".join(str(p) for p in parts if p)
    if verb == "start":
        return "started"
    if verb == "complete":
        text = f"completed: {details.get('outcome') or 'done'}"
        if details.get("time_spent_minutes") is not None:
            text += f", {details['time_spent_minutes']} minutes"
        return text
    if verb == "block":
        return f"blocked: {details.get('reason') or ''}".rstrip(": ")
    if verb == "unblock":
        back = str(details.get("to_status") or "").replace("_", " ")
        return f"unblocked (back to {back})" if back else "unblocked"
    if verb == "cancel":
        return f"cancelled: {details['reason']}" if details.get("reason") else "cancelled"
    if verb == "assign":
        to = details.get("to_user") or who("to_user_id")
        if details.get("to_user_id") is not None and int(details["to_user_id"]) in users:
            to = users[int(details["to_user_id"])]
        return f"assigned to {to} (was {who('from_user_id')})"
    if verb == "reschedule":
        return f"rescheduled from {_day(details.get('from_due_date'))} to {_day(details.get('due_date'))}"
    if verb == "snooze":
        until = details.get("until")
        return f"snoozed until {_day(until)}" if until else "snooze cleared"
    if verb == "update":
        changed = []
        if "title" in details:
            changed.append(f"title '{details['title']}'")
        if "task_type" in details:
            changed.append(f"type {details['task_type']}")
        if "priority" in details:
            changed.append(f"priority {details['priority']}")
        if "due_date" in details:
            changed.append(f"due {_day(details.get('from_due_date'))} → {_day(details['due_date'])}")
        return "edited: " + ", ".join(changed) if changed else "edited"
    return verb.replace("_", " ")
