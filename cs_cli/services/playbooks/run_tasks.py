"""The tasks of new playbook runs, for any number of runs at once: one
INSERT ... SELECT of the new runs joined with a small plan table (one row per
step occurrence, so a weekly step for four weeks gives four rows), the
customers' assignees and the rendered texts (texts.py).

Assignees come from the step's role, through the customer's CSM:
  csm        the CSM; if deactivated, the first active manager above them
  manager    the first active manager above the CSM
  executive  the topmost active person above the CSM in the management chain
With no such person (or `auto_assign: false`) the task stays unassigned and
keeps the role in assigned_to_role, for a manager to hand out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli import templates
from cs_cli.db import dialect
from cs_cli.db.base import UTCDateTime
from cs_cli.db.models import (
    CSTask,
    Customer,
    Playbook,
    PlaybookRun,
    PlaybookStep,
    User,
)
from cs_cli.domain import (
    Actor,
    PlaybookStepType,
    TaskStatus,
    TaskType,
)
from cs_cli.services import events
from cs_cli.services.playbooks.texts import join_text, render_step, render_texts, shared_context, step_text
from cs_cli.specs.playbook import PERIOD_WEEKS, SHARED_NAMES, Recurrence


@dataclass(frozen=True)
class NewRun:
    run_id: int
    playbook_id: int
    customer_id: int


TASK_TYPE = {
    PlaybookStepType.CALL: TaskType.CALL,
    PlaybookStepType.EMAIL: TaskType.EMAIL,
    PlaybookStepType.MEETING: TaskType.MEETING,
    PlaybookStepType.INTERNAL_TASK: TaskType.INTERNAL,
    PlaybookStepType.PRODUCT_DEMO: TaskType.MEETING,
    PlaybookStepType.TRAINING: TaskType.MEETING,
    PlaybookStepType.REVIEW: TaskType.REVIEW,
    PlaybookStepType.ESCALATION: TaskType.ESCALATION,
    PlaybookStepType.CUSTOM: TaskType.CUSTOM,
}


def _scratch() -> dict[str, sa.Table]:
    """Tables that live for one `create_tasks`: the new runs, the plan of
    step occurrences, the assignees per CSM and the per-customer texts."""
    md = sa.MetaData()
    temp = {"prefixes": ["TEMPORARY"]}
    return {
        "runs": sa.Table(
            "cs_new_runs",
            md,
            sa.Column("run_id", sa.Integer, primary_key=True),
            sa.Column("playbook_id", sa.Integer),
            sa.Column("customer_id", sa.Integer),
            **temp,
        ),
        "plan": sa.Table(
            "cs_step_plan",
            md,
            sa.Column("seq", sa.Integer, primary_key=True),
            sa.Column("playbook_id", sa.Integer),
            sa.Column("step_id", sa.Integer),
            sa.Column("title", sa.String(200)),
            sa.Column("task_type", sa.String(20)),
            sa.Column("role", sa.String(50)),
            sa.Column("offset_days", sa.Integer),
            sa.Column("description", sa.Text),
            sa.Column("priority", sa.String(20)),
            sa.Column("auto_assign", sa.Integer),
            **temp,
        ),
        "assignees": sa.Table(
            "cs_assignees",
            md,
            sa.Column("csm_id", sa.Integer, primary_key=True),
            sa.Column("csm", sa.Integer),
            sa.Column("manager", sa.Integer),
            sa.Column("executive", sa.Integer),
            **temp,
        ),
        "texts": sa.Table(
            "cs_step_texts",
            md,
            sa.Column("run_id", sa.Integer, primary_key=True),
            sa.Column("step_id", sa.Integer, primary_key=True),
            sa.Column("description", sa.Text),
            **temp,
        ),
    }


def create_tasks(
    session: Session, actor: Actor, started: Sequence[NewRun], *, as_of: dt.date, now: dt.datetime
) -> int:
    """Create the tasks of new runs (all at once), record playbook.triggered
    for each and count them in times_triggered. Returns the tasks created."""
    if not started:
        return 0
    tables = _scratch()
    connection = session.connection()
    for table in tables.values():
        table.drop(connection, checkfirst=True)
        table.create(connection)
    new_runs, plan, assignees, texts = (tables[k] for k in ("runs", "plan", "assignees", "texts"))
    dialect.append_rows(
        session,
        new_runs,
        ["run_id", "playbook_id", "customer_id"],
        [(r.run_id, r.playbook_id, r.customer_id) for r in started],
    )
    playbook_ids = sorted({r.playbook_id for r in started})
    playbooks = {p.id: p for p in session.scalars(sa.select(Playbook).where(Playbook.id.in_(playbook_ids)))}
    steps = list(
        session.scalars(
            sa.select(PlaybookStep)
            .where(PlaybookStep.playbook_id.in_(playbook_ids), PlaybookStep.is_active)
            .order_by(PlaybookStep.playbook_id, PlaybookStep.step_order)
        )
    )
    plan_rows, dynamic = _plan(playbooks, steps, as_of)
    dialect.append_rows(
        session,
        plan,
        [c.name for c in plan.c],
        plan_rows,
    )
    dialect.append_rows(session, assignees, [c.name for c in assignees.c], _assignee_rows(session, new_runs))
    for playbook_id, playbook_steps in dynamic.items():
        render_texts(session, new_runs, texts, playbooks[playbook_id], playbook_steps, as_of=as_of)

    tasks = CSTask.__table__
    assignee = sa.case(
        (plan.c.role == "csm", assignees.c.csm),
        (plan.c.role == "manager", assignees.c.manager),
        else_=assignees.c.executive,
    )
    values = {
        "customer_id": new_runs.c.customer_id,
        "playbook_id": new_runs.c.playbook_id,
        "playbook_step_id": plan.c.step_id,
        "playbook_run_id": new_runs.c.run_id,
        "title": plan.c.title,
        "description": sa.func.coalesce(texts.c.description, plan.c.description),
        "task_type": plan.c.task_type,
        "assigned_to_user_id": sa.case((plan.c.auto_assign == 1, assignee), else_=sa.null()),
        "assigned_to_role": plan.c.role,
        "priority": plan.c.priority,
        "status": sa.literal(TaskStatus.PENDING.value),
        "due_date": dialect.add_days(session, sa.literal(as_of, sa.Date), plan.c.offset_days),
        "created_at": sa.literal(now, UTCDateTime()),
    }
    source = sa.select(*values.values()).select_from(
        new_runs.join(plan, plan.c.playbook_id == new_runs.c.playbook_id)
        .join(Customer, Customer.id == new_runs.c.customer_id)
        .outerjoin(assignees, assignees.c.csm_id == Customer.csm_id)
        .outerjoin(texts, sa.and_(texts.c.run_id == new_runs.c.run_id, texts.c.step_id == plan.c.step_id))
    )
    if len(started) <= 1000:
        # Ids in step order, for people reading a run's tasks by id; not worth
        # a sort of the whole book's tasks.
        source = source.order_by(new_runs.c.run_id, plan.c.seq)
    session.execute(sa.insert(tasks).from_select(list(values), source))
    per_playbook: dict[int, int] = {}
    for row in plan_rows:
        per_playbook[row[1]] = per_playbook.get(row[1], 0) + 1
    created = sum(per_playbook.get(r.playbook_id, 0) for r in started)

    runs = PlaybookRun.__table__
    data = dialect.json_object(
        session,
        {
            "playbook": Playbook.key,
            "run_id": new_runs.c.run_id,
            "triggered_by": runs.c.triggered_by,
            "reason": runs.c.trigger_reason,
        },
    )
    events.record_from_select(
        session,
        actor,
        "playbook.triggered",
        sa.select(new_runs.c.customer_id, data).select_from(
            new_runs.join(Playbook, Playbook.id == new_runs.c.playbook_id).join(
                runs, runs.c.id == new_runs.c.run_id
            )
        ),
        occurred_at=now,
    )
    count = sa.select(sa.func.count()).where(new_runs.c.playbook_id == Playbook.id).scalar_subquery()
    session.execute(
        sa.update(Playbook)
        .where(Playbook.id.in_(playbook_ids))
        .values(times_triggered=Playbook.times_triggered + count)
        .execution_options(synchronize_session=False)
    )
    for table in tables.values():
        table.drop(connection)
    return created


def _plan(
    playbooks: dict[int, Playbook], steps: list[PlaybookStep], as_of: dt.date
) -> tuple[list[tuple], dict[int, list[tuple[PlaybookStep, str, str]]]]:
    """One row per task each run of a playbook gets, and per playbook its
    steps whose texts read customer fields (rendered per customer later)."""
    rows: list[tuple] = []
    dynamic: dict[int, list[tuple[PlaybookStep, str, str]]] = {}
    for step in steps:
        playbook = playbooks[step.playbook_id]
        template, plain = step_text(step)
        description = plain or None
        if template is not None:
            name = f"{playbook.key} step {step.step_order}"
            if templates.variables(template, name) - SHARED_NAMES - set(templates.environment().globals):
                dynamic.setdefault(playbook.id, []).append((step, template, plain))
                description = None
            else:
                shared = shared_context(playbook, step, as_of)
                description = join_text(render_step(playbook, step, template, shared), plain)
        recurring = Recurrence(step.recurring) if step.recurring else None
        first = (step.days_from_start or 0) + (step.due_days or 0)
        count = step.duration_weeks // PERIOD_WEEKS[recurring] if recurring and step.duration_weeks else 1
        period = 7 * PERIOD_WEEKS[recurring] if recurring else 0
        for k in range(count):
            title = step.name if count == 1 else f"{step.name} ({k + 1} of {count})"
            rows.append(
                (
                    len(rows) + 1,
                    playbook.id,
                    step.id,
                    title,
                    TASK_TYPE[step.step_type].value,
                    step.default_assignee_role or "csm",
                    first + k * period,
                    description,
                    playbook.priority.value,
                    1 if playbook.auto_assign else 0,
                )
            )
    return rows, dynamic


def _assignee_rows(session: Session, new_runs: sa.Table) -> list[tuple]:
    """Per CSM of the new runs' customers: who gets csm, manager and
    executive tasks (see the module's docstring)."""
    csm_ids = session.scalars(
        sa.select(Customer.csm_id)
        .distinct()
        .join(new_runs, new_runs.c.customer_id == Customer.id)
        .where(Customer.csm_id.is_not(None))
    ).all()
    return [(csm_id, *who) for csm_id, who in assignees_by_role(session, csm_ids).items()]


def assignees_by_role(session: Session, csm_ids: Sequence[int]) -> dict[int, tuple[int | None, ...]]:
    """For each CSM: who gets the tasks meant for the csm, the manager and
    the executive role. Inactive people are passed over: the CSM's task goes
    to the first active person up the management chain, the manager's to the
    first active one above the CSM, the executive's to the top of the chain."""
    if not csm_ids:
        return {}
    users = {
        uid: (manager_id, active)
        for uid, manager_id, active in session.execute(sa.select(User.id, User.manager_id, User.is_active))
    }
    out: dict[int, tuple[int | None, ...]] = {}
    for csm_id in csm_ids:
        chain = [csm_id]
        while (above := users.get(chain[-1], (None, False))[0]) is not None and above not in chain:
            chain.append(above)
        active = [u for u in chain if users.get(u, (None, False))[1]]
        above_csm = [u for u in active if u != csm_id]
        out[csm_id] = (
            active[0] if active else None,
            above_csm[0] if above_csm else None,
            above_csm[-1] if above_csm else None,
        )
    return out
