"""The tick: advance every due enrollment, batch by batch, exactly once.

A batch is claimed, advanced and written in one transaction. On Postgres the
claim locks the batch's enrollments and skips those another tick holds (FOR
UPDATE SKIP LOCKED), so several ticks share the work; a tick killed mid-batch
loses its locks with its connection and its whole batch rolls back, so the
next tick takes the same enrollments up at once and does their steps then.
On SQLite a batch holds the write lock and ticks take turns.

Every step executed is recorded under (enrollment, step key, visit) in the
same transaction as its effect (the outbox message, the task, the segment
change, the playbook run) and the enrollment's move to the next step, so no
effect is repeated and none is lost, and a step's successor is scheduled
once.

Within a batch the work is set-based: enrollments standing on the same step
are handled as a group (one rule query for a condition, one insert for the
messages of an email step), round after round, until each waits or ends.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from cs_cli.db.engine import transaction
from cs_cli.db.models import Customer, Journey, JourneyEnrollment
from cs_cli.domain import Actor, EnrollmentStatus
from cs_cli.errors import BadInput, NotFound
from cs_cli.services import events
from cs_cli.services.access import customer_scope
from cs_cli.services.audit import audit
from cs_cli.services.journeys import criteria, metrics, triggers
from cs_cli.services.journeys.batch import (
    EXITED,
    LIVE_COLUMNS,
    Batch,
    Live,
    check_criteria,
    lock_lives,
    write,
)
from cs_cli.services.journeys.program import Programs
from cs_cli.services.journeys.steps import RESUME, RUN

BATCH = 500
# More steps than a journey may have (200): a journey without a loop that
# never waits (validate refuses those) ends or waits within this many rounds.
MAX_ROUNDS = 250

_enrollments = JourneyEnrollment.__table__


@dataclass
class TickResult:
    advanced: int = 0
    steps: int = 0
    completed: int = 0
    exited: int = 0
    failed: int = 0
    enrolled: int = 0
    woken: int = 0
    messages: int = 0
    batches: int = 0


def tick(
    engine: Engine,
    actor: Actor,
    *,
    now: dt.datetime,
    limit: int | None = None,
    batch_size: int = BATCH,
    journey: str | None = None,
    scorecard: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> TickResult:
    """Run the triggers, wake enrollments whose awaited thing happened, then
    advance every due enrollment (at most `limit`), a batch per transaction."""
    result = TickResult()
    with transaction(engine) as session:
        result.enrolled = triggers.run_triggers(session, actor, now=now)
    with transaction(engine) as session:
        result.woken = triggers.wake(session, now=now)
    with transaction(engine) as session:
        triggers.sweep_criteria(session, actor, now=now)
    touched: set[int] = set()
    while limit is None or result.advanced < limit:
        size = batch_size if limit is None else min(batch_size, limit - result.advanced)
        with transaction(engine) as session:
            lives = claim(session, now=now, size=size, journey=journey)
            if not lives:
                break
            batch = Batch(session, actor, now, Programs(session), scorecard=scorecard)
            advance(batch, lives)
            write(batch, lives)
        result.batches += 1
        result.advanced += len(lives)
        result.steps += len(batch.step_runs)
        result.messages += len(batch.messages)
        for live in batch.ended:
            if live.status == EnrollmentStatus.COMPLETED:
                result.completed += 1
            elif live.status == EnrollmentStatus.EXITED:
                result.exited += 1
            else:
                result.failed += 1
        touched.update(live.journey_id for live in batch.ended)
        if progress:
            progress(len(lives))
    with transaction(engine) as session:
        # Also the journeys a killed tick (or one still running) left uncounted.
        metrics.refresh_journeys(session, sorted(touched | metrics.pending_journeys(session)), now=now)
    return result


def claim(
    session: Session, *, now: dt.datetime, size: int, journey: str | None = None, only: int | None = None
) -> list[Live]:
    """Lock up to `size` due enrollments (of one journey, or just enrollment
    `only`) that no other tick holds."""
    e = _enrollments
    stmt = (
        sa.select(*LIVE_COLUMNS)
        .where(e.c.status == EnrollmentStatus.ACTIVE.value, e.c.next_run_at <= now)
        # The (status, next_run_at) index gives this order: no sort of every due row.
        .order_by(e.c.next_run_at)
        .limit(size)
    )
    if journey is not None:
        stmt = stmt.where(
            e.c.journey_id == sa.select(Journey.id).where(Journey.key == journey).scalar_subquery()
        )
    if only is not None:
        stmt = stmt.where(e.c.id == only)
    return lock_lives(session, stmt)


def advance(batch: Batch, lives: list[Live]) -> None:
    """Check exit criteria and goals, then run steps until each enrollment
    waits or ends."""
    check_criteria(batch, lives)
    running = [lv for lv in lives if lv.active]
    for _ in range(MAX_ROUNDS):
        if not running:
            break
        groups: dict[tuple[int, int, str | None, bool], list[Live]] = defaultdict(list)
        for live in running:
            groups[(live.journey_id, live.version, live.step_key, live.resuming)].append(live)
        for (journey_id, version, key, resuming), group in groups.items():
            program = batch.programs.get(journey_id, version)
            step = program.steps.get(key) if key else None
            if step is None:
                for live in group:
                    batch.end(
                        live, EnrollmentStatus.FAILED, success=False, reason="its step no longer exists"
                    )
                continue
            handler = (RESUME if resuming else RUN).get(step.type)
            if handler is None:  # a step that does not wait is never resumed: run it again
                handler = RUN[step.type]
            handler(batch, program, step, group)
        finish(batch)
        running = [lv for lv in running if lv.active and lv.moved]
        for live in running:
            live.moved = False
            live.resuming = False


def finish(batch: Batch) -> None:
    """End the enrollments that ran out of steps this round: completed, with
    success if the goal is met now."""
    if not batch.ending:
        return
    ending, batch.ending = batch.ending, []
    by_journey: dict[tuple[int, int], list[Live]] = defaultdict(list)
    for live in ending:
        by_journey[(live.journey_id, live.version)].append(live)
    for (journey_id, version), group in by_journey.items():
        program = batch.programs.get(journey_id, version)
        met = (
            criteria.criteria_met(batch.session, program.goal, group, now=batch.now)
            if program.goal is not None
            else set()
        )
        for live in group:
            success = live.id in met if program.goal is not None else None
            batch.end(
                live, EnrollmentStatus.COMPLETED, success=success, reason="reached the end of the journey"
            )


def exit_enrollment(
    session: Session, actor: Actor, enrollment_id: int, *, reason: str | None, now: dt.datetime
):
    """`cs journeys exit`: end an active enrollment by hand (exited, no success)."""
    # Waits for a tick that is advancing it, then sees what that tick did.
    row = session.execute(
        sa.select(_enrollments.c.id, _enrollments.c.status, _enrollments.c.customer_id, Journey.key)
        .join(Journey, Journey.id == _enrollments.c.journey_id)
        .join(Customer, Customer.id == _enrollments.c.customer_id)
        .where(_enrollments.c.id == enrollment_id, customer_scope(actor))
        .with_for_update(of=_enrollments)
    ).first()
    if row is None:
        raise NotFound(
            f"no enrollment {enrollment_id}" + ("" if actor.role == "admin" else " that you can see")
        )
    if row.status != EnrollmentStatus.ACTIVE:
        raise BadInput(f"enrollment {enrollment_id} has already ended ({row.status})")
    text = reason or f"exited by {actor.name}"
    session.execute(
        sa.update(_enrollments)
        .where(_enrollments.c.id == enrollment_id)
        .values(
            status=EnrollmentStatus.EXITED.value,
            success=False,
            exit_reason=text,
            completed_at=now,
            next_run_at=None,
            updated_at=now,
        )
    )
    data = {"journey": row.key, "enrollment_id": enrollment_id, "success": False, "reason": text}
    events.record(session, actor, EXITED, customer_id=row.customer_id, occurred_at=now, data=data)
    audit(
        session,
        actor,
        "journey.exit",
        "enrollment",
        enrollment_id,
        at=now,
        customer_id=row.customer_id,
        details=data,
    )
    journey_id = session.scalar(
        sa.select(_enrollments.c.journey_id).where(_enrollments.c.id == enrollment_id)
    )
    metrics.refresh_journeys(session, [journey_id], now=now)
    return row.key
