"""`cs tasks remind`: one email a day to each person with tasks due today or
overdue, listing them (the most urgent first). The outbox key
task-reminder:USER:DAY makes it once per user per day: running it again that
day sends nothing new. People whose notify preference is none get nothing."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import CSTask, Customer, OutboxMessage, User
from cs_cli.domain import Actor, NotifyPreference, ReminderRun, Role, TaskStatus
from cs_cli.services.access import PLACEHOLDER_DOMAIN, require_role
from cs_cli.services.outbox.enqueue import NewMessage, enqueue_many

OPEN = (TaskStatus.PENDING.value, TaskStatus.IN_PROGRESS.value, TaskStatus.BLOCKED.value)
# A reminder lists this many tasks, then says how many more there are.
LISTED = 50


def key_for(user_id: int, day: dt.date) -> str:
    return f"task-reminder:{user_id}:{day.isoformat()}"


def remind(session: Session, actor: Actor, *, as_of: dt.date, now: dt.datetime) -> ReminderRun:
    """Put one reminder per user with open tasks due on or before `as_of`
    (not snoozed past it) in the outbox (admins and cron)."""
    require_role(actor, Role.ADMIN, doing="sending task reminders")
    t = CSTask
    due = [
        t.status.in_(OPEN),
        t.due_date <= as_of,
        t.assigned_to_user_id.is_not(None),
        sa.or_(t.snoozed_until.is_(None), t.snoozed_until <= as_of),
    ]
    # Who has due work, and which of them hear nothing or already heard today.
    people = session.execute(
        sa.select(
            User.id,
            User.email,
            User.notify_preference,
            sa.func.count().label("tasks"),
            sa.func.sum(sa.case((t.due_date < as_of, 1), else_=0)).label("overdue"),
        )
        .join(t, t.assigned_to_user_id == User.id)
        .where(*due, User.is_active, ~User.email.endswith(f"@{PLACEHOLDER_DOMAIN}", autoescape=True))
        .group_by(User.id, User.email, User.notify_preference)
    ).all()
    opted_out = [p for p in people if p.notify_preference == NotifyPreference.NONE]
    wanted = {p.id: p for p in people if p.notify_preference != NotifyPreference.NONE}
    sent = set()
    keys = [key_for(user_id, as_of) for user_id in wanted]
    for start in range(0, len(keys), 1000):
        sent.update(
            session.scalars(
                sa.select(OutboxMessage.idempotency_key).where(
                    OutboxMessage.idempotency_key.in_(keys[start : start + 1000])
                )
            )
        )
    todo = {user_id: p for user_id, p in wanted.items() if key_for(user_id, as_of) not in sent}
    if not todo:
        return ReminderRun(as_of, 0, 0, len(wanted) - len(todo), len(opted_out))
    # The most urgent first: overdue before due today, then by priority.
    rank = sa.func.row_number().over(
        partition_by=t.assigned_to_user_id,
        order_by=(t.due_date, _priority_rank(), t.id),
    )
    listed = (
        sa.select(
            t.assigned_to_user_id.label("user_id"),
            t.id,
            t.title,
            t.due_date,
            t.priority,
            Customer.external_id,
            Customer.name,
            rank.label("n"),
        )
        .join(Customer, Customer.id == t.customer_id)
        .where(*due)
        .subquery("listed")
    )
    tasks: dict[int, list] = defaultdict(list)
    ids = list(todo)
    for start in range(0, len(ids), 1000):
        rows = session.execute(
            sa.select(listed)
            .where(listed.c.user_id.in_(ids[start : start + 1000]), listed.c.n <= LISTED)
            .order_by(listed.c.user_id, listed.c.n)
        )
        for row in rows:
            tasks[row.user_id].append(row)
    messages = []
    for user_id, person in todo.items():
        mine = tasks.get(user_id, [])
        lines = []
        for r in mine:
            when = "due today" if r.due_date == as_of else f"overdue since {r.due_date}"
            lines.append(
                f"- [{r.priority.value}] {r.title} ({r.name}, {r.external_id}), {when}  (task {r.id})"
            )
        if person.tasks > len(mine):
            lines.append(f"... and {person.tasks - len(mine)} more: cs tasks list --due overdue")
        subject = f"{person.tasks} task{'s' if person.tasks != 1 else ''} due on {as_of.isoformat()}"
        if person.overdue:
            subject += f" ({person.overdue} overdue)"
        messages.append(
            NewMessage(
                channel="email",
                idempotency_key=key_for(user_id, as_of),
                recipient=person.email,
                subject=subject,
                payload={
                    "text": f"Your tasks due on or before {as_of.isoformat()}:\n\n" + "\n".join(lines) + "\n"
                },
            )
        )
    added = enqueue_many(session, messages, now=now)
    return ReminderRun(
        as_of=as_of,
        users=added,
        tasks=sum(p.tasks for p in todo.values()),
        already_sent=len(wanted) - len(todo),
        opted_out=len(opted_out),
    )


def _priority_rank() -> sa.ColumnElement:
    return sa.case(
        (CSTask.priority == "critical", 0),
        (CSTask.priority == "high", 1),
        (CSTask.priority == "medium", 2),
        else_=3,
    )
