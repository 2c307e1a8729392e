"""CS tasks: the state machine, its events, audit entries and touchpoints,
bulk changes over a filter, who may see and assign what, and the listings."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import (
    AuditEntry,
    CSTask,
    Customer,
    DomainEvent,
    Playbook,
    PlaybookRun,
    Touchpoint,
    User,
)
from cs_cli.domain import PlaybookCategory, Priority, TaskOutcome, TaskStatus, TaskType
from cs_cli.errors import BadInput, NotFound, NotPermitted
from cs_cli.services.access import resolve_actor
from cs_cli.services.tasks import lifecycle, views
from cs_cli.services.tasks.bulk import Target
from cs_cli.services.tasks.selection import TaskFilter

TODAY = dt.date(2025, 1, 15)
NOW = dt.datetime(2025, 1, 15, 10, 0, tzinfo=dt.UTC)


def _at(minutes: int) -> dt.datetime:
    return NOW + dt.timedelta(minutes=minutes)


def _create(session: Session, actor, customer: str, title: str, **kw):
    return lifecycle.create_task(session, actor, customer, title=title, today=TODAY, now=NOW, **kw).row.id


def _events(session: Session) -> list[tuple[str, dict]]:
    rows = session.execute(sa.select(DomainEvent.event_type, DomainEvent.data).order_by(DomainEvent.id))
    return [(t, d) for t, d in rows]


def _status(session: Session, task_id: int) -> TaskStatus:
    return session.scalar(sa.select(CSTask.status).where(CSTask.id == task_id))


def test_lifecycle_events_audit_and_the_touchpoint_of_a_completed_call(session, book):
    admin = resolve_actor(session, "admin")
    task = _create(session, admin, "E-1", "Renewal call", task_type=TaskType.CALL, due_date=TODAY)
    one = Target(ids=(task,))
    assert _status(session, task) == TaskStatus.PENDING
    lifecycle.start(session, admin, one, today=TODAY, now=_at(1))
    lifecycle.block(session, admin, one, reason="waiting for legal", today=TODAY, now=_at(2))
    row = session.get(CSTask, task)
    assert (row.status, row.blocked_reason) == (TaskStatus.BLOCKED, "waiting for legal")
    # Unblocking a started task takes it back to in_progress, not pending.
    lifecycle.unblock(session, admin, one, today=TODAY, now=_at(3))
    result = lifecycle.complete(
        session,
        admin,
        one,
        outcome=TaskOutcome.SUCCESSFUL,
        notes="renewing for two years",
        minutes=25,
        today=TODAY,
        now=_at(4),
    )
    session.commit()
    assert (result.changed, result.touchpoints) == ([task], 1)
    row = session.get(CSTask, task)
    assert row.status == TaskStatus.COMPLETED and row.blocked_reason is None
    assert row.started_at == _at(1) and row.completed_at == _at(4)
    assert (row.outcome, row.outcome_notes, row.time_spent_minutes) == (
        TaskOutcome.SUCCESSFUL,
        "renewing for two years",
        25,
    )
    assert row.assigned_to_user_id == book["ana"]  # the customer's CSM by default

    events = _events(session)
    assert [t for t, _ in events] == [
        "task.created",
        "task.started",
        "task.blocked",
        "task.unblocked",
        "touchpoint.logged",
        "task.completed",
    ]
    data = dict(events)
    assert data["task.blocked"]["reason"] == "waiting for legal"
    assert data["task.unblocked"]["to_status"] == "in_progress"
    completed = data["task.completed"]
    assert completed["task_id"] == task and completed["outcome"] == "successful"
    assert completed["task_type"] == "call" and completed["from_status"] == "in_progress"
    assert completed["playbook_run_id"] is None and completed["journey_enrollment_id"] is None
    e1 = session.scalar(sa.select(Customer.id).where(Customer.external_id == "E-1"))
    assert set(session.scalars(sa.select(DomainEvent.customer_id))) == {e1}

    audit = session.execute(
        sa.select(
            AuditEntry.action, AuditEntry.entity_id, AuditEntry.actor_name, AuditEntry.details
        ).order_by(AuditEntry.id)
    ).all()
    assert [a.action for a in audit] == [
        "task.create",
        "task.start",
        "task.block",
        "task.unblock",
        "task.complete",
    ]
    assert {a.entity_id for a in audit} == {str(task)} and {a.actor_name for a in audit} == {"admin"}
    assert audit[-1].details["to_status"] == "completed" and audit[-1].details["from_status"] == "in_progress"

    tp = session.scalars(sa.select(Touchpoint)).one()
    assert (tp.touchpoint_type, tp.channel, tp.direction) == ("call", "phone", "outbound")
    assert (tp.task_id, tp.user_id, tp.customer_id) == (task, book["ana"], e1)
    assert (tp.subject, tp.description, tp.duration_minutes, tp.occurred_at) == (
        "Renewal call",
        "renewing for two years",
        25,
        _at(4),
    )
    assert data["touchpoint.logged"]["touchpoint_id"] == tp.id


def test_illegal_changes_name_the_task_and_both_states_and_write_nothing(session, book):
    admin = resolve_actor(session, "admin")
    cancelled = _create(session, admin, "E-1", "Old task")
    blocked = _create(session, admin, "E-1", "Stuck task")
    pending = _create(session, admin, "E-3", "Fresh task")
    done = _create(session, admin, "E-3", "Done task")
    lifecycle.cancel(session, admin, Target(ids=(cancelled,)), reason="duplicate", today=TODAY, now=NOW)
    lifecycle.complete(
        session, admin, Target(ids=(done,)), outcome=TaskOutcome.SUCCESSFUL, today=TODAY, now=NOW
    )
    lifecycle.block(session, admin, Target(ids=(blocked,)), reason="no budget", today=TODAY, now=NOW)
    session.commit()
    assert session.get(CSTask, cancelled).outcome_notes == "duplicate"
    before = (
        session.scalar(sa.select(sa.func.count()).select_from(DomainEvent)),
        session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)),
    )

    def refused(call, **kw):
        with pytest.raises((BadInput, NotFound)) as exc:
            call(session, admin, today=TODAY, now=NOW, **kw)
        session.rollback()
        return exc.value

    err = refused(lifecycle.complete, target=Target(ids=(cancelled,)), outcome=TaskOutcome.SUCCESSFUL)
    assert isinstance(err, BadInput) and err.exit_code == 2
    assert (
        err.message
        == f"cannot complete task {cancelled}: cancelled -> completed is not allowed (cancelled is final)"
    )
    # Already there: said as such, not as a move out of a final state.
    err = refused(lifecycle.complete, target=Target(ids=(done,)), outcome=TaskOutcome.SUCCESSFUL)
    assert (err.message, err.hint) == (f"task {done} is already completed", None)
    err = refused(lifecycle.cancel, target=Target(ids=(cancelled,)))
    assert (err.message, err.hint) == (f"task {cancelled} is already cancelled", None)
    err = refused(lifecycle.block, target=Target(ids=(blocked,)), reason="still")
    assert err.message == f"task {blocked} is already blocked"
    err = refused(lifecycle.complete, target=Target(ids=(blocked,)), outcome=TaskOutcome.SUCCESSFUL)
    assert err.message == f"cannot complete task {blocked}: blocked -> completed is not allowed"
    err = refused(lifecycle.unblock, target=Target(ids=(pending,)))
    assert err.message == f"cannot unblock task {pending}: it is pending, not blocked"
    err = refused(lifecycle.reschedule, target=Target(ids=(cancelled,)), due=TODAY)
    assert err.message == f"cannot reschedule task {cancelled}: it is cancelled (cancelled is final)"
    # One illegal task among named ones stops them all.
    err = refused(lifecycle.start, target=Target(ids=(pending, cancelled)))
    assert "cancelled -> in_progress" in err.message
    err = refused(lifecycle.start, target=Target(ids=(pending, 999)))
    assert isinstance(err, NotFound) and err.message == "task 999 not found" and err.exit_code == 4
    err = refused(lifecycle.reschedule, target=Target(ids=(pending,)), due=TODAY - dt.timedelta(days=1))
    assert "in the past" in err.message
    err = refused(lifecycle.block, target=Target(ids=(pending,)), reason="  ")
    assert "needs a reason" in err.message

    assert _status(session, pending) == TaskStatus.PENDING
    assert _status(session, cancelled) == TaskStatus.CANCELLED
    after = (
        session.scalar(sa.select(sa.func.count()).select_from(DomainEvent)),
        session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)),
    )
    assert after == before


def test_bulk_complete_over_a_filter_skips_what_cannot_complete(session, book):
    admin = resolve_actor(session, "admin")
    ids = {
        kind: _create(session, admin, "E-3", f"{kind} task", task_type=kind)
        for kind in (TaskType.MEETING, TaskType.EMAIL, TaskType.INTERNAL, TaskType.CALL)
    }
    other = _create(session, admin, "E-1", "Not this customer", task_type=TaskType.CALL)
    lifecycle.block(
        session, admin, Target(ids=(ids[TaskType.CALL],)), reason="no answer", today=TODAY, now=NOW
    )
    target = Target(filter=TaskFilter(customer="E-3"))
    found = lifecycle.preview(session, admin, target, "complete", today=TODAY)
    assert len(found.ids) == 3 and found.skipped == {"blocked": 1}
    result = lifecycle.complete(
        session, admin, target, outcome=TaskOutcome.NO_RESPONSE, minutes=5, today=TODAY, now=NOW
    )
    session.commit()
    assert sorted(result.changed) == sorted(found.ids) and result.skipped == {"blocked": 1}
    assert result.touchpoints == 2  # the meeting and the email; internal work is no touchpoint
    kinds = set(session.execute(sa.select(Touchpoint.touchpoint_type, Touchpoint.channel)).all())
    assert kinds == {("meeting", "video"), ("email_sent", "email")}
    statuses = {t: _status(session, i) for t, i in ids.items()}
    assert statuses[TaskType.CALL] == TaskStatus.BLOCKED
    assert {statuses[t] for t in (TaskType.MEETING, TaskType.EMAIL, TaskType.INTERNAL)} == {
        TaskStatus.COMPLETED
    }
    assert _status(session, other) == TaskStatus.PENDING
    completed = [d for t, d in _events(session) if t == "task.completed"]
    assert sorted(d["task_id"] for d in completed) == sorted(found.ids)
    assert all(d["outcome"] == "no_response" and d["time_spent_minutes"] == 5 for d in completed)
    logged = session.scalar(
        sa.select(sa.func.count())
        .select_from(DomainEvent)
        .where(DomainEvent.event_type == "touchpoint.logged")
    )
    assert logged == 2
    # Bulk assignment, rescheduling and snoozing: one event per task.
    everything = Target(filter=TaskFilter(statuses=(TaskStatus.PENDING, TaskStatus.BLOCKED)))
    moved = lifecycle.reschedule(
        session, admin, everything, due=TODAY + dt.timedelta(days=3), today=TODAY, now=NOW
    )
    assert sorted(moved.changed) == sorted([ids[TaskType.CALL], other])
    rescheduled = [d for t, d in _events(session) if t == "task.rescheduled"]
    assert {d["due_date"] for d in rescheduled} == {"2025-01-18"} and len(rescheduled) == 2


def test_who_sees_and_assigns_what(session, book):
    admin, ana, bo, mia = (resolve_actor(session, n) for n in ("admin", "ana", "bo", "mia"))
    on_e1 = _create(session, admin, "E-1", "Ana's customer")
    on_w1_for_ana = _create(session, admin, "W-1", "Bo's customer, Ana's task", assignee="ana@example.com")
    on_w2 = _create(session, admin, "W-2", "Bo's customer")
    session.commit()

    def seen(actor) -> set[int]:
        page = views.list_tasks(session, actor, TaskFilter(), today=TODAY, limit=None)
        return {r.id for r in page.rows}

    assert seen(ana) == {on_e1, on_w1_for_ana}
    assert seen(bo) == {on_w1_for_ana, on_w2}
    assert seen(mia) == {on_e1, on_w1_for_ana}  # her team's customers and her team's tasks
    assert seen(admin) == {on_e1, on_w1_for_ana, on_w2}
    assert {r.id for r in views.list_tasks(session, bo, TaskFilter(mine=True), today=TODAY).rows} == {on_w2}

    with pytest.raises(NotFound, match=f"task {on_w2} not found"):
        views.task_detail(session, ana, on_w2, today=TODAY)
    with pytest.raises(NotFound, match=f"task {on_w2} not found"):
        lifecycle.start(session, ana, Target(ids=(on_w2,)), today=TODAY, now=NOW)
    # A CSM hands work to their team or to the customer's own CSM, nowhere else.
    with pytest.raises(NotPermitted):
        lifecycle.assign(session, ana, Target(ids=(on_e1,)), to="bo", today=TODAY, now=NOW)
    session.rollback()
    lifecycle.assign(session, ana, Target(ids=(on_e1,)), to="mia@example.com", today=TODAY, now=NOW)
    lifecycle.assign(session, ana, Target(ids=(on_w1_for_ana,)), to="bo", today=TODAY, now=NOW)
    session.commit()
    assert session.get(CSTask, on_w1_for_ana).assigned_to_user_id == book["bo"]
    assert session.get(CSTask, on_e1).assigned_to_user_id == book["mia"]
    assigned = [d for t, d in _events(session) if t == "task.assigned"]
    assert assigned[0]["from_user_id"] == book["ana"] and assigned[0]["to_user_id"] == book["mia"]

    session.execute(sa.update(User).where(User.login == "bo").values(is_active=False))
    with pytest.raises(BadInput, match="deactivated"):
        lifecycle.assign(session, admin, Target(ids=(on_e1,)), to="bo", today=TODAY, now=NOW)
    session.rollback()
    with pytest.raises(NotFound, match="no user 'nobody'"):
        lifecycle.assign(session, admin, Target(ids=(on_e1,)), to="nobody", today=TODAY, now=NOW)
    session.rollback()
    # Creating for a customer you cannot see is "not found" too.
    with pytest.raises(NotFound):
        _create(session, ana, "W-2", "Not mine")


def test_listing_filters_snooze_sort_and_paging(session, book, monkeypatch):
    admin = resolve_actor(session, "admin")
    day = dt.timedelta(days=1)
    late = _create(session, admin, "E-1", "Late", due_date=TODAY, priority=Priority.LOW)
    session.execute(sa.update(CSTask).where(CSTask.id == late).values(due_date=TODAY - 2 * day))
    today_task = _create(session, admin, "E-1", "Today", due_date=TODAY, priority=Priority.CRITICAL)
    week = _create(session, admin, "E-3", "This week", due_date=TODAY + 6 * day, task_type=TaskType.REVIEW)
    later = _create(session, admin, "W-1", "Later", due_date=TODAY + 7 * day, priority=Priority.HIGH)
    undated = _create(session, admin, "W-2", "Undated")
    session.commit()

    def ids(**kw) -> list[int]:
        sort = kw.pop("sort", "due")
        on = kw.pop("on", TODAY)
        return [r.id for r in views.list_tasks(session, admin, TaskFilter(**kw), today=on, sort=sort).rows]

    assert ids() == [late, today_task, week, later, undated]  # soonest due first, undated last
    assert ids(due="today") == [today_task]
    assert ids(due="week") == [today_task, week]
    assert ids(due="overdue") == [late]
    assert ids(sort="priority") == [today_task, later, week, undated, late]
    assert ids(sort="-due") == [later, week, today_task, late, undated]
    assert ids(customer="E-1") == [late, today_task]
    assert ids(assignee="bo@example.com") == [later, undated]
    assert ids(types=(TaskType.REVIEW,)) == [week]
    assert ids(priorities=(Priority.HIGH, Priority.CRITICAL)) == [today_task, later]
    page = views.list_tasks(session, admin, TaskFilter(), today=TODAY)
    assert page.rows[0].overdue and not page.rows[1].overdue

    lifecycle.snooze(session, admin, Target(ids=(late,)), until=TODAY + 3 * day, today=TODAY, now=NOW)
    session.commit()
    assert late not in ids()
    assert late in ids(include_snoozed=True)
    assert late not in ids(on=TODAY + 2 * day)
    assert ids(on=TODAY + 3 * day)[0] == late  # back on its day
    with pytest.raises(BadInput):
        lifecycle.snooze(session, admin, Target(ids=(late,)), until=TODAY, today=TODAY, now=NOW)
    session.rollback()

    lifecycle.complete(
        session, admin, Target(ids=(undated,)), outcome=TaskOutcome.SUCCESSFUL, today=TODAY, now=NOW
    )
    session.commit()
    assert undated not in ids()
    assert ids(statuses=(TaskStatus.COMPLETED,)) == [undated]

    page = views.list_tasks(session, admin, TaskFilter(include_snoozed=True), today=TODAY, limit=2, offset=2)
    assert [r.id for r in page.rows] == [week, later] and (page.total, page.total_exact) == (4, True)
    monkeypatch.setattr(views, "COUNT_CAP", 2)
    page = views.list_tasks(session, admin, TaskFilter(include_snoozed=True), today=TODAY, limit=1)
    assert (len(page.rows), page.total, page.total_exact) == (1, 2, False)
    with pytest.raises(BadInput, match="cannot sort by 'size'"):
        views.list_tasks(session, admin, TaskFilter(), today=TODAY, sort="size")
    with pytest.raises(NotFound, match="no playbook 'nope'"):
        views.list_tasks(session, admin, TaskFilter(playbook="nope"), today=TODAY)


def test_closing_tasks_of_a_playbook_run_settles_the_run(session, book, monkeypatch):
    from cs_cli.services.playbooks import runs

    admin = resolve_actor(session, "admin")
    e1 = session.scalar(sa.select(Customer.id).where(Customer.external_id == "E-1"))
    playbook = Playbook(key="risk_response", name="Risk Response", category=PlaybookCategory.CHURN_RISK)
    session.add(playbook)
    session.flush()
    run = PlaybookRun(playbook_id=playbook.id, customer_id=e1, started_at=NOW)
    session.add(run)
    session.flush()
    first = _create(session, admin, "E-1", "Exec call", task_type=TaskType.CALL)
    second = _create(session, admin, "E-1", "Recovery plan")
    session.execute(
        sa.update(CSTask)
        .where(CSTask.id.in_([first, second]))
        .values(playbook_id=playbook.id, playbook_run_id=run.id)
    )
    settled: list[list[int]] = []
    real = runs.settle_runs

    def spy(session, run_ids, *, now):
        settled.append(list(run_ids))
        return real(session, run_ids, now=now)

    monkeypatch.setattr(runs, "settle_runs", spy)
    assert [
        r.id for r in views.list_tasks(session, admin, TaskFilter(playbook="Risk Response"), today=TODAY).rows
    ] == [
        first,
        second,
    ]
    lifecycle.complete(
        session, admin, Target(ids=(first,)), outcome=TaskOutcome.SUCCESSFUL, today=TODAY, now=NOW
    )
    lifecycle.cancel(
        session, admin, Target(filter=TaskFilter(playbook="risk_response")), today=TODAY, now=NOW
    )
    lifecycle.start(
        session, admin, Target(ids=(_create(session, admin, "E-1", "Unrelated"),)), today=TODAY, now=NOW
    )
    session.commit()
    assert settled == [[run.id], [run.id]]
    events = dict(_events(session))
    assert events["task.completed"]["playbook_run_id"] == run.id
    assert events["task.cancelled"]["playbook_run_id"] == run.id
