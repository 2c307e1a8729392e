"""The task board's reads: its columns a page at a time (a card carries the
customer's health), the scopes a role may switch between, and the users a
task may be given to. Changes go through lifecycle, as from the CLI."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import CSTask, Customer, HealthScore, Playbook, User
from cs_cli.domain import (
    Actor,
    Assignee,
    BoardCard,
    BoardColumn,
    HealthStatus,
    Priority,
    Role,
    TaskOutcome,
    TaskStatus,
    TaskType,
)
from cs_cli.errors import BadInput, NotPermitted
from cs_cli.services.health.overrides import active as active_overrides
from cs_cli.services.tasks.selection import OPEN, TaskFilter, conditions

COLUMNS = (TaskStatus.PENDING, TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED, TaskStatus.COMPLETED)
# The completed column shows the work closed in the last week (today included).
RECENT_DAYS = 7
SCOPES = ("mine", "team", "all")
# Counting a column stops here: the header then says "more than".
COUNT_CAP = 10_000
PAGE = 50

_URGENCY = {Priority.CRITICAL: 0, Priority.HIGH: 1, Priority.MEDIUM: 2, Priority.LOW: 3}


def scopes_for(role: Role) -> tuple[str, ...]:
    """The scopes a role may switch between: a CSM their own tasks, a manager
    also their team's, an admin everything."""
    if role == Role.ADMIN:
        return SCOPES
    if role == Role.MANAGER:
        return ("mine", "team")
    return ("mine",)


@dataclass(frozen=True)
class BoardFilter:
    """What the board shows: whose tasks (scope), a search over customer and
    title, and the filters of `cs tasks list` (due window, priority, type,
    playbook, snoozed tasks too)."""

    scope: str = "mine"
    # Only the tasks assigned to this user (login or email): the team view's pick.
    owner: str | None = None
    search: str = ""
    due: str | None = None
    priority: Priority | None = None
    task_type: TaskType | None = None
    playbook: str | None = None
    include_snoozed: bool = False

    def describe(self) -> list[str]:
        """The filters in force, in words (scope and search left out)."""
        words = {"today": "due today", "week": "due this week", "overdue": "overdue"}
        out = []
        if self.owner:
            out.append(f"owner {self.owner}")
        if self.due:
            out.append(words.get(self.due, self.due))
        if self.priority:
            out.append(f"priority {self.priority.value}")
        if self.task_type:
            out.append(f"type {self.task_type.value}")
        if self.playbook:
            out.append(f"playbook {self.playbook}")
        if self.include_snoozed:
            out.append("snoozed included")
        return out


def board_column(
    session: Session,
    actor: Actor,
    flt: BoardFilter,
    status: TaskStatus,
    *,
    today: dt.date,
    offset: int = 0,
    limit: int = PAGE,
) -> BoardColumn:
    """One page of one column: open columns soonest due first (then most
    urgent), the completed one latest first; with a capped count."""
    if status not in COLUMNS:
        raise BadInput(f"the board has no '{status}' column")
    if offset < 0 or limit <= 0:
        raise BadInput("offset must be >= 0 and limit > 0")
    conds = _conditions(session, actor, flt, status, today=today)
    stmt = card_select(today).where(*conds).order_by(*_order(status)).offset(offset).limit(limit)
    cards = [card_of(r._mapping, today) for r in session.execute(stmt)]
    if len(cards) < limit and (cards or offset == 0):
        return BoardColumn(
            status=status, cards=cards, total=offset + len(cards), total_exact=True, offset=offset
        )
    # At most COUNT_CAP + 1 rows are counted, however large the book.
    matching = (
        sa.select(CSTask.id)
        .join(Customer, Customer.id == CSTask.customer_id)
        .where(*conds)
        .limit(COUNT_CAP + 1)
    )
    total = session.scalar(sa.select(sa.func.count()).select_from(matching.subquery())) or 0
    exact = total <= COUNT_CAP
    return BoardColumn(
        status=status, cards=cards, total=total if exact else COUNT_CAP, total_exact=exact, offset=offset
    )


def board(
    session: Session, actor: Actor, flt: BoardFilter, *, today: dt.date, limit: int = PAGE
) -> list[BoardColumn]:
    """The first page of every column."""
    return [board_column(session, actor, flt, status, today=today, limit=limit) for status in COLUMNS]


def assignable_users(session: Session, actor: Actor, task_ids: list[int]) -> list[Assignee]:
    """Active users these tasks may be given to: for an admin anyone; else the
    actor, their team, and the customer's CSM when every task shares one."""
    csms: set[int | None] = set()
    if task_ids and actor.role != Role.ADMIN:
        csms = set(
            session.scalars(
                sa.select(Customer.csm_id)
                .join(CSTask, CSTask.customer_id == Customer.id)
                .where(CSTask.id.in_(task_ids))
                .distinct()
            )
        )
    return assignable_to(session, actor, csms)


def assignable_to(session: Session, actor: Actor, csms: set[int | None]) -> list[Assignee]:
    """Active users work on customers with these CSMs may be given to: for an
    admin anyone; else the actor, their team, and the CSM when there is one."""
    conds: list[sa.ColumnElement[bool]] = [User.is_active.is_(True)]
    if actor.role != Role.ADMIN:
        allowed: list[sa.ColumnElement[bool]] = []
        if actor.user_id is not None:
            allowed.append(User.id == actor.user_id)
        if actor.team_id is not None:
            allowed.append(User.team_id == actor.team_id)
        if len(csms) == 1 and None not in csms:
            allowed.append(User.id == next(iter(csms)))
        if not allowed:
            return []
        conds.append(sa.or_(*allowed))
    rows = session.execute(
        sa.select(User.id, User.name, User.email, User.role).where(*conds).order_by(User.name, User.id)
    )
    return [Assignee(id=r.id, name=r.name, email=r.email, role=Role(r.role)) for r in rows]


def playbook_keys(session: Session, actor: Actor) -> list[tuple[str, str]]:
    """(key, name) of every playbook, for the board's playbook filter."""
    rows = session.execute(sa.select(Playbook.key, Playbook.name).order_by(Playbook.name, Playbook.key))
    return [(r.key, r.name) for r in rows]


def _conditions(
    session: Session, actor: Actor, flt: BoardFilter, status: TaskStatus, *, today: dt.date
) -> list[sa.ColumnElement[bool]]:
    conds = task_conditions(session, actor, flt, (status,), today=today)
    if status == TaskStatus.COMPLETED:
        since = dt.datetime.combine(today - dt.timedelta(days=RECENT_DAYS - 1), dt.time(), tzinfo=dt.UTC)
        conds.append(CSTask.completed_at >= since)
    return conds


def task_conditions(
    session: Session,
    actor: Actor,
    flt: BoardFilter,
    statuses: tuple[TaskStatus, ...],
    *,
    today: dt.date,
) -> list[sa.ColumnElement[bool]]:
    """The board's conditions on tasks joined to customers: the scope the
    role allows, the filters and the search, for these statuses (the
    completed column adds its week). The team view counts with them, so its
    numbers are the board's."""
    if flt.scope not in SCOPES:
        raise BadInput(f"the scope is one of {', '.join(SCOPES)}, not '{flt.scope}'")
    if flt.scope not in scopes_for(actor.role):
        raise NotPermitted(f"the {flt.scope} scope is not open to a {actor.role.value}")
    task_filter = TaskFilter(
        mine=flt.scope == "mine",
        assignee=flt.owner,
        statuses=statuses,
        priorities=(flt.priority,) if flt.priority else (),
        types=(flt.task_type,) if flt.task_type else (),
        due=flt.due,
        playbook=flt.playbook,
        include_snoozed=flt.include_snoozed,
    )
    conds = conditions(session, actor, task_filter, today=today)
    if flt.scope == "team":
        conds.append(_team(actor))
    words = flt.search.split()
    for word in words:
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conds.append(
            sa.or_(
                Customer.external_id.ilike(pattern, escape="\\"),
                Customer.name.ilike(pattern, escape="\\"),
                CSTask.title.ilike(pattern, escape="\\"),
            )
        )
    return conds


def _team(actor: Actor) -> sa.ColumnElement[bool]:
    """Tasks assigned to the actor or their team, or of customers they or their team own."""
    people: list[sa.ColumnElement[bool]] = []
    owners: list[sa.ColumnElement[bool]] = []
    if actor.user_id is not None:
        people.append(CSTask.assigned_to_user_id == actor.user_id)
        owners.append(Customer.csm_id == actor.user_id)
    if actor.team_id is not None:
        team = sa.select(User.id).where(User.team_id == actor.team_id)
        people.append(CSTask.assigned_to_user_id.in_(team))
        owners.append(Customer.csm_id.in_(team))
    return sa.or_(*people, *owners) if people or owners else sa.false()


def _order(status: TaskStatus) -> list[sa.ColumnElement]:
    if status == TaskStatus.COMPLETED:
        return [CSTask.completed_at.desc().nulls_last(), CSTask.id.desc()]
    urgency = sa.case(*((CSTask.priority == p, rank) for p, rank in _URGENCY.items()), else_=9)
    return [CSTask.due_date.asc().nulls_last(), urgency, CSTask.id]


def card_select(today: dt.date) -> sa.Select:
    """The columns of a card (the task, its customer and the customer's
    health as of `today`, an override in force winning), tasks joined to
    customers; the caller adds the conditions and the order."""
    override = active_overrides(today)
    return (
        sa.select(
            CSTask.id,
            Customer.external_id.label("customer"),
            Customer.name.label("customer_name"),
            CSTask.title,
            CSTask.task_type,
            CSTask.priority,
            CSTask.status,
            CSTask.due_date,
            User.email.label("assignee"),
            Playbook.key.label("playbook"),
            CSTask.blocked_reason,
            CSTask.completed_at,
            CSTask.snoozed_until,
            CSTask.outcome,
            Customer.arr,
            Customer.renewal_date,
            sa.func.coalesce(override.c.overall_score, HealthScore.overall_score).label("health_score"),
            sa.func.coalesce(override.c.health_status, HealthScore.health_status).label("health_status"),
            override.c.customer_id.is_not(None).label("health_overridden"),
        )
        .join(Customer, Customer.id == CSTask.customer_id)
        .outerjoin(User, User.id == CSTask.assigned_to_user_id)
        .outerjoin(Playbook, Playbook.id == CSTask.playbook_id)
        .outerjoin(HealthScore, HealthScore.customer_id == CSTask.customer_id)
        .outerjoin(override, override.c.customer_id == CSTask.customer_id)
    )


CARD_FIELDS = frozenset(BoardCard.__dataclass_fields__) - {"overdue"}


def card_of(mapping: Mapping[str, Any], today: dt.date) -> BoardCard:
    """A card from a row of `card_select` (other columns are left out)."""
    fields = {k: v for k, v in mapping.items() if k in CARD_FIELDS}
    status = TaskStatus(fields["status"])
    health = fields["health_status"]
    snoozed = fields["snoozed_until"]
    fields["snoozed_until"] = snoozed if snoozed is not None and snoozed > today else None
    return BoardCard(
        **{
            **fields,
            "status": status,
            "task_type": TaskType(fields["task_type"]),
            "priority": Priority(fields["priority"]),
            "health_status": HealthStatus(health) if health else None,
            "health_overridden": bool(fields["health_overridden"]),
            "outcome": TaskOutcome(fields["outcome"]) if fields["outcome"] else None,
        },
        overdue=fields["due_date"] is not None and fields["due_date"] < today and status in OPEN,
    )
