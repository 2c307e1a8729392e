"""Reading enrollments: `cs journeys enrollments` with each one's progress,
and `cs journeys simulate`, which runs the engine itself for one customer
inside a transaction that is rolled back.

Progress of an active enrollment, against the journey's expected duration:

- stuck: it has stood on its step well past what the step waits (a day
  beyond its wait or timeout, or 14 days for a step that does not wait), or
  its tick is overdue by a day: something needs a person;
- behind: past the expected duration, or the share of the way done (steps
  done against the shortest way to the end) trails the share of the
  duration gone by more than a quarter;
- on track: otherwise (and always, without an expected duration, unless stuck).
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import Customer, JourneyEnrollment, JourneyStep
from cs_cli.domain import Actor, EnrollmentStatus
from cs_cli.services.access import customer_scope
from cs_cli.services.journeys.enroll import find_journey
from cs_cli.services.journeys.program import Program, Programs

STUCK_AFTER = dt.timedelta(days=14)
GRACE = dt.timedelta(days=1)


@dataclass(frozen=True)
class EnrollmentRow:
    id: int
    customer: str
    customer_name: str
    version: int
    status: str
    step: str | None
    progress: str
    enrolled_at: dt.datetime
    step_entered_at: dt.datetime | None
    next_run_at: dt.datetime | None
    completed_at: dt.datetime | None
    success: bool | None
    exit_reason: str | None
    split: dict[str, str] | None
    steps_done: int


def remaining(program: Program, key: str | None) -> int:
    """Steps on the shortest way from `key` to an end (the step itself included)."""
    if key is None or key not in program.steps:
        return 0
    seen = {key}
    queue = deque([(key, 1)])
    while queue:
        current, depth = queue.popleft()
        outs = [target for _, target, _ in program.steps[current].spec.branches()]
        if not outs:
            return depth
        for target in outs:
            if target not in seen and target in program.steps:
                seen.add(target)
                queue.append((target, depth + 1))
    return 1


def _limit(program: Program, key: str | None) -> dt.timedelta:
    """How long a step may hold an enrollment before it is stuck."""
    spec = program.steps[key].spec if key in program.steps else None
    days = None
    for name in ("days", "timeout_days"):
        days = days or getattr(spec, name, None)
    completion = getattr(spec, "wait_for_completion", None)
    if completion is not None:
        days = completion.timeout_days
    return dt.timedelta(days=days) + GRACE if days else STUCK_AFTER


def progress(program: Program, row: Any, key: str | None, *, now: dt.datetime) -> str:
    if row.status != EnrollmentStatus.ACTIVE:
        return "-"
    entered = row.step_entered_at or row.enrolled_at
    if now - entered > _limit(program, key) or (
        row.next_run_at is not None and now - row.next_run_at > GRACE
    ):
        return "stuck"
    if program.duration_days:
        elapsed = (now - row.enrolled_at) / dt.timedelta(days=program.duration_days)
        done = len((row.facts or {}).get("visited") or {})
        left = remaining(program, key)
        share = done / (done + left) if done + left else 1.0
        if elapsed > 1 or elapsed - share > 0.25:
            return "behind"
    return "on track"


def list_enrollments(
    session: Session,
    actor: Actor,
    key: str,
    *,
    status: EnrollmentStatus | None = None,
    customer: str | None = None,
    limit: int | None = 50,
    offset: int = 0,
    now: dt.datetime,
) -> tuple[list[EnrollmentRow], int]:
    """A journey's enrollments among the customers the actor may see, newest
    first, with their progress; and how many there are in all."""
    journey = find_journey(session, key)
    e = JourneyEnrollment
    conditions = [e.journey_id == journey.id, customer_scope(actor)]
    if status is not None:
        conditions.append(e.status == status)
    if customer is not None:
        conditions.append(Customer.external_id == customer)
    total = session.scalar(
        sa.select(sa.func.count())
        .select_from(e)
        .join(Customer, Customer.id == e.customer_id)
        .where(*conditions)
    )
    stmt = (
        sa.select(e, Customer.external_id, Customer.name, JourneyStep.key)
        .join(Customer, Customer.id == e.customer_id)
        .outerjoin(JourneyStep, JourneyStep.id == e.current_step_id)
        .where(*conditions)
        .order_by(e.enrolled_at.desc(), e.id.desc())
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    programs = Programs(session)
    rows = []
    for enrollment, external_id, name, step_key in session.execute(stmt):
        program = programs.get(enrollment.journey_id, enrollment.journey_version)
        facts = enrollment.facts or {}
        rows.append(
            EnrollmentRow(
                id=enrollment.id,
                customer=external_id,
                customer_name=name,
                version=enrollment.journey_version,
                status=enrollment.status.value,
                step=step_key if enrollment.status == EnrollmentStatus.ACTIVE else None,
                progress=progress(program, enrollment, step_key, now=now),
                enrolled_at=enrollment.enrolled_at,
                step_entered_at=enrollment.step_entered_at,
                next_run_at=enrollment.next_run_at,
                completed_at=enrollment.completed_at,
                success=enrollment.success,
                exit_reason=enrollment.exit_reason,
                split=facts.get("split"),
                steps_done=sum((facts.get("visited") or {}).values()),
            )
        )
    return rows, total or 0


@dataclass
class SimulatedStep:
    at: dt.datetime
    step: str
    step_type: str
    outcome: str
    detail: dict[str, Any] | None = None


@dataclass
class Simulation:
    journey: str
    customer: str
    steps: list[SimulatedStep] = field(default_factory=list)
    ends: str = ""


def simulate(
    session: Session,
    actor: Actor,
    key: str,
    customer: str,
    *,
    now: dt.datetime,
    scorecard: Path | None = None,
) -> Simulation:
    """The way `customer` would take through journey `key` from today, by
    the engine itself: enrolled, then advanced step by step, every wait
    taken as passing with nothing happening (no task done, no event, no
    touchpoint), conditions and goals read on today's data; health checks
    score with `scorecard`, as the tick does. Emails are rendered. The caller
    rolls the transaction back: nothing is kept."""
    from cs_cli.errors import NotFound
    from cs_cli.services.journeys.batch import Batch, write
    from cs_cli.services.journeys.engine import advance, claim

    journey = find_journey(session, key)
    found = session.execute(
        sa.select(Customer.id, Customer.external_id).where(
            Customer.external_id == customer, customer_scope(actor)
        )
    ).first()
    if found is None:
        raise NotFound(f"no customer '{customer}'" + ("" if actor.role == "admin" else " that you can see"))
    from cs_cli.services.journeys.enroll import first_step_id

    # Any current enrollment of the customer stays as it is (the whole
    # transaction is rolled back); the simulation runs a fresh one.
    session.execute(
        sa.update(JourneyEnrollment)
        .where(JourneyEnrollment.journey_id == journey.id, JourneyEnrollment.customer_id == found.id)
        .values(status=EnrollmentStatus.EXITED, next_run_at=None)
    )
    enrollment = JourneyEnrollment(
        journey_id=journey.id,
        journey_version=journey.version,
        customer_id=found.id,
        status=EnrollmentStatus.ACTIVE,
        current_step_id=first_step_id(session, journey),
        step_entered_at=now,
        next_run_at=now,
        enrolled_at=now,
        facts={"source": "simulate"},
        created_at=now,
    )
    session.add(enrollment)
    session.flush()
    result = Simulation(journey=key, customer=customer)
    clock = now
    programs = Programs(session)
    for _ in range(500):
        lives = claim(session, now=clock, size=1, only=enrollment.id)
        if not lives:
            break
        batch = Batch(session, actor, clock, programs, simulate=True, scorecard=scorecard)
        advance(batch, lives)
        write(batch, lives)
        for trace in batch.traces.get(enrollment.id, []):
            result.steps.append(
                SimulatedStep(clock, trace.step, trace.step_type, trace.outcome, trace.detail)
            )
        live = lives[0]
        if not live.active:
            reason = live.exit_reason or ""
            success = {True: "success", False: "no success", None: "no goal"}[live.success]
            result.ends = f"{live.status.value} ({success}): {reason}"
            break
        if live.next_run_at is None:
            break
        clock = max(live.next_run_at, clock)
    else:
        result.ends = "still going after 500 steps"
    if not result.ends:
        result.ends = "waits with nothing to wake it"
    return result
