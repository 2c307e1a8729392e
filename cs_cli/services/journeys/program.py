"""A journey version as the engine runs it: the rows of one (journey,
version) read back into the typed steps of specs/journey.py, with what
loading resolved (email template sources, segment ids).

The tick reads each version it meets once per run (`Programs`), so a batch
of thousands of enrollments costs one query per journey version, not one
per enrollment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from cs_cli.db.models import Journey, JourneyStep
from cs_cli.specs.journey import Criteria, ExitCriteria, Step, StepType

# The key of a step's config under which loading (catalog.py) keeps what it
# looked up, not in the file: defined here, where the rows are read back, so
# that the catalog, which writes them, depends on this module and not the reverse.
RESOLVED = "resolved"
_STEP = TypeAdapter(Step)


@dataclass(frozen=True)
class ProgramStep:
    id: int
    key: str
    name: str
    type: StepType
    spec: Any  # one of the step models of specs/journey.py
    resolved: dict[str, Any]


@dataclass
class Program:
    """One version of one journey: its settings and its steps by key."""

    journey_id: int
    key: str
    name: str
    version: int
    is_active: bool
    duration_days: int | None
    goal: Criteria | None
    exit_when: ExitCriteria | None
    steps: dict[str, ProgramStep] = field(default_factory=dict)
    first: str | None = None

    def by_id(self, step_id: int | None) -> ProgramStep | None:
        return next((s for s in self.steps.values() if s.id == step_id), None)


def step_spec(row: JourneyStep) -> Any:
    """The typed step a row holds (its config is the step as the file spelt it)."""
    config = {k: v for k, v in (row.config or {}).items() if k != RESOLVED}
    return _STEP.validate_python({**config, "key": row.key, "name": row.name})


class Programs:
    """The journey versions a tick meets, each read once."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._cache: dict[tuple[int, int], Program] = {}
        self._journeys: dict[int, Journey] = {}

    def get(self, journey_id: int, version: int) -> Program:
        found = self._cache.get((journey_id, version))
        if found is None:
            found = self._cache[(journey_id, version)] = self._read(journey_id, version)
        return found

    def journey(self, journey_id: int) -> Journey:
        if journey_id not in self._journeys:
            self._journeys[journey_id] = self.session.get_one(Journey, journey_id)
        return self._journeys[journey_id]

    def _read(self, journey_id: int, version: int) -> Program:
        journey = self.journey(journey_id)
        criteria = journey.goal or {}
        program = Program(
            journey_id=journey.id,
            key=journey.key,
            name=journey.name,
            version=version,
            is_active=journey.is_active,
            duration_days=journey.duration_days,
            goal=Criteria.model_validate(criteria["goal"]) if "goal" in criteria else None,
            exit_when=ExitCriteria.model_validate(criteria["exit_when"]) if "exit_when" in criteria else None,
        )
        rows = self.session.scalars(
            sa.select(JourneyStep)
            .where(JourneyStep.journey_id == journey_id, JourneyStep.version == version)
            .order_by(JourneyStep.step_order)
        ).all()
        for row in rows:
            spec = step_spec(row)
            program.steps[row.key] = ProgramStep(
                id=row.id,
                key=row.key,
                name=row.name,
                type=StepType(spec.type),
                spec=spec,
                resolved=(row.config or {}).get(RESOLVED) or {},
            )
            if program.first is None:
                program.first = row.key
        return program
