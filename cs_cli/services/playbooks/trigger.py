"""Starting playbook runs and creating their tasks: for one customer
(`cs playbooks trigger`) or for the whole book at once (`evaluate`), by the
same set-based path.

A run is inserted only when the customer has no active run of the playbook
(a NOT EXISTS, and a partial unique index with ON CONFLICT DO NOTHING for two
evaluations that race) and the playbook's cooldown since the last run ended
has passed. The tasks of all new runs are one INSERT ... SELECT: the new runs
joined with a small plan table (one row per step occurrence, so a weekly step
for four weeks gives four rows), the customers' assignees and the rendered
texts.

Assignees come from the step's role, through the customer's CSM:
  csm        the CSM; if deactivated, the first active manager above them
  manager    the first active manager above the CSM
  executive  the topmost active person above the CSM in the management chain
With no such person (or `auto_assign: false`) the task stays unassigned and
keeps the role in assigned_to_role, for a manager to hand out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from cs_cli import templates
from cs_cli.db import dialect
from cs_cli.db.base import UTCDateTime
from cs_cli.db.models import (
    Contact,
    CSTask,
    Customer,
    HealthScore,
    Playbook,
    PlaybookRun,
    PlaybookStep,
    User,
)
from cs_cli.domain import (
    Actor,
    CustomerStatus,
    PlaybookRunStatus,
    PlaybookStepType,
    RunTask,
    TaskStatus,
    TaskType,
    TriggeredRun,
)
from cs_cli.errors import BadInput, NotFound, TemplateError
from cs_cli.services import events
from cs_cli.services.access import customer_scope
from cs_cli.services.audit import audit
from cs_cli.specs.playbook import PERIOD_WEEKS, SHARED_NAMES, Recurrence

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
RENDER_BATCH = 5_000


@dataclass(frozen=True)
class NewRun:
    run_id: int
    playbook_id: int
    customer_id: int


def trigger(
    session: Session,
    actor: Actor,
    key: str,
    customer: str,
    *,
    reason: str | None,
    force: bool,
    as_of: dt.date,
    now: dt.datetime,
) -> TriggeredRun:
    """Start a run of playbook `key` for one customer (by external id) and
    create its tasks. Refused while a run is active, and within the cooldown
    after the last one ended unless `force`."""
    from cs_cli.services.playbooks.views import run_rows

    playbook = session.scalar(sa.select(Playbook).where(Playbook.key == key))
    if playbook is None:
        raise NotFound(f"no playbook '{key}'", hint="`cs playbooks list` shows them")
    if not playbook.is_active:
        raise BadInput(f"playbook '{key}' is deactivated", hint="load a file that has it again")
    row = session.execute(
        sa.select(Customer.id, Customer.status).where(Customer.external_id == customer, customer_scope(actor))
    ).first()
    if row is None:
        raise NotFound(f"no customer '{customer}'" + ("" if actor.role == "admin" else " that you can see"))
    customer_id, status = row
    if status == CustomerStatus.CHURNED:
        raise BadInput(f"{customer} has churned; playbooks run for active customers")
    runs = PlaybookRun
    active = session.execute(
        sa.select(runs.id, runs.started_at).where(
            runs.playbook_id == playbook.id,
            runs.customer_id == customer_id,
            runs.status == PlaybookRunStatus.ACTIVE,
        )
    ).first()
    if active is not None:
        raise BadInput(
            f"{customer} already has an active run of {key} "
            f"(run {active.id}, started {active.started_at:%Y-%m-%d})",
            hint=f"cancel it first with `cs playbooks cancel {active.id}`",
        )
    if playbook.cooldown_days and not force:
        ended = session.scalar(
            sa.select(sa.func.max(runs.completed_at)).where(
                runs.playbook_id == playbook.id,
                runs.customer_id == customer_id,
                runs.status != PlaybookRunStatus.ACTIVE,
            )
        )
        if ended is not None and ended >= now - dt.timedelta(days=playbook.cooldown_days):
            until = (ended + dt.timedelta(days=playbook.cooldown_days)).date()
            raise BadInput(
                f"{customer}'s last run of {key} ended on {ended:%Y-%m-%d}; "
                f"its cooldown of {playbook.cooldown_days} days lasts until {until}",
                hint="--force starts it anyway",
            )
    candidates = sa.select(Customer.id.label("customer_id"), _baseline()).outerjoin(
        HealthScore, HealthScore.customer_id == Customer.id
    )
    started = insert_runs(
        session,
        playbook,
        candidates.where(Customer.id == customer_id),
        kind="manual",
        reason=reason or "manual",
        now=now,
        cooldown=not force,
    )
    if not started:
        raise BadInput(f"another run of {key} for {customer} started at the same moment")
    create_tasks(session, actor, started, as_of=as_of, now=now)
    run_id = started[0].run_id
    audit(
        session,
        actor,
        "playbook.triggered",
        "playbook_run",
        run_id,
        at=now,
        customer_id=customer_id,
        details={"playbook": key, "reason": reason, "force": force},
    )
    session.flush()
    run = run_rows(session, actor, run_ids=[run_id])[0]
    return TriggeredRun(run=run, tasks=_run_tasks(session, run_id))


def _baseline() -> sa.ColumnElement:
    return HealthScore.overall_score.label("baseline")


def insert_runs(
    session: Session,
    playbook: Playbook,
    candidates: sa.Select,
    *,
    kind: str,
    reason: str,
    now: dt.datetime,
    cooldown: bool = True,
) -> list[NewRun]:
    """Insert a run of `playbook` for each candidate (a SELECT of customer_id
    and baseline), except customers with an active run of it or, with
    `cooldown`, one that ended within its cooldown days."""
    runs = PlaybookRun.__table__
    cand = candidates.subquery("candidates")
    other = runs.alias("other")
    same = sa.and_(other.c.playbook_id == playbook.id, other.c.customer_id == cand.c.customer_id)
    conditions = [~sa.exists().where(same, other.c.status == PlaybookRunStatus.ACTIVE.value)]
    if cooldown and playbook.cooldown_days:
        since = now - dt.timedelta(days=playbook.cooldown_days)
        conditions.append(
            ~sa.exists().where(
                same,
                other.c.status != PlaybookRunStatus.ACTIVE.value,
                other.c.completed_at >= sa.literal(since, UTCDateTime()),
            )
        )
    values = {
        "playbook_id": sa.literal(playbook.id),
        "customer_id": cand.c.customer_id,
        "status": sa.literal(PlaybookRunStatus.ACTIVE.value),
        "triggered_by": sa.literal(kind),
        "trigger_reason": sa.literal(reason),
        "started_at": sa.literal(now, UTCDateTime()),
        "baseline_health_score": cand.c.baseline,
        "created_at": sa.literal(now, UTCDateTime()),
    }
    stmt = (
        dialect.insert_for(session, runs)
        .from_select(list(values), sa.select(*values.values()).where(*conditions))
        .on_conflict_do_nothing()
        .returning(runs.c.id, runs.c.playbook_id, runs.c.customer_id)
    )
    return [NewRun(*row) for row in session.execute(stmt)]


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
        _render_texts(session, new_runs, texts, playbooks[playbook_id], playbook_steps, as_of=as_of)

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


def _parts(step: PlaybookStep) -> list[tuple[str, str]]:
    """The step's templates, by the key the file names them with."""
    return [
        (key, text)
        for key, text in (
            ("description", step.description),
            ("meeting_agenda", step.meeting_agenda_template),
            ("talk_track", step.talk_track),
        )
        if text
    ]


def step_text(step: PlaybookStep) -> tuple[str | None, str]:
    """A step's task description: the template part (description, agenda,
    talk track, rendered as one) and the plain part after it (email
    template, artifacts, success criteria), which is never rendered."""
    headings = {"description": "", "meeting_agenda": "Agenda:\n", "talk_track": "Talk track:\n"}
    parts = [headings[key] + text.rstrip("\n") for key, text in _parts(step)]
    plain = []
    if step.email_template:
        plain.append(f"Email template: {step.email_template}")
    if step.required_artifacts:
        plain.append("Artifacts: " + ", ".join(step.required_artifacts))
    if step.success_criteria:
        plain.append("Success: " + describe_criteria(step.success_criteria))
    return ("\n\n".join(parts) or None), "\n".join(plain)


def describe_criteria(criteria: dict[str, Any]) -> str:
    words = []
    if "health_score_increase" in criteria:
        words.append(f"health score up {criteria['health_score_increase']} points from the start")
    if "health_score_at_least" in criteria:
        words.append(f"health score at least {criteria['health_score_at_least']}")
    text = " and ".join(words)
    if "within_days" in criteria:
        text += f" within {criteria['within_days']} days"
    return text


def _join(rendered: str | None, plain: str) -> str | None:
    text = "\n\n".join(p for p in (rendered, plain) if p)
    return text or None


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
                shared = _shared_context(playbook, step, as_of)
                description = _join(_render(playbook, step, template, shared), plain)
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


def _render(playbook: Playbook, step: PlaybookStep, template: Any, context: dict[str, Any]) -> str:
    """A step's composed template rendered; an error names the step's own
    template (description, meeting_agenda or talk_track) and its line."""
    name = f"{playbook.key} step {step.step_order}"
    try:
        if isinstance(template, str):
            return templates.render(template, context, name=name)
        return templates.render_compiled(template, context, name=name)
    except TemplateError:
        for key, text in _parts(step):
            templates.render(text, context, name=f"{name} {key}")
        raise


def _shared_context(playbook: Playbook, step: PlaybookStep, as_of: dt.date) -> dict[str, Any]:
    return {
        "playbook": {"key": playbook.key, "name": playbook.name},
        "step": {"order": step.step_order, "name": step.name},
        "today": as_of,
    }


def _assignee_rows(session: Session, new_runs: sa.Table) -> list[tuple]:
    """Per CSM of the new runs' customers: who gets csm, manager and
    executive tasks (see the module's docstring)."""
    csm_ids = session.scalars(
        sa.select(Customer.csm_id)
        .distinct()
        .join(new_runs, new_runs.c.customer_id == Customer.id)
        .where(Customer.csm_id.is_not(None))
    ).all()
    if not csm_ids:
        return []
    users = {
        uid: (manager_id, active)
        for uid, manager_id, active in session.execute(sa.select(User.id, User.manager_id, User.is_active))
    }
    rows = []
    for csm_id in csm_ids:
        chain = [csm_id]
        while (above := users.get(chain[-1], (None, False))[0]) is not None and above not in chain:
            chain.append(above)
        active = [u for u in chain if users.get(u, (None, False))[1]]
        above_csm = [u for u in active if u != csm_id]
        rows.append(
            (
                csm_id,
                active[0] if active else None,
                above_csm[0] if above_csm else None,
                above_csm[-1] if above_csm else None,
            )
        )
    return rows


def _render_texts(
    session: Session,
    new_runs: sa.Table,
    texts: sa.Table,
    playbook: Playbook,
    steps: list[tuple[PlaybookStep, str, str]],
    *,
    as_of: dt.date,
) -> None:
    """Render the customer-dependent texts of `playbook`'s new runs, a batch
    of runs at a time, into the texts table."""
    compiled = [
        (step, templates.compile_template(text, f"{playbook.key} step {step.step_order}"), plain)
        for step, text, plain in steps
    ]
    wanted = set().union(*(templates.variables(text) for _, text, _ in steps))
    needs_attributes = any("attributes" in text for _, text, _ in steps)
    for batch in _context_batches(session, new_runs, playbook.id, wanted, needs_attributes, as_of):
        rows = []
        for run_id, context in batch:
            context["playbook"] = {"key": playbook.key, "name": playbook.name}
            context["today"] = as_of
            for step, template, plain in compiled:
                context["step"] = {"order": step.step_order, "name": step.name}
                rendered = _render(playbook, step, template, context)
                rows.append((run_id, step.id, _join(rendered, plain)))
        dialect.append_rows(session, texts, ["run_id", "step_id", "description"], rows)


def _context_batches(
    session: Session,
    new_runs: sa.Table,
    playbook_id: int,
    wanted: set[str],
    needs_attributes: bool,
    as_of: dt.date,
) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    """The template context of each new run of a playbook, in batches."""
    csm = aliased(User)
    columns = [
        new_runs.c.run_id,
        Customer.external_id,
        Customer.name,
        Customer.arr,
        Customer.plan,
        Customer.seats,
        Customer.industry,
        Customer.region,
        Customer.renewal_date,
        Customer.contract_start,
        Customer.attributes if needs_attributes else sa.null().label("attributes"),
        HealthScore.overall_score,
        HealthScore.health_status,
        HealthScore.score_trend,
        HealthScore.score_change_30d,
        csm.name.label("csm_name"),
        csm.email.label("csm_email"),
        PlaybookRun.trigger_reason,
        PlaybookRun.started_at,
        PlaybookRun.baseline_health_score,
    ]
    source = (
        new_runs.join(Customer, Customer.id == new_runs.c.customer_id)
        .join(PlaybookRun, PlaybookRun.id == new_runs.c.run_id)
        .outerjoin(HealthScore, HealthScore.customer_id == Customer.id)
        .outerjoin(csm, csm.id == Customer.csm_id)
    )
    people = {"champion": Contact.is_champion, "sponsor": Contact.is_exec_sponsor}
    for role in [r for r in people if r in wanted]:
        first = (
            sa.select(Contact.customer_id, sa.func.min(Contact.id).label("id"))
            .join(new_runs, new_runs.c.customer_id == Contact.customer_id)
            .where(people[role], Contact.left_at.is_(None), new_runs.c.playbook_id == playbook_id)
            .group_by(Contact.customer_id)
            .subquery(f"{role}_first")
        )
        person = aliased(Contact, name=role)
        source = source.outerjoin(first, first.c.customer_id == Customer.id).outerjoin(
            person, person.id == first.c.id
        )
        columns += [
            person.name.label(f"{role}_name"),
            person.email.label(f"{role}_email"),
            person.title.label(f"{role}_title"),
        ]
    last = 0
    while True:
        rows = session.execute(
            sa.select(*columns)
            .select_from(source)
            .where(new_runs.c.playbook_id == playbook_id, new_runs.c.run_id > last)
            .order_by(new_runs.c.run_id)
            .limit(RENDER_BATCH)
        ).all()
        if not rows:
            return
        last = rows[-1].run_id
        yield [(row.run_id, _context(row, as_of)) for row in rows]


def _context(row: Any, as_of: dt.date) -> dict[str, Any]:
    mapping = row._mapping
    context = {
        "customer": {
            "external_id": row.external_id,
            "name": row.name,
            "arr": row.arr,
            "plan": row.plan,
            "seats": row.seats,
            "industry": row.industry,
            "region": row.region,
            "renewal_date": row.renewal_date,
            "contract_start": row.contract_start,
            "days_to_renewal": (row.renewal_date - as_of).days if row.renewal_date else None,
            "attributes": row.attributes or {},
        },
        "health": {
            "overall_score": row.overall_score,
            "health_status": row.health_status,
            "score_trend": row.score_trend,
            "score_change_30d": row.score_change_30d,
        },
        "csm": {"name": row.csm_name, "email": row.csm_email},
        "run": {
            "reason": row.trigger_reason,
            "started_on": row.started_at.date(),
            "baseline_health_score": row.baseline_health_score,
        },
    }
    for role in ("champion", "sponsor"):
        if f"{role}_name" in mapping:
            context[role] = {
                "name": mapping[f"{role}_name"],
                "email": mapping[f"{role}_email"],
                "title": mapping[f"{role}_title"],
            }
    return context


def _run_tasks(session: Session, run_id: int) -> list[RunTask]:
    rows = session.execute(
        sa.select(
            CSTask.id,
            CSTask.title,
            CSTask.task_type,
            CSTask.due_date,
            User.email,
            CSTask.assigned_to_role,
        )
        .outerjoin(User, User.id == CSTask.assigned_to_user_id)
        .where(CSTask.playbook_run_id == run_id)
        .order_by(CSTask.id)
    )
    return [RunTask(*row) for row in rows]
