"""Acting on a risk alert: a task made from it, a playbook started for its
customer, the person it is assigned to. Each goes through the service that
owns the thing made (tasks, playbooks), and taking an open alert on this way
acknowledges it, as `a` does, so the feed shows someone is on it."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import Alert, Customer
from cs_cli.domain import Actor, AlertRow, AlertStatus, Assignee, Priority, TaskDetail, TaskType, TriggeredRun
from cs_cli.errors import BadInput
from cs_cli.services import events
from cs_cli.services.alerts import acknowledge_alert, alert_row, locked_alert
from cs_cli.services.audit import audit
from cs_cli.services.tasks.board import assignable_to
from cs_cli.services.tasks.bulk import check_assignment
from cs_cli.services.users import find_user

# A task made from an alert starts as urgent as the alert.
PRIORITY_OF = {"critical": Priority.CRITICAL, "warning": Priority.HIGH, "info": Priority.MEDIUM}


def _open(session: Session, actor: Actor, alert_id: int) -> tuple[Alert, str]:
    """The alert (locked) and its customer's external id; a resolved one is refused."""
    alert = locked_alert(session, actor, alert_id)
    if alert.status == AlertStatus.RESOLVED:
        raise BadInput(f"alert {alert_id} is already resolved")
    customer = session.scalar(sa.select(Customer.external_id).where(Customer.id == alert.customer_id))
    assert customer is not None
    return alert, customer


def task_from_alert(
    session: Session,
    actor: Actor,
    alert_id: int,
    *,
    title: str,
    task_type: TaskType = TaskType.FOLLOW_UP,
    priority: Priority | None = None,
    due_date: dt.date | None = None,
    assignee: str | None = None,
    today: dt.date,
    now: dt.datetime,
) -> TaskDetail:
    """A task for the alert's customer whose description carries the alert
    (priority from its severity unless given); the alert is acknowledged
    and its audit trail names the task."""
    from cs_cli.services.tasks.lifecycle import create_task

    alert, customer = _open(session, actor, alert_id)
    reason = f"\n\n{alert.reason}" if alert.reason else ""
    detail = create_task(
        session,
        actor,
        customer,
        title=title,
        task_type=task_type,
        priority=priority or PRIORITY_OF.get(alert.severity.value, Priority.MEDIUM),
        due_date=due_date,
        assignee=assignee,
        description=f"From alert {alert.id}: {alert.title}{reason}",
        today=today,
        now=now,
    )
    acknowledge_alert(session, actor, alert.id, now=now)
    audit(
        session,
        actor,
        "alert.task",
        "alert",
        alert.id,
        at=now,
        customer_id=alert.customer_id,
        details={"alert_id": alert.id, "task_id": detail.row.id},
    )
    return detail


def playbook_from_alert(
    session: Session, actor: Actor, alert_id: int, playbook: str, *, as_of: dt.date, now: dt.datetime
) -> TriggeredRun:
    """Start playbook `playbook` for the alert's customer (as `cs playbooks
    trigger` does, cooldown and one active run included), the alert as its
    reason; the alert is acknowledged."""
    from cs_cli.services.playbooks.trigger import trigger

    alert, customer = _open(session, actor, alert_id)
    started = trigger(
        session,
        actor,
        playbook,
        customer,
        reason=f"alert {alert.id}: {alert.title}"[:200],
        force=False,
        as_of=as_of,
        now=now,
    )
    acknowledge_alert(session, actor, alert.id, now=now)
    audit(
        session,
        actor,
        "alert.playbook",
        "alert",
        alert.id,
        at=now,
        customer_id=alert.customer_id,
        details={"alert_id": alert.id, "playbook": playbook, "playbook_run_id": started.run.id},
    )
    return started


def alert_assignees(session: Session, actor: Actor, alert_id: int) -> list[Assignee]:
    """Who the alert may be assigned to: those its customer's tasks may go to."""
    alert = locked_alert(session, actor, alert_id)
    csm = session.scalar(sa.select(Customer.csm_id).where(Customer.id == alert.customer_id))
    return assignable_to(session, actor, {csm})


def assign_alert(session: Session, actor: Actor, alert_id: int, *, to: str, now: dt.datetime) -> AlertRow:
    """Name who is to act on an unresolved alert (alert.assigned): yourself,
    your team or the customer's CSM (an admin: anyone active)."""
    alert, _customer = _open(session, actor, alert_id)
    user = find_user(session, to)
    if not user.is_active:
        raise BadInput(f"user '{to}' is deactivated")
    csm = session.scalar(sa.select(Customer.csm_id).where(Customer.id == alert.customer_id))
    check_assignment(actor, (user.id, user.team_id), [csm])
    if alert.assigned_to_user_id != user.id:
        alert.assigned_to_user_id = user.id
        data = {"alert_id": alert.id, "assigned_to": user.email, "assigned_to_user_id": user.id}
        events.record(
            session, actor, "alert.assigned", customer_id=alert.customer_id, occurred_at=now, data=data
        )
        audit(
            session,
            actor,
            "alert.assign",
            "alert",
            alert.id,
            at=now,
            customer_id=alert.customer_id,
            details=data,
        )
        session.flush()
    return alert_row(session, alert.id, now.date())
