"""Which tasks an actor may see and act on, and the filter shared by
`cs tasks list` and the bulk forms of every change."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import CSTask, Customer, Playbook, User
from cs_cli.domain import Actor, Priority, Role, TaskStatus, TaskType
from cs_cli.errors import BadInput, NotFound
from cs_cli.services.access import customer_scope
from cs_cli.services.customers import find_customer
from cs_cli.services.users import find_user

OPEN = (TaskStatus.PENDING, TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED)
CLOSED = (TaskStatus.COMPLETED, TaskStatus.CANCELLED)
DUE_WINDOWS = ("today", "week", "overdue")


@dataclass(frozen=True)
class TaskFilter:
    """What `cs tasks list` and the bulk forms select. Empty statuses mean
    the open ones (pending, in progress, blocked)."""

    mine: bool = False
    assignee: str | None = None
    customer: str | None = None
    statuses: tuple[TaskStatus, ...] = ()
    priorities: tuple[Priority, ...] = ()
    types: tuple[TaskType, ...] = ()
    due: str | None = None
    playbook: str | None = None
    include_snoozed: bool = False
    # Set by the services, not by people: narrows to these tasks.
    ids: tuple[int, ...] = field(default=())

    def is_empty(self) -> bool:
        """True when nothing but the defaults would select tasks."""
        return not (
            self.mine
            or self.assignee
            or self.customer
            or self.statuses
            or self.priorities
            or self.types
            or self.due
            or self.playbook
        )


def task_scope(actor: Actor) -> sa.ColumnElement[bool]:
    """The condition on `cs_tasks` that limits a query to the tasks the actor
    may see: assigned to them or of a customer in their scope (a manager:
    also assigned to anyone in their team)."""
    if actor.role == Role.ADMIN:
        return sa.true()
    assigned: sa.ColumnElement[bool] = CSTask.assigned_to_user_id == actor.user_id
    if actor.role == Role.MANAGER and actor.team_id is not None:
        team = sa.select(User.id).where(User.team_id == actor.team_id)
        assigned = sa.or_(assigned, CSTask.assigned_to_user_id.in_(team))
    # Two index lookups, not one OR over every open task of the book: the ids
    # assigned to them, and the ids of their customers' tasks.
    visible = sa.union_all(
        sa.select(CSTask.id).where(assigned).correlate(None),
        sa.select(CSTask.id)
        .join(Customer, Customer.id == CSTask.customer_id)
        .where(customer_scope(actor))
        .correlate(None),
    )
    return CSTask.id.in_(visible)


def conditions(
    session: Session, actor: Actor, flt: TaskFilter, *, today: dt.date
) -> list[sa.ColumnElement[bool]]:
    """The WHERE conditions of a filter, scope included (on tasks joined to customers)."""
    conds: list[sa.ColumnElement[bool]] = []
    if flt.mine:
        if actor.user_id is None:
            raise BadInput("--mine needs a user: set CS_USER to your login or email")
        # Tasks assigned to you are always yours to see.
        conds.append(CSTask.assigned_to_user_id == actor.user_id)
    else:
        conds.append(task_scope(actor))
    if flt.ids:
        conds.append(CSTask.id.in_(flt.ids))
    if flt.assignee:
        conds.append(CSTask.assigned_to_user_id == find_user(session, flt.assignee).id)
    if flt.customer:
        conds.append(CSTask.customer_id == find_customer(session, actor, flt.customer).id)
    statuses = flt.statuses or OPEN
    if set(statuses) != set(TaskStatus):
        conds.append(CSTask.status.in_(sorted(set(statuses))))
    if flt.priorities:
        conds.append(CSTask.priority.in_(sorted(set(flt.priorities))))
    if flt.types:
        conds.append(CSTask.task_type.in_(sorted(set(flt.types))))
    if flt.due is not None:
        conds.append(due_condition(flt.due, today))
    if flt.playbook:
        playbook_id = session.scalar(
            sa.select(Playbook.id)
            .where(sa.or_(Playbook.key == flt.playbook, sa.func.lower(Playbook.name) == flt.playbook.lower()))
            .order_by(Playbook.id)
            .limit(1)
        )
        if playbook_id is None:
            raise NotFound(f"no playbook '{flt.playbook}'", hint="see `cs playbooks list`")
        conds.append(CSTask.playbook_id == playbook_id)
    if not flt.include_snoozed:
        # A snoozed task comes back on its day.
        conds.append(sa.or_(CSTask.snoozed_until.is_(None), CSTask.snoozed_until <= today))
    return conds


def due_condition(window: str, today: dt.date) -> sa.ColumnElement[bool]:
    if window == "today":
        return CSTask.due_date == today
    if window == "week":
        return CSTask.due_date.between(today, today + dt.timedelta(days=6))
    if window == "overdue":
        return sa.and_(CSTask.due_date < today, CSTask.status.in_(OPEN))
    raise BadInput(f"--due is one of {', '.join(DUE_WINDOWS)}, not '{window}'")
