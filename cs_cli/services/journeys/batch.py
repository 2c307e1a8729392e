"""A batch of enrollments being advanced, and what it reads and writes.

`Live` is one enrollment as a batch holds it; `Batch` is the batch's shared
state, through which a step handler reports (`run`, `go`, `wait`, `end`,
`fail`). Enrollments are read and locked with `lock_lives`, checked against
goals and exit criteria with `check_criteria`, and written back with `write`.

The tick (engine.py), the step handlers (steps.py) and the hourly sweep of
sleeping enrollments (triggers.py) all work on batches; this module is what
they share, so that none of them imports another's.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.models import Journey, JourneyEnrollment, JourneyStep, JourneyStepRun
from cs_cli.domain import Actor, EnrollmentStatus
from cs_cli.services import events
from cs_cli.services.journeys import criteria
from cs_cli.services.journeys.context import CustomerFacts, load
from cs_cli.services.journeys.program import Program, Programs, ProgramStep
from cs_cli.services.outbox.enqueue import enqueue_rows

# The events an enrollment's end records.
COMPLETED = "journey.completed"
EXITED = "journey.exited"
FAILED = "journey.failed"

_enrollments = JourneyEnrollment.__table__


@dataclass
class Live:
    """One enrollment being advanced in this batch."""

    id: int
    journey_id: int
    version: int
    customer_id: int
    contact_id: int | None
    enrolled_at: dt.datetime
    step_key: str | None
    step_entered_at: dt.datetime | None
    facts: dict[str, Any]
    status: EnrollmentStatus = EnrollmentStatus.ACTIVE
    success: bool | None = None
    exit_reason: str | None = None
    next_run_at: dt.datetime | None = None
    moved: bool = False  # went on to another step this round
    resuming: bool = False  # its step is waiting and is looked at again
    changed: bool = False

    @property
    def active(self) -> bool:
        return self.status == EnrollmentStatus.ACTIVE

    @property
    def waiting(self) -> dict[str, Any] | None:
        return self.facts.get("waiting")


@dataclass
class Trace:
    """What one step did for one enrollment (for simulate and the tests)."""

    step: str
    step_type: str
    outcome: str
    detail: dict[str, Any] | None = None


@dataclass
class Batch:
    """A batch's shared state: where it is, what it read, what it will write."""

    session: Session
    actor: Actor
    now: dt.datetime
    programs: Programs
    simulate: bool = False
    # The scorecard file health_check steps score with (None: the shipped one).
    scorecard: Path | None = None
    people: dict[int, CustomerFacts] = field(default_factory=dict)
    step_runs: list[dict[str, Any]] = field(default_factory=list)
    # Outbox rows, checked (outbox.enqueue.prepare).
    messages: list[dict[str, Any]] = field(default_factory=list)
    executed: Counter[int] = field(default_factory=Counter)
    succeeded: Counter[int] = field(default_factory=Counter)
    ending: list[Live] = field(default_factory=list)
    ended: list[Live] = field(default_factory=list)
    traces: dict[int, list[Trace]] = field(default_factory=lambda: defaultdict(list))

    @property
    def today(self) -> dt.date:
        return self.now.date()

    def facts_of(self, lives: list[Live]) -> dict[int, CustomerFacts]:
        missing = {lv.customer_id for lv in lives} - set(self.people)
        if missing:
            self.people.update(load(self.session, missing, today=self.today))
        return self.people

    # --- what a step handler reports ---

    def run(
        self,
        live: Live,
        step: ProgramStep,
        outcome: str,
        detail: dict | None = None,
        error: str | None = None,
    ):
        """Record one execution of `step` (a new visit) for `live`."""
        visited = live.facts.setdefault("visited", {})
        visit = visited.get(step.key, 0) + 1
        visited[step.key] = visit
        self.step_runs.append(
            {
                "enrollment_id": live.id,
                "step_id": step.id,
                "step_key": step.key,
                "visit": visit,
                "executed_at": self.now,
                "outcome": outcome,
                "detail": detail,
                "error": error,
            }
        )
        self.executed[step.id] += 1
        if outcome not in ("failed", "skipped"):
            self.succeeded[step.id] += 1
        self.traces[live.id].append(Trace(step.key, step.type.value, outcome, detail))
        live.changed = True

    def visit(self, live: Live, key: str) -> int:
        """The visit number the step's execution now being done has."""
        return live.facts.get("visited", {}).get(key, 0)

    def go(self, live: Live, key: str | None) -> None:
        """Move on to step `key`; none: the enrollment ends (success if its
        goal is met then)."""
        live.facts.pop("waiting", None)
        live.changed = True
        if key is None:
            self.ending.append(live)
            return
        live.step_key = key
        live.step_entered_at = self.now
        live.next_run_at = self.now
        live.moved = True

    def wait(self, live: Live, until: dt.datetime, **state: Any) -> None:
        """Hold the enrollment on its step until `until` (or a wake-up)."""
        live.facts["waiting"] = {"step": live.step_key, "until": until.isoformat(), **state}
        live.next_run_at = until
        live.changed = True

    def end(self, live: Live, status: EnrollmentStatus, *, success: bool | None, reason: str | None) -> None:
        live.facts.pop("waiting", None)
        live.status = status
        live.success = success
        live.exit_reason = reason
        live.next_run_at = None
        live.changed = True
        self.ended.append(live)

    def fail(self, live: Live, step: ProgramStep, reason: str) -> None:
        self.run(live, step, "failed", error=reason)
        self.end(live, EnrollmentStatus.FAILED, success=False, reason=f"step {step.key}: {reason}")

    def note(self, live: Live, text: str) -> None:
        notes = live.facts.setdefault("notes", [])
        notes.append({"at": self.now.isoformat(), "text": text})
        del notes[:-20]  # the latest twenty are enough to say why


Handler = Callable[[Batch, Program, ProgramStep, list[Live]], None]


# What an enrollment being advanced is read with (see to_live).
LIVE_COLUMNS = [
    _enrollments.c[name]
    for name in (
        "id",
        "journey_id",
        "journey_version",
        "customer_id",
        "contact_id",
        "enrolled_at",
        "current_step_id",
        "step_entered_at",
        "next_run_at",
        "facts",
    )
]


def lock_lives(session: Session, stmt: sa.Select) -> list[Live]:
    """The enrollments `stmt` (a SELECT of LIVE_COLUMNS) picks, claimed for this transaction."""
    rows = session.execute(dialect.claim(session, stmt, _enrollments)).all()
    keys = _step_keys(session, {r.current_step_id for r in rows})
    return [to_live(r, keys) for r in rows]


def _step_keys(session: Session, ids: set[int | None]) -> dict[int, str]:
    ids.discard(None)
    if not ids:
        return {}
    return dict(
        session.execute(sa.select(JourneyStep.id, JourneyStep.key).where(JourneyStep.id.in_(ids))).all()
    )


def to_live(row: Any, keys: dict[int, str]) -> Live:
    facts = dict(row.facts or {})
    key = keys.get(row.current_step_id)
    live = Live(
        id=row.id,
        journey_id=row.journey_id,
        version=row.journey_version,
        customer_id=row.customer_id,
        contact_id=row.contact_id,
        enrolled_at=row.enrolled_at,
        step_key=key,
        step_entered_at=row.step_entered_at,
        facts=facts,
        next_run_at=row.next_run_at,
    )
    live.resuming = key is not None and (facts.get("waiting") or {}).get("step") == key
    return live


def check_criteria(batch: Batch, lives: list[Live]) -> None:
    """Exit criteria first (met: exited), then the goal (met: completed with success)."""
    by_journey: dict[int, list[Live]] = defaultdict(list)
    for live in lives:
        if live.active:
            by_journey[live.journey_id].append(live)
    for journey_id, group in by_journey.items():
        program = batch.programs.get(journey_id, group[0].version)
        if program.exit_when is not None:
            met = criteria.criteria_met(batch.session, program.exit_when, group, now=batch.now)
            for live in group:
                if live.id in met:
                    reason = program.exit_when.description or "its exit criteria were met"
                    batch.end(live, EnrollmentStatus.EXITED, success=False, reason=reason)
            group = [lv for lv in group if lv.active]
        if program.goal is not None and group:
            met = criteria.criteria_met(batch.session, program.goal, group, now=batch.now)
            for live in group:
                if live.id in met:
                    reason = program.goal.description or "its goal was met"
                    batch.end(live, EnrollmentStatus.COMPLETED, success=True, reason=f"goal met: {reason}")


def write(batch: Batch, lives: list[Live]) -> None:
    """Write what the batch did: step runs, messages, the enrollments, metrics, events."""
    session = batch.session
    # Step runs and enrollment changes go through scratch tables (COPY on
    # Postgres) and one statement each: a multi-row VALUES or an executemany
    # of a whole batch costs the driver more than the database.
    if batch.step_runs:
        runs = JourneyStepRun.__table__
        columns = list(batch.step_runs[0])
        staged = dialect.scratch_table(
            session,
            "cs_new_step_runs",
            [sa.Column(c, runs.c[c].type) for c in columns],
            [tuple(r[c] for c in columns) for r in batch.step_runs],
        )
        # No ON CONFLICT: a step run already there under its key is a bug to stop at.
        session.execute(sa.insert(runs).from_select(columns, sa.select(*(staged.c[c] for c in columns))))
    if batch.messages:
        enqueue_rows(session, batch.messages)
    changed = [lv for lv in lives if lv.changed or lv.next_run_at is not None]
    if changed:
        values = [_enrollment_values(batch, lv) for lv in changed]
        columns = [c for c in values[0] if c != "b_id"]
        staged = dialect.scratch_table(
            session,
            "cs_changed_enrollments",
            [sa.Column("b_id", sa.Integer), *(sa.Column(c, _scratch_type(c)) for c in columns)],
            [tuple(v[c] for c in ("b_id", *columns)) for v in values],
        )
        session.execute(
            sa.update(_enrollments)
            .where(_enrollments.c.id == staged.c.b_id)
            .values({c: staged.c[c] for c in columns})
        )
    ends = defaultdict(list)
    for live in batch.ended:
        name = {
            EnrollmentStatus.COMPLETED: COMPLETED,
            EnrollmentStatus.EXITED: EXITED,
        }.get(live.status, FAILED)
        ends[name].append(
            (
                live.customer_id,
                {
                    "journey": batch.programs.get(live.journey_id, live.version).key,
                    "enrollment_id": live.id,
                    "success": live.success,
                    "reason": live.exit_reason,
                },
            )
        )
    for name, rows in ends.items():
        events.record_many(session, batch.actor, name, rows, occurred_at=batch.now)
    if batch.executed:
        # Last, and in id order: concurrent ticks hold these shared rows only
        # until they commit, and always take them in the same order (no deadlock).
        session.execute(
            sa.update(JourneyStep.__table__)
            .where(JourneyStep.__table__.c.id == sa.bindparam("b_id"))
            .values(
                times_executed=JourneyStep.__table__.c.times_executed + sa.bindparam("b_n"),
                success_count=JourneyStep.__table__.c.success_count + sa.bindparam("b_ok"),
            ),
            [
                {"b_id": k, "b_n": batch.executed[k], "b_ok": batch.succeeded.get(k, 0)}
                for k in sorted(batch.executed)
            ],
        )
    if batch.ended:
        # The journeys' metrics are recounted when the tick ends; until then
        # each says a batch of its ended enrollments is not counted yet, so a
        # tick killed before its recount leaves the next tick something to do.
        journeys = Journey.__table__
        session.execute(
            sa.update(journeys)
            .where(journeys.c.id == sa.bindparam("b_id"))
            .values(metrics_pending=journeys.c.metrics_pending + 1),
            [{"b_id": k} for k in sorted({live.journey_id for live in batch.ended})],
        )


def _scratch_type(column: str) -> Any:
    kind = _enrollments.c[column].type
    return sa.String(20) if isinstance(kind, sa.Enum) else kind  # an enum goes as its text


def _enrollment_values(batch: Batch, live: Live) -> dict[str, Any]:
    program = batch.programs.get(live.journey_id, live.version)
    step = program.steps.get(live.step_key) if live.step_key else None
    ended = not live.active
    return {
        "b_id": live.id,
        "status": live.status.value,
        "success": live.success,
        "exit_reason": live.exit_reason,
        "completed_at": batch.now if ended else None,
        "current_step_id": step.id if step else None,
        "step_entered_at": live.step_entered_at,
        "next_run_at": None if ended else live.next_run_at,
        "facts": live.facts,
        "updated_at": batch.now,
    }
