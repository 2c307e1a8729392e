"""Changing tasks set-based: one change applied to the tasks named by ID or
matched by a filter, with a fixed number of statements per batch of tasks
(the events, the audit entries and, on completion, the touchpoints are each
one INSERT ... SELECT; the change itself one UPDATE), never one per task.

Named tasks must all exist, be visible and be able to make the change, or
nothing is written. Tasks matched by a filter that cannot make the change
(a blocked task cannot be completed) are skipped and counted.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.models import CSTask, Customer, Touchpoint
from cs_cli.db.models.touchpoints import own_external_id
from cs_cli.domain import Actor, Channel, Direction, Role, TaskChangeResult, TaskStatus, TaskType
from cs_cli.errors import BadInput, NotFound, NotPermitted
from cs_cli.services import events
from cs_cli.services.audit import audit_many
from cs_cli.services.playbooks import runs as playbook_runs
from cs_cli.services.tasks.selection import CLOSED, TaskFilter, conditions

# Ids per statement: well inside SQLite's limit on bound parameters.
BATCH = 5000

# A completed customer-facing task is also a touchpoint: its kind and channel.
TOUCHPOINT_OF = {
    TaskType.CALL: ("call", Channel.PHONE),
    TaskType.MEETING: ("meeting", Channel.VIDEO),
    TaskType.EMAIL: ("email_sent", Channel.EMAIL),
}


@dataclass(frozen=True)
class Target:
    """The tasks a change is for: named by `ids`, or matched by `filter`."""

    ids: tuple[int, ...] = ()
    filter: TaskFilter | None = None

    def __post_init__(self) -> None:
        if bool(self.ids) == (self.filter is not None):
            raise BadInput("name task IDs or give a filter, not both and not neither")


@dataclass(frozen=True)
class Change:
    """One change: the states it may start from, the new column values
    (literals or SQL over `cs_tasks` as it was), and what it records."""

    verb: str
    allowed: frozenset[TaskStatus]
    # The state it leads to, for messages; None when the state stays.
    to: str | None
    values: dict[str, Any]
    event: str | None
    # Event and audit data beyond task_id and the statuses: literals or SQL.
    data: dict[str, Any] = field(default_factory=dict)
    also: tuple[str, ...] = ()
    # Completion of a customer-facing task: notes and minutes for its touchpoint.
    touchpoint: dict[str, Any] | None = None
    # Closing tasks of a playbook run may end the run.
    settle: bool = False
    # Assignment: the new assignee's id and team (checked against the actor).
    assign_to: tuple[int, int | None] | None = None


@dataclass(frozen=True)
class Plan:
    """The tasks a change would act on, before it does."""

    ids: list[int]
    skipped: dict[str, int]


def plan(
    session: Session, actor: Actor, target: Target, change: Change, *, today: dt.date, lock: bool = False
) -> Plan:
    """Which tasks of the target can make the change. Named tasks that are
    missing, invisible or cannot make it are an error; filtered ones are skipped."""
    if target.filter is not None:
        flt = target.filter
    else:
        flt = TaskFilter(ids=target.ids, statuses=tuple(TaskStatus), include_snoozed=True)
    stmt = (
        sa.select(CSTask.id, CSTask.status, Customer.csm_id)
        .join(Customer, Customer.id == CSTask.customer_id)
        .where(*conditions(session, actor, flt, today=today))
        .order_by(CSTask.id)
    )
    if lock:
        stmt = stmt.with_for_update(of=CSTask)
    rows = session.execute(stmt).all()
    if target.ids:
        missing = sorted(set(target.ids) - {r.id for r in rows})
        if missing:
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            raise NotFound(f"task {missing[0]} not found{more}")
    legal = [r for r in rows if r.status in change.allowed]
    illegal = [r for r in rows if r.status not in change.allowed]
    if target.ids and illegal:
        first = illegal[0]
        more = f" (and {len(illegal) - 1} more)" if len(illegal) > 1 else ""
        states = " or ".join(s for s in TaskStatus if s in change.allowed)
        status = TaskStatus(first.status)
        raise BadInput(
            illegal_message(change, first.id, status) + more,
            hint=None if change.to == status else f"{change.verb} needs a task that is {states}",
        )
    if change.assign_to is not None:
        check_assignment(actor, change.assign_to, [r.csm_id for r in legal])
    skipped = Counter(str(TaskStatus(r.status).value) for r in illegal)
    return Plan(ids=[r.id for r in legal], skipped=dict(sorted(skipped.items())))


def illegal_message(change: Change, task_id: int, status: TaskStatus) -> str:
    """One line naming the task, its state and the state it cannot reach."""
    # Already there says more than "final": completing a completed task.
    if change.to == status:
        return f"task {task_id} is already {status}"
    if status in CLOSED:
        what = f"{status} -> {change.to} is not allowed" if change.to else f"it is {status}"
        return f"cannot {change.verb} task {task_id}: {what} ({status} is final)"
    if len(change.allowed) == 1:
        return f"cannot {change.verb} task {task_id}: it is {status}, not {next(iter(change.allowed))}"
    return f"cannot {change.verb} task {task_id}: {status} -> {change.to} is not allowed"


def check_assignment(actor: Actor, assign_to: tuple[int, int | None], csm_ids: list[int | None]) -> None:
    """Outside admins, tasks go to the actor, their team, or the customer's own CSM."""
    user_id, team_id = assign_to
    if actor.role == Role.ADMIN or user_id == actor.user_id:
        return
    if actor.team_id is not None and team_id == actor.team_id:
        return
    if all(csm_id == user_id for csm_id in csm_ids):
        return
    raise NotPermitted(
        "you can assign tasks to yourself, your team or the customer's CSM",
        hint="a manager or an admin can assign it elsewhere",
    )


def apply(
    session: Session, actor: Actor, target: Target, change: Change, *, today: dt.date, now: dt.datetime
) -> TaskChangeResult:
    """Make the change to every task of the target that can make it, with its
    events, audit entries and touchpoints, in the caller's transaction."""
    found = plan(session, actor, target, change, today=today, lock=True)
    touchpoints = 0
    runs: set[int] = set()
    for start in range(0, len(found.ids), BATCH):
        batch = found.ids[start : start + BATCH]
        if change.touchpoint is not None:
            touchpoints += _log_touchpoints(session, actor, batch, change.touchpoint, now=now)
        data = _json(session, {"task_id": CSTask.id, "from_status": CSTask.status, **change.data})
        for event_type in filter(None, (change.event, *change.also)):
            events.record_from_select(
                session,
                actor,
                event_type,
                sa.select(CSTask.customer_id, data).where(CSTask.id.in_(batch)),
                occurred_at=now,
            )
        _audit(session, actor, f"task.{change.verb}", batch, change, now=now)
        if change.settle:
            runs.update(
                session.scalars(
                    sa.select(CSTask.playbook_run_id)
                    .where(CSTask.id.in_(batch), CSTask.playbook_run_id.is_not(None))
                    .distinct()
                )
            )
        session.execute(
            sa.update(CSTask)
            .where(CSTask.id.in_(batch))
            .values(**change.values, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    # ORM objects loaded earlier in this session must not shadow the new rows.
    session.expire_all()
    if runs:
        playbook_runs.settle_runs(session, sorted(runs), now=now)
    return TaskChangeResult(
        action=change.verb, changed=found.ids, skipped=found.skipped, touchpoints=touchpoints
    )


def _sql(value: Any) -> Any:
    """A value for a SELECT list: SQL as it is, Python values bound with a type."""
    if _is_sql(value):
        return value
    if value is None:
        return sa.null()
    if isinstance(value, bool):
        return sa.literal(value, sa.Boolean)
    if isinstance(value, int):
        return sa.literal(value, sa.Integer)
    if isinstance(value, float):
        return sa.literal(value, sa.Float)
    if isinstance(value, Enum):
        return sa.literal(str(value.value), sa.String)
    if isinstance(value, dt.date | dt.datetime):
        return sa.literal(value.isoformat(), sa.String)
    return sa.literal(str(value), sa.String)


def _json(session: Session, pairs: dict[str, Any]) -> sa.ColumnElement:
    return dialect.json_object(session, {k: _sql(v) for k, v in pairs.items()})


def _audit(
    session: Session, actor: Actor, action: str, batch: list[int], change: Change, *, now: dt.datetime
) -> None:
    """One audit entry per task of the batch, in one statement (the hash
    chain is made in Python: neither database hashes alike). Read before
    the change: `from_status` and the change's column values are the old
    ones."""
    wanted = dict(change.data)
    if change.to:
        wanted["to_status"] = change.values.get("status", change.to)
    read = {k: v for k, v in wanted.items() if _is_sql(v)}
    rows = session.execute(
        sa.select(CSTask.id, CSTask.customer_id, CSTask.status, *(v.label(f"d_{k}") for k, v in read.items()))
        .where(CSTask.id.in_(batch))
        .order_by(CSTask.id)
    ).all()
    entries = []
    for row in rows:
        data = {k: (getattr(row, f"d_{k}") if k in read else v) for k, v in wanted.items()}
        details = {"from_status": _plain(row.status), **{k: _plain(v) for k, v in data.items()}}
        entries.append((action, "task", row.id, row.customer_id, details))
    audit_many(session, actor, entries, at=now)


def _is_sql(value: Any) -> bool:
    return isinstance(value, sa.ColumnElement) or hasattr(value, "__clause_element__")


def _plain(value: Any) -> Any:
    """A value as the JSON of an audit entry holds it."""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def _log_touchpoints(
    session: Session, actor: Actor, batch: list[int], spec: dict[str, Any], *, now: dt.datetime
) -> int:
    """The touchpoint of each completed call, meeting or email, and its
    touchpoint.logged event."""
    table = Touchpoint.__table__
    kind = sa.case(
        *((CSTask.task_type == t, sa.literal(k, sa.String)) for t, (k, _) in TOUCHPOINT_OF.items())
    )
    channel = sa.case(
        *((CSTask.task_type == t, sa.literal(c.value, sa.String)) for t, (_, c) in TOUCHPOINT_OF.items())
    )
    values = {
        # Set below, one for each: INSERT ... SELECT would give every row the
        # one value the model's default makes.
        "external_id": sa.null(),
        "customer_id": CSTask.customer_id,
        "touchpoint_type": kind,
        "subject": CSTask.title,
        "description": _sql(spec.get("notes")),
        "direction": sa.literal(Direction.OUTBOUND.value, sa.String),
        "channel": channel,
        "user_id": sa.func.coalesce(CSTask.assigned_to_user_id, _sql(actor.user_id)),
        "task_id": CSTask.id,
        "duration_minutes": _sql(spec.get("minutes")),
        "occurred_at": sa.literal(now, table.c.occurred_at.type),
        "created_at": sa.literal(now, table.c.created_at.type),
    }
    source = sa.select(*values.values()).where(
        CSTask.id.in_(batch), CSTask.task_type.in_(list(TOUCHPOINT_OF))
    )
    logged = session.execute(
        sa.insert(table)
        .from_select(list(values), source)
        .returning(
            table.c.id,
            table.c.customer_id,
            table.c.touchpoint_type,
            table.c.task_id,
            table.c.subject,
            table.c.description,
        )
    ).all()
    texts: list[dict[str, Any]] = []
    if logged:
        from cs_cli.services.text.reading import read_record
        from cs_cli.services.text.sentiment import analyser_for

        # Read as a touchpoint logged by hand is: its sentiment and key topics now.
        analyser = spec.get("analyser") or analyser_for()
        texts = [read_record(analyser, r.subject, r.description) for r in logged]
        session.execute(
            sa.update(table)
            .where(table.c.id == sa.bindparam("touchpoint"))
            .values(
                external_id=sa.bindparam("own_id"),
                **{column: sa.bindparam(f"text_{column}") for column in texts[0]},
            ),
            [
                {
                    "touchpoint": r.id,
                    "own_id": own_external_id(),
                    **{f"text_{column}": value for column, value in text.items()},
                }
                for r, text in zip(logged, texts, strict=True)
            ],
        )
    events.record_many(
        session,
        actor,
        "touchpoint.logged",
        [
            (
                r.customer_id,
                {
                    "touchpoint_id": r.id,
                    "touchpoint_type": str(r.touchpoint_type),
                    "task_id": r.task_id,
                    "sentiment": text["sentiment_label"].value if text["sentiment_label"] else None,
                },
            )
            for r, text in zip(logged, texts, strict=True)
        ],
        occurred_at=now,
    )
    return len(logged)
