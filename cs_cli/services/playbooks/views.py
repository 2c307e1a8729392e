"""Reading playbooks and their runs."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import CSTask, Customer, Playbook, PlaybookRun, PlaybookStep, Segment
from cs_cli.domain import (
    Actor,
    Page,
    PlaybookDetail,
    PlaybookRow,
    PlaybookRunRow,
    PlaybookRunStatus,
    PlaybookStepView,
)
from cs_cli.errors import NotFound
from cs_cli.services.access import customer_scope
from cs_cli.services.playbooks.runs import CLOSED


def triggers_in_words(playbook: Playbook, segment: str | None) -> str:
    words = []
    if playbook.trigger_health_threshold is not None:
        words.append(f"health below {playbook.trigger_health_threshold}")
    if playbook.trigger_days_to_renewal is not None:
        words.append(f"renewal within {playbook.trigger_days_to_renewal} days")
    if playbook.trigger_segment_id is not None:
        words.append(f"enters segment {segment or playbook.trigger_segment_id}")
    if playbook.trigger_event:
        words.append(f"event {playbook.trigger_event}")
    return "; ".join(words) or "manual"


def list_playbooks(session: Session, actor: Actor, *, include_inactive: bool = False) -> list[PlaybookRow]:
    """Every playbook (the active ones unless asked), with its metrics and
    the active runs among the customers the actor may see."""
    steps = (
        sa.select(PlaybookStep.playbook_id, sa.func.count().label("n"))
        .where(PlaybookStep.is_active)
        .group_by(PlaybookStep.playbook_id)
        .subquery()
    )
    active = (
        sa.select(PlaybookRun.playbook_id, sa.func.count().label("n"))
        .join(Customer, Customer.id == PlaybookRun.customer_id)
        .where(PlaybookRun.status == PlaybookRunStatus.ACTIVE, customer_scope(actor))
        .group_by(PlaybookRun.playbook_id)
        .subquery()
    )
    stmt = (
        sa.select(Playbook, Segment.name, steps.c.n, active.c.n)
        .outerjoin(Segment, Segment.id == Playbook.trigger_segment_id)
        .outerjoin(steps, steps.c.playbook_id == Playbook.id)
        .outerjoin(active, active.c.playbook_id == Playbook.id)
        .order_by(Playbook.is_active.desc(), Playbook.key)
    )
    if not include_inactive:
        stmt = stmt.where(Playbook.is_active)
    return [
        _row(p, segment, n_steps or 0, n_active or 0)
        for p, segment, n_steps, n_active in session.execute(stmt)
    ]


def _row(p: Playbook, segment: str | None, steps: int, active_runs: int) -> PlaybookRow:
    return PlaybookRow(
        key=p.key,
        name=p.name,
        category=p.category,
        priority=p.priority,
        is_active=p.is_active,
        triggers=triggers_in_words(p, segment),
        steps=steps,
        estimated_hours=p.estimated_hours,
        cooldown_days=p.cooldown_days,
        active_runs=active_runs,
        times_triggered=p.times_triggered,
        times_completed=p.times_completed,
        avg_completion_days=None if p.avg_completion_days is None else round(p.avg_completion_days, 1),
        success_rate=None if p.success_rate is None else round(p.success_rate, 3),
    )


def playbook_detail(session: Session, actor: Actor, key: str) -> PlaybookDetail:
    """One playbook: its settings, triggers, active steps and metrics."""
    rows = [r for r in list_playbooks(session, actor, include_inactive=True) if r.key == key]
    if not rows:
        raise NotFound(f"no playbook '{key}'", hint="`cs playbooks list` shows them")
    p, segment = session.execute(
        sa.select(Playbook, Segment.name)
        .outerjoin(Segment, Segment.id == Playbook.trigger_segment_id)
        .where(Playbook.key == key)
    ).one()
    steps = session.scalars(
        sa.select(PlaybookStep)
        .where(PlaybookStep.playbook_id == p.id, PlaybookStep.is_active)
        .order_by(PlaybookStep.step_order)
    )
    return PlaybookDetail(
        playbook=rows[0],
        description=p.description,
        auto_assign=p.auto_assign,
        success_criteria=p.success_criteria,
        trigger_health_threshold=p.trigger_health_threshold,
        trigger_days_to_renewal=p.trigger_days_to_renewal,
        trigger_segment=segment,
        trigger_event=p.trigger_event,
        content_hash=p.content_hash,
        updated_at=p.updated_at or p.created_at,
        steps=[
            PlaybookStepView(
                order=s.step_order,
                name=s.name,
                step_type=s.step_type,
                assignee_role=s.default_assignee_role,
                days_from_start=s.days_from_start,
                due_days=s.due_days,
                recurring=s.recurring,
                duration_weeks=s.duration_weeks,
                email_template=s.email_template,
                required_artifacts=list(s.required_artifacts or []),
                description=s.description,
                meeting_agenda=s.meeting_agenda_template,
                talk_track=s.talk_track,
                success_criteria=s.success_criteria,
            )
            for s in steps
        ],
    )


def run_rows(
    session: Session,
    actor: Actor,
    *,
    playbook: str | None = None,
    customer: str | None = None,
    status: PlaybookRunStatus | None = None,
    run_ids: Sequence[int] | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> list[PlaybookRunRow]:
    return list_runs(
        session,
        actor,
        playbook=playbook,
        customer=customer,
        status=status,
        run_ids=run_ids,
        offset=offset,
        limit=limit,
    ).rows


def list_runs(
    session: Session,
    actor: Actor,
    *,
    playbook: str | None = None,
    customer: str | None = None,
    status: PlaybookRunStatus | None = None,
    run_ids: Sequence[int] | None = None,
    offset: int = 0,
    limit: int | None = 50,
) -> Page:
    """Runs of customers the actor may see, newest first, with their tasks open and in all."""
    conditions = [customer_scope(actor)]
    if playbook is not None:
        if session.scalar(sa.select(Playbook.id).where(Playbook.key == playbook)) is None:
            raise NotFound(f"no playbook '{playbook}'", hint="`cs playbooks list` shows them")
        conditions.append(Playbook.key == playbook)
    if customer is not None:
        conditions.append(Customer.external_id == customer)
    if status is not None:
        conditions.append(PlaybookRun.status == status)
    if run_ids is not None:
        conditions.append(PlaybookRun.id.in_(list(run_ids)))
    base = (
        sa.select(PlaybookRun.id)
        .join(Customer, Customer.id == PlaybookRun.customer_id)
        .join(Playbook, Playbook.id == PlaybookRun.playbook_id)
        .where(*conditions)
    )
    total = session.scalar(sa.select(sa.func.count()).select_from(base.subquery()))
    page = base.order_by(PlaybookRun.started_at.desc(), PlaybookRun.id.desc()).offset(offset)
    if limit is not None:
        page = page.limit(limit)
    ids = page.subquery()
    counts = (
        sa.select(
            CSTask.playbook_run_id,
            sa.func.count().label("total"),
            sa.func.count().filter(CSTask.status.not_in(CLOSED)).label("open"),
        )
        .where(CSTask.playbook_run_id.in_(sa.select(ids.c.id)))
        .group_by(CSTask.playbook_run_id)
        .subquery()
    )
    rows = session.execute(
        sa.select(
            PlaybookRun,
            Playbook.key,
            Customer.external_id,
            Customer.name,
            counts.c.open,
            counts.c.total,
        )
        .join(ids, ids.c.id == PlaybookRun.id)
        .join(Customer, Customer.id == PlaybookRun.customer_id)
        .join(Playbook, Playbook.id == PlaybookRun.playbook_id)
        .outerjoin(counts, counts.c.playbook_run_id == PlaybookRun.id)
        .order_by(PlaybookRun.started_at.desc(), PlaybookRun.id.desc())
    )
    out = [
        PlaybookRunRow(
            id=run.id,
            playbook=key,
            customer=external_id,
            customer_name=name,
            status=run.status,
            triggered_by=run.triggered_by,
            trigger_reason=run.trigger_reason,
            started_at=run.started_at,
            completed_at=run.completed_at,
            baseline_health_score=run.baseline_health_score,
            success=run.success,
            tasks_open=n_open or 0,
            tasks_total=n_total or 0,
        )
        for run, key, external_id, name, n_open, n_total in rows
    ]
    return Page(rows=out, total=total or 0, offset=offset, limit=limit)
