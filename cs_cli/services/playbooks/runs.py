"""Playbook runs: how they end and what the playbook learns from them.

A run completes when every one of its tasks is completed or cancelled. Its
success is then judged from health history: the criteria (the playbook's
success_criteria, else those of its last step that has some) must be met by a
daily score between the run's start and `within_days` after it. Until the
window has passed without the criteria met, the judgement stays open (null)
and `cs playbooks evaluate` checks it again. A run that started with no
health score cannot show an increase: asked for one, it stays undecided.
The playbook's times_completed, avg_completion_days and success_rate (of the
decided runs only) are recomputed from its runs by one aggregate statement
each time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.models import CSTask, HealthScoreHistory, Playbook, PlaybookRun, PlaybookStep
from cs_cli.domain import PlaybookRunStatus, TaskStatus
from cs_cli.specs.playbook import judged_by

CLOSED = (TaskStatus.COMPLETED.value, TaskStatus.CANCELLED.value)
_CHUNK = 10_000


def settle_runs(session: Session, run_ids: Iterable[int], *, now: dt.datetime) -> None:
    """Complete each active run among `run_ids` whose tasks are all done or
    cancelled, judge its success criteria and refresh its playbook's metrics.

    Called by the tasks service whenever a task of a run is closed.
    """
    ids = sorted({i for i in run_ids if i is not None})
    if not ids:
        return
    runs = PlaybookRun.__table__
    tasks = CSTask.__table__
    open_task = sa.exists().where(tasks.c.playbook_run_id == runs.c.id, tasks.c.status.not_in(CLOSED))
    completed: list[tuple[int, int]] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        completed += session.execute(
            sa.update(runs)
            .where(runs.c.id.in_(chunk), runs.c.status == PlaybookRunStatus.ACTIVE.value, ~open_task)
            .values(status=PlaybookRunStatus.COMPLETED.value, completed_at=now, updated_at=now)
            .returning(runs.c.id, runs.c.playbook_id)
        ).all()
    if not completed:
        return
    playbook_ids = sorted({p for _, p in completed})
    _judge(session, playbook_ids, [r for r, _ in completed], today=now.date())
    refresh_metrics(session, playbook_ids)


def judge_open(session: Session, *, now: dt.datetime) -> int:
    """Judge every completed run whose success is still open; returns how
    many were decided (true or false)."""
    playbook_ids = session.scalars(
        sa.select(PlaybookRun.playbook_id)
        .distinct()
        .where(PlaybookRun.status == PlaybookRunStatus.COMPLETED, PlaybookRun.success.is_(None))
    ).all()
    if not playbook_ids:
        return 0
    decided = _judge(session, sorted(playbook_ids), None, today=now.date())
    refresh_metrics(session, sorted(decided))
    return sum(decided.values())


def criteria_of(session: Session, playbook_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The criteria each playbook's runs are judged by (see the module's docstring)."""
    playbooks = dict(
        session.execute(
            sa.select(Playbook.id, Playbook.success_criteria).where(Playbook.id.in_(playbook_ids))
        ).all()
    )
    steps: dict[int, list[tuple[int, dict[str, Any], int]]] = {}
    rows = session.execute(
        sa.select(
            PlaybookStep.playbook_id,
            PlaybookStep.step_order,
            PlaybookStep.success_criteria,
            PlaybookStep.days_from_start,
            PlaybookStep.due_days,
            PlaybookStep.recurring,
            PlaybookStep.duration_weeks,
        ).where(
            PlaybookStep.playbook_id.in_(playbook_ids),
            PlaybookStep.is_active,
            PlaybookStep.success_criteria.is_not(None),
        )
    )
    for pid, order, criteria, start, due, recurring, weeks in rows:
        last_due = (start or 0) + (due or 0) + (7 * weeks - 7 if recurring and weeks else 0)
        steps.setdefault(pid, []).append((order, criteria, last_due))
    out = {}
    for pid in playbook_ids:
        criteria = judged_by(playbooks.get(pid), steps.get(pid, []))
        if criteria:
            out[pid] = criteria
    return out


def _judge(
    session: Session, playbook_ids: list[int], run_ids: list[int] | None, *, today: dt.date
) -> dict[int, int]:
    """Set success on completed, unjudged runs: true when the criteria were
    met in the window, false when the window has passed without; else left
    open, as it is for good when an increase is asked of a run that started
    with no score. Returns the runs decided per playbook."""
    runs = PlaybookRun.__table__
    history = HealthScoreHistory.__table__
    decided: dict[int, int] = {}
    for playbook_id, criteria in criteria_of(session, playbook_ids).items():
        within = int(criteria.get("within_days", 30))
        start_day = dialect.utc_day(session, runs.c.started_at)
        end_day = dialect.add_days(session, start_day, within)
        conditions = [
            history.c.customer_id == runs.c.customer_id,
            history.c.as_of >= start_day,
            history.c.as_of <= end_day,
        ]
        judgeable = []
        if "health_score_increase" in criteria:
            conditions.append(
                history.c.overall_score >= runs.c.baseline_health_score + criteria["health_score_increase"]
            )
            # No score when the run started: an increase cannot be measured,
            # so the run is neither a success nor a failure.
            judgeable.append(runs.c.baseline_health_score.is_not(None))
        if "health_score_at_least" in criteria:
            conditions.append(history.c.overall_score >= criteria["health_score_at_least"])
        met = sa.exists().where(*conditions)
        over = end_day < sa.literal(today, sa.Date)
        where = [
            runs.c.playbook_id == playbook_id,
            runs.c.status == PlaybookRunStatus.COMPLETED.value,
            runs.c.success.is_(None),
            *judgeable,
            sa.or_(met, over),
        ]
        if run_ids is not None:
            where.append(runs.c.id.in_(run_ids))
        result = session.execute(
            sa.update(runs)
            .where(*where)
            .values(success=sa.case((met, sa.true()), else_=sa.false()))
            .returning(runs.c.id)
        )
        count = len(result.all())
        if count:
            decided[playbook_id] = count
    return decided


def refresh_metrics(session: Session, playbook_ids: list[int]) -> None:
    """Recompute times_completed, avg_completion_days and success_rate of
    the playbooks from all their runs, in one aggregate UPDATE."""
    if not playbook_ids:
        return
    runs = PlaybookRun.__table__
    playbooks = Playbook.__table__
    completed = runs.c.status == PlaybookRunStatus.COMPLETED.value
    days = dialect.days_between(session, runs.c.started_at, runs.c.completed_at)
    stats = (
        sa.select(
            runs.c.playbook_id,
            sa.func.count().filter(completed).label("completed"),
            sa.func.avg(sa.case((completed, days))).label("avg_days"),
            sa.func.avg(sa.case((runs.c.success.is_(True), 1.0), (runs.c.success.is_(False), 0.0))).label(
                "success_rate"
            ),
        )
        .where(runs.c.playbook_id.in_(playbook_ids))
        .group_by(runs.c.playbook_id)
        .subquery("stats")
    )
    session.execute(
        sa.update(playbooks)
        .where(playbooks.c.id == stats.c.playbook_id)
        .values(
            times_completed=stats.c.completed,
            avg_completion_days=stats.c.avg_days,
            success_rate=stats.c.success_rate,
        )
    )
