"""Reading tasks: listings (with a capped count for paging) and the task card."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import CSTask, Customer, Playbook, PlaybookStep, Touchpoint, User
from cs_cli.domain import Actor, Priority, TaskDetail, TaskPage, TaskRow
from cs_cli.errors import BadInput, NotFound
from cs_cli.services.tasks.detail import task_history
from cs_cli.services.tasks.selection import OPEN, TaskFilter, conditions, task_scope

# Beyond this many matching tasks a listing says "more than N" instead of
# counting every row: paging through a huge result needs no exact total.
COUNT_CAP = 10_000

_URGENCY = {Priority.CRITICAL: 0, Priority.HIGH: 1, Priority.MEDIUM: 2, Priority.LOW: 3}
SORT_KEYS = ("due", "priority", "customer", "created")


def _sort_column(key: str) -> sa.ColumnElement:
    if key == "due":
        return CSTask.due_date
    if key == "priority":
        return sa.case(*((CSTask.priority == p, rank) for p, rank in _URGENCY.items()), else_=9)
    if key == "customer":
        return Customer.external_id
    return CSTask.created_at


def _order(sort: str) -> list[sa.ColumnElement]:
    key = sort.lstrip("-")
    if key not in SORT_KEYS:
        raise BadInput(f"cannot sort by '{key}' (choose from: {', '.join(SORT_KEYS)})")
    column = _sort_column(key)
    first = column.desc().nulls_last() if sort.startswith("-") else column.asc().nulls_last()
    then = [] if key == "due" else [CSTask.due_date.asc().nulls_last()]
    return [first, *then, CSTask.id]


def _rows() -> sa.Select:
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
            CSTask.snoozed_until,
            User.email.label("assignee"),
            Playbook.key.label("playbook"),
            CSTask.created_at,
        )
        .join(Customer, Customer.id == CSTask.customer_id)
        .outerjoin(User, User.id == CSTask.assigned_to_user_id)
        .outerjoin(Playbook, Playbook.id == CSTask.playbook_id)
    )


def _row(r, today: dt.date) -> TaskRow:
    return TaskRow(
        **r._mapping,
        overdue=r.due_date is not None and r.due_date < today and r.status in OPEN,
    )


def list_tasks(
    session: Session,
    actor: Actor,
    flt: TaskFilter,
    *,
    today: dt.date,
    sort: str = "due",
    offset: int = 0,
    limit: int | None = 50,
) -> TaskPage:
    """One page of the tasks the actor may see, filtered and sorted (snoozed
    tasks left out until their day unless asked for)."""
    if offset < 0 or (limit is not None and limit <= 0):
        raise BadInput("--offset must be >= 0 and --limit > 0")
    conds = conditions(session, actor, flt, today=today)
    stmt = _rows().where(*conds).order_by(*_order(sort)).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = [_row(r, today) for r in session.execute(stmt)]
    if limit is None or (len(rows) < limit and (rows or offset == 0)):
        return TaskPage(rows=rows, total=offset + len(rows), total_exact=True, offset=offset, limit=limit)
    # Count at most COUNT_CAP + 1 rows: cheap however large the book.
    matching = (
        sa.select(CSTask.id)
        .join(Customer, Customer.id == CSTask.customer_id)
        .where(*conds)
        .limit(COUNT_CAP + 1)
    )
    total = session.scalar(sa.select(sa.func.count()).select_from(matching.subquery())) or 0
    exact = total <= COUNT_CAP
    return TaskPage(
        rows=rows, total=total if exact else COUNT_CAP, total_exact=exact, offset=offset, limit=limit
    )


def rows_for(session: Session, actor: Actor, ids: list[int], *, today: dt.date) -> list[TaskRow]:
    """The listing rows of these tasks, in id order."""
    out: list[TaskRow] = []
    for start in range(0, len(ids), 5000):
        batch = ids[start : start + 5000]
        stmt = _rows().where(task_scope(actor), CSTask.id.in_(batch)).order_by(CSTask.id)
        out.extend(_row(r, today) for r in session.execute(stmt))
    return out


def task_detail(
    session: Session, actor: Actor, task_id: int, *, today: dt.date, history: bool = False
) -> TaskDetail:
    """Everything about one task the actor may see; `history`: with its
    changes in words, as the board's task detail says them (one query more,
    so only `cs tasks show` asks for it, not each change's echo)."""
    stmt = (
        _rows()
        .add_columns(
            CSTask.description,
            CSTask.assigned_to_role,
            CSTask.blocked_reason,
            CSTask.started_at,
            CSTask.completed_at,
            CSTask.outcome,
            CSTask.outcome_notes,
            CSTask.time_spent_minutes,
            Playbook.name.label("playbook_name"),
            CSTask.playbook_run_id,
            PlaybookStep.name.label("playbook_step"),
            CSTask.journey_enrollment_id,
            CSTask.updated_at,
        )
        .outerjoin(PlaybookStep, PlaybookStep.id == CSTask.playbook_step_id)
        .where(CSTask.id == task_id, task_scope(actor))
    )
    found = session.execute(stmt).first()
    if found is None:
        raise NotFound(f"task {task_id} not found")
    fields = dict(found._mapping)
    row_fields = {k: fields.pop(k) for k in list(fields) if k in TaskRow.__dataclass_fields__}
    row = TaskRow(
        **row_fields,
        overdue=row_fields["due_date"] is not None
        and row_fields["due_date"] < today
        and row_fields["status"] in OPEN,
    )
    touchpoints = list(
        session.scalars(sa.select(Touchpoint.id).where(Touchpoint.task_id == task_id).order_by(Touchpoint.id))
    )
    said = []
    if history:
        said = task_history(session, task_id, created_at=row.created_at, playbook=fields["playbook_name"])
    return TaskDetail(row=row, touchpoint_ids=touchpoints, history=said, **fields)
