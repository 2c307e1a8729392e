"""Journeys: their versions, listing, steps and details."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from cs_cli.enums import JourneyType


@dataclass(frozen=True)
class JourneyChange:
    """What `cs journeys load` does (or would do) to one journey."""

    kind: str  # added, changed, deactivated or unchanged
    key: str
    name: str
    path: str | None
    # The version enrollments start on after the load (a change makes a new one).
    version: int | None
    # A unified diff of the YAML-level fields and templates, database first ("" if none).
    diff: str = ""


@dataclass(frozen=True)
class JourneyRow:
    """One line of `cs journeys list`, with what the journey has achieved."""

    key: str
    name: str
    journey_type: JourneyType
    # The trigger in words ("event customer.created"); "manual" when none.
    trigger: str
    is_active: bool
    version: int
    steps: int
    duration_days: int | None
    active_enrollments: int
    total_enrolled: int
    total_completed: int
    avg_completion_days: float | None
    success_rate: float | None


@dataclass(frozen=True)
class JourneyStepView:
    """One step of a journey's current version, for `cs journeys show`."""

    key: str
    name: str
    # The type as the file spells it (the nine, or an action such as exit).
    step_type: str
    order: int
    # What the step does, in words.
    summary: str
    # Where it can go next: (label, step key); label is next, yes, no, an
    # outcome, timeout or a split branch.
    branches: list[tuple[str, str]]
    # With metrics: enrollments (of any version) that reached this step, and
    # those on it now.
    reached: int | None = None
    current: int | None = None


@dataclass(frozen=True)
class JourneyDetail:
    """Everything `cs journeys show` prints about one journey."""

    journey: JourneyRow
    description: str | None
    trigger_config: dict[str, Any] | None
    goal: dict[str, Any] | None
    exit_when: dict[str, Any] | None
    allow_re_enrollment: bool
    max_concurrent_enrollments: int | None
    content_hash: str | None
    updated_at: dt.datetime | None
    steps: list[JourneyStepView] = field(default_factory=list)
    # With metrics: the enrollments (in the actor's scope) the funnel counts.
    enrollments: int | None = None
