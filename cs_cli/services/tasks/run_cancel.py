"""Cancelling a playbook run: the run, then its open tasks through the task
state machine, so each records task.cancelled and an audit entry as any
cancelled task does.

It lives with the tasks rather than in playbooks.runs because the tasks
service already calls into the runs (closing a run's last task settles it,
bulk.apply -> runs.settle_runs): tasks use playbooks, never the reverse.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import CSTask, Customer, Playbook, PlaybookRun
from cs_cli.domain import Actor, PlaybookRunStatus
from cs_cli.errors import BadInput, NotFound
from cs_cli.services import events
from cs_cli.services.access import customer_scope
from cs_cli.services.audit import audit
from cs_cli.services.playbooks.runs import CLOSED, refresh_metrics
from cs_cli.services.tasks.bulk import Target
from cs_cli.services.tasks.lifecycle import cancel


def cancel_run(
    session: Session, actor: Actor, run_id: int, *, now: dt.datetime, reason: str | None = None
) -> int:
    """Cancel an active run and its open tasks; returns how many tasks were
    cancelled. Each cancelled task records task.cancelled, the run
    playbook.cancelled."""
    row = session.execute(
        sa.select(
            PlaybookRun.id, PlaybookRun.status, PlaybookRun.customer_id, PlaybookRun.playbook_id, Playbook.key
        )
        .join(Customer, Customer.id == PlaybookRun.customer_id)
        .join(Playbook, Playbook.id == PlaybookRun.playbook_id)
        .where(PlaybookRun.id == run_id, customer_scope(actor))
    ).first()
    if row is None:
        raise NotFound(f"no playbook run {run_id}" + ("" if actor.role == "admin" else " that you can see"))
    if row.status != PlaybookRunStatus.ACTIVE:
        raise BadInput(f"run {run_id} is {row.status.value}; only an active run can be cancelled")
    session.execute(
        sa.update(PlaybookRun)
        .where(PlaybookRun.id == run_id)
        .values(status=PlaybookRunStatus.CANCELLED, completed_at=now, updated_at=now)
    )
    # Through the tasks service, so each task records task.cancelled and an
    # audit entry as any cancelled task does (the run, no longer active, is
    # left alone when the service settles it).
    open_ids = tuple(
        session.scalars(
            sa.select(CSTask.id)
            .where(CSTask.playbook_run_id == run_id, CSTask.status.not_in(CLOSED))
            .order_by(CSTask.id)
        )
    )
    cancelled: list[int] = []
    if open_ids:
        why = f"playbook run {run_id} cancelled" + (f": {reason}" if reason else "")
        result = cancel(session, actor, Target(ids=open_ids), reason=why, today=now.date(), now=now)
        cancelled = result.changed
    events.record(
        session,
        actor,
        "playbook.cancelled",
        customer_id=row.customer_id,
        occurred_at=now,
        data={"playbook": row.key, "run_id": run_id, "reason": reason},
    )
    audit(
        session,
        actor,
        "playbook.cancelled",
        "playbook_run",
        run_id,
        at=now,
        customer_id=row.customer_id,
        details={"tasks_cancelled": len(cancelled), "reason": reason},
    )
    refresh_metrics(session, [row.playbook_id])
    session.flush()
    return len(cancelled)
