"""The task state machine and every change a task goes through.

    pending --start--> in_progress --complete--> completed
    pending --complete--> completed
    pending | in_progress --block--> blocked --unblock | start--> back
    pending | in_progress | blocked --cancel--> cancelled

`unblock` returns a task to in_progress when it had been started, else to
pending. completed and cancelled are final. Open tasks can also be assigned,
rescheduled, snoozed and updated. Every change writes a domain event and an
audit entry; see docs/tasks.md.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import CSTask
from cs_cli.domain import (
    Actor,
    Priority,
    TaskChangeResult,
    TaskDetail,
    TaskOutcome,
    TaskStatus,
    TaskType,
)
from cs_cli.errors import BadInput
from cs_cli.services import events
from cs_cli.services.audit import audit
from cs_cli.services.customers import find_customer
from cs_cli.services.tasks.bulk import Change, Plan, Target, apply, check_assignment, plan
from cs_cli.services.tasks.selection import OPEN
from cs_cli.services.tasks.views import task_detail
from cs_cli.services.users import find_user

if TYPE_CHECKING:
    from cs_cli.services.text.sentiment import Analyser

P, W, B = TaskStatus.PENDING, TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED
TITLE_MAX = 200

# The machine: each change, the states it may start from, the state it leads to.
TRANSITIONS: dict[str, tuple[frozenset[TaskStatus], str | None]] = {
    "start": (frozenset({P, B}), TaskStatus.IN_PROGRESS),
    "complete": (frozenset({P, W}), TaskStatus.COMPLETED),
    "block": (frozenset({P, W}), TaskStatus.BLOCKED),
    "unblock": (frozenset({B}), "pending or in_progress"),
    "cancel": (frozenset(OPEN), TaskStatus.CANCELLED),
    "assign": (frozenset(OPEN), None),
    "reschedule": (frozenset(OPEN), None),
    "snooze": (frozenset(OPEN), None),
    "update": (frozenset(OPEN), None),
}


def _change(verb: str, values: dict, event: str | None, **extra) -> Change:
    allowed, to = TRANSITIONS[verb]
    return Change(verb=verb, allowed=allowed, to=to, values=values, event=event, **extra)


def preview(session: Session, actor: Actor, target: Target, verb: str, *, today: dt.date) -> Plan:
    """The tasks a change would act on and those it would skip, changing nothing."""
    return plan(session, actor, target, _change(verb, {}, None), today=today)


def create_task(
    session: Session,
    actor: Actor,
    customer_ref: str,
    *,
    title: str,
    task_type: TaskType = TaskType.CUSTOM,
    priority: Priority = Priority.MEDIUM,
    due_date: dt.date | None = None,
    assignee: str | None = None,
    description: str | None = None,
    today: dt.date,
    now: dt.datetime,
) -> TaskDetail:
    """Add a pending task for a customer, assigned to `assignee`, else the
    customer's CSM, else the actor."""
    customer = find_customer(session, actor, customer_ref)
    title = _title(title)
    if due_date is not None and due_date < today:
        raise BadInput(f"the due date {due_date} is in the past (today is {today})")
    if assignee:
        user = _active_user(session, assignee)
        check_assignment(actor, (user.id, user.team_id), [customer.csm_id])
        assigned_to = user.id
    else:
        assigned_to = customer.csm_id or actor.user_id
    task = CSTask(
        customer_id=customer.id,
        title=title,
        description=description or None,
        task_type=task_type,
        priority=priority,
        status=TaskStatus.PENDING,
        due_date=due_date,
        assigned_to_user_id=assigned_to,
        created_at=now,
    )
    session.add(task)
    session.flush()
    data = {
        "task_id": task.id,
        "task_type": task_type.value,
        "priority": priority.value,
        "due_date": due_date.isoformat() if due_date else None,
        "assigned_to_user_id": assigned_to,
        "playbook_run_id": None,
        "journey_enrollment_id": None,
    }
    events.record(session, actor, "task.created", customer_id=customer.id, occurred_at=now, data=data)
    audit(session, actor, "task.create", "task", task.id, at=now, customer_id=customer.id, details=data)
    return task_detail(session, actor, task.id, today=today)


def start(
    session: Session, actor: Actor, target: Target, *, today: dt.date, now: dt.datetime
) -> TaskChangeResult:
    """Begin work on pending (or blocked) tasks: in_progress, started now."""
    values = {
        "status": TaskStatus.IN_PROGRESS,
        "started_at": sa.func.coalesce(CSTask.started_at, sa.literal(now, CSTask.started_at.type)),
        "blocked_reason": None,
    }
    return apply(session, actor, target, _change("start", values, "task.started"), today=today, now=now)


def complete(
    session: Session,
    actor: Actor,
    target: Target,
    *,
    outcome: TaskOutcome,
    notes: str | None = None,
    minutes: int | None = None,
    today: dt.date,
    now: dt.datetime,
    analyser: Analyser | None = None,
) -> TaskChangeResult:
    """Close tasks as done with an outcome; a call, meeting or email also
    becomes a touchpoint (its text read by `analyser`, the shipped lexicon's
    when None), and a playbook run whose tasks are all closed may end."""
    outcome = TaskOutcome(outcome)
    if minutes is not None and minutes < 0:
        raise BadInput(f"--minutes must be zero or more, not {minutes}")
    values = {
        "status": TaskStatus.COMPLETED,
        "completed_at": now,
        "outcome": outcome,
        "outcome_notes": notes or None,
        "time_spent_minutes": minutes,
    }
    data = {
        "outcome": outcome,
        "task_type": CSTask.task_type,
        "playbook_run_id": CSTask.playbook_run_id,
        "journey_enrollment_id": CSTask.journey_enrollment_id,
        "time_spent_minutes": minutes,
    }
    change = _change(
        "complete",
        values,
        "task.completed",
        data=data,
        touchpoint={"notes": notes or None, "minutes": minutes, "analyser": analyser},
        settle=True,
    )
    return apply(session, actor, target, change, today=today, now=now)


def block(
    session: Session, actor: Actor, target: Target, *, reason: str, today: dt.date, now: dt.datetime
) -> TaskChangeResult:
    """Mark tasks as blocked, with the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise BadInput("blocking a task needs a reason (--reason)")
    change = _change(
        "block",
        {"status": TaskStatus.BLOCKED, "blocked_reason": reason},
        "task.blocked",
        data={"reason": reason},
    )
    return apply(session, actor, target, change, today=today, now=now)


def unblock(
    session: Session, actor: Actor, target: Target, *, today: dt.date, now: dt.datetime
) -> TaskChangeResult:
    """Release blocked tasks: back to in_progress if they had been started, else pending."""
    back = sa.case(
        (CSTask.started_at.is_(None), sa.literal(TaskStatus.PENDING.value, sa.String)),
        else_=sa.literal(TaskStatus.IN_PROGRESS.value, sa.String),
    )
    change = _change(
        "unblock",
        {"status": back, "blocked_reason": None},
        "task.unblocked",
        data={"to_status": back, "reason": CSTask.blocked_reason},
    )
    return apply(session, actor, target, change, today=today, now=now)


def cancel(
    session: Session,
    actor: Actor,
    target: Target,
    *,
    reason: str | None = None,
    today: dt.date,
    now: dt.datetime,
) -> TaskChangeResult:
    """Close tasks as not to be done (the reason is kept as the outcome notes)."""
    reason = (reason or "").strip() or None
    values = {"status": TaskStatus.CANCELLED, "completed_at": now, "outcome_notes": reason}
    data = {
        "reason": reason,
        "task_type": CSTask.task_type,
        "playbook_run_id": CSTask.playbook_run_id,
        "journey_enrollment_id": CSTask.journey_enrollment_id,
    }
    change = _change("cancel", values, "task.cancelled", data=data, settle=True)
    return apply(session, actor, target, change, today=today, now=now)


def assign(
    session: Session, actor: Actor, target: Target, *, to: str, today: dt.date, now: dt.datetime
) -> TaskChangeResult:
    """Give open tasks to an active user (outside admins: the actor, their team
    or the customer's CSM)."""
    user = _active_user(session, to)
    change = _change(
        "assign",
        {"assigned_to_user_id": user.id},
        "task.assigned",
        data={"from_user_id": CSTask.assigned_to_user_id, "to_user_id": user.id, "to_user": user.email},
        assign_to=(user.id, user.team_id),
    )
    return apply(session, actor, target, change, today=today, now=now)


def reschedule(
    session: Session, actor: Actor, target: Target, *, due: dt.date, today: dt.date, now: dt.datetime
) -> TaskChangeResult:
    """Move the due date of open tasks (not into the past)."""
    if due < today:
        raise BadInput(f"the new due date {due} is in the past (today is {today})")
    change = _change(
        "reschedule",
        {"due_date": due},
        "task.rescheduled",
        data={"from_due_date": CSTask.due_date, "due_date": due},
    )
    return apply(session, actor, target, change, today=today, now=now)


def snooze(
    session: Session,
    actor: Actor,
    target: Target,
    *,
    until: dt.date | None,
    today: dt.date,
    now: dt.datetime,
) -> TaskChangeResult:
    """Hide open tasks from the lists until a day (None: show them again now)."""
    if until is not None and until <= today:
        raise BadInput(f"snooze until a day after today ({today}), not {until}")
    change = _change("snooze", {"snoozed_until": until}, "task.snoozed", data={"until": until})
    return apply(session, actor, target, change, today=today, now=now)


def update(
    session: Session,
    actor: Actor,
    target: Target,
    *,
    title: str | None = None,
    description: str | None = None,
    priority: Priority | None = None,
    task_type: TaskType | None = None,
    due: dt.date | None = None,
    today: dt.date,
    now: dt.datetime,
) -> TaskChangeResult:
    """Change the title, description, priority, type or due date of open tasks
    (a new due date is also a task.rescheduled event)."""
    values: dict = {}
    if title is not None:
        values["title"] = _title(title)
    if description is not None:
        values["description"] = description or None
    if priority is not None:
        values["priority"] = Priority(priority)
    if task_type is not None:
        values["task_type"] = TaskType(task_type)
    if due is not None:
        if due < today:
            raise BadInput(f"the new due date {due} is in the past (today is {today})")
        values["due_date"] = due
    if not values:
        raise BadInput("nothing to update: give --title, --description, --priority, --type or --due")
    data = {k: v for k, v in values.items() if k != "description"}
    if due is not None:
        data["from_due_date"] = CSTask.due_date
    change = _change("update", values, None, data=data, also=("task.rescheduled",) if due is not None else ())
    return apply(session, actor, target, change, today=today, now=now)


def _title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise BadInput("a task needs a title (--title)")
    if len(title) > TITLE_MAX:
        raise BadInput(f"a task title is at most {TITLE_MAX} characters, not {len(title)}")
    return title


def _active_user(session: Session, ref: str):
    user = find_user(session, ref)
    if not user.is_active:
        raise BadInput(f"user '{ref}' is deactivated; tasks go to active users")
    return user
