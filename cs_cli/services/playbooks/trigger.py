"""Starting playbook runs: for one customer (`cs playbooks trigger`) or
for the whole book at once (`evaluate`), by the same set-based path.

A run is inserted only when the customer has no active run of the playbook
(a NOT EXISTS, and a partial unique index with ON CONFLICT DO NOTHING for two
evaluations that race) and the playbook's cooldown since the last run ended
has passed. Its tasks come from run_tasks.py.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.base import UTCDateTime
from cs_cli.db.models import (
    CSTask,
    Customer,
    HealthScore,
    Playbook,
    PlaybookRun,
    User,
)
from cs_cli.domain import (
    Actor,
    CustomerStatus,
    PlaybookRunStatus,
    RunTask,
    TriggeredRun,
)
from cs_cli.enums import UNJUDGED_STATUSES
from cs_cli.errors import BadInput, NotFound
from cs_cli.services.access import customer_scope
from cs_cli.services.audit import audit
from cs_cli.services.health.overrides import active
from cs_cli.services.playbooks.run_tasks import NewRun, create_tasks


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
    candidates, _ = scored_customers(as_of)
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


def scored_customers(as_of: dt.date) -> tuple[sa.Select, sa.ColumnElement]:
    """Every customer with their current health score as a run's `baseline`
    (a SELECT of customer_id, baseline), and that score as an expression to
    filter on (NULL when the status is not judged by the score). An override
    in force on `as_of` stands in for the computed score, as it does
    wherever a score is read."""
    override = active(as_of)
    score = sa.func.coalesce(override.c.overall_score, HealthScore.overall_score)
    status = sa.func.coalesce(override.c.health_status, HealthScore.health_status)
    select = (
        sa.select(Customer.id.label("customer_id"), score.label("baseline"))
        .outerjoin(HealthScore, HealthScore.customer_id == Customer.id)
        .outerjoin(override, override.c.customer_id == Customer.id)
    )
    # Onboarding customers and those with too little data are not judged by
    # their score: a health trigger never fires for them.
    judged = sa.case((status.in_([s.value for s in UNJUDGED_STATUSES]), sa.null()), else_=score)
    return select, judged


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
