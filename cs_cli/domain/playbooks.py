"""Playbooks, their steps and runs, and what evaluating their triggers started."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from cs_cli.enums import PlaybookCategory, PlaybookRunStatus, PlaybookStepType, Priority, TaskType


@dataclass(frozen=True)
class PlaybookRow:
    """One line of `cs playbooks list`, with what the playbook has learned."""

    key: str
    name: str
    category: PlaybookCategory
    priority: Priority
    is_active: bool
    # The automatic triggers in words ("health below 50"); "manual" when none.
    triggers: str
    steps: int
    estimated_hours: float | None
    cooldown_days: int | None
    active_runs: int
    times_triggered: int
    times_completed: int
    avg_completion_days: float | None
    success_rate: float | None


@dataclass(frozen=True)
class PlaybookStepView:
    order: int
    name: str
    step_type: PlaybookStepType
    assignee_role: str | None
    days_from_start: int | None
    due_days: int | None
    recurring: str | None
    duration_weeks: int | None
    email_template: str | None
    required_artifacts: list[str]
    description: str | None
    meeting_agenda: str | None
    talk_track: str | None
    success_criteria: dict[str, Any] | None


@dataclass(frozen=True)
class PlaybookDetail:
    """Everything `cs playbooks show` prints about one playbook."""

    playbook: PlaybookRow
    description: str | None
    auto_assign: bool
    success_criteria: dict[str, Any] | None
    trigger_health_threshold: int | None
    trigger_days_to_renewal: int | None
    trigger_segment: str | None
    trigger_event: str | None
    content_hash: str | None
    updated_at: dt.datetime | None
    steps: list[PlaybookStepView] = field(default_factory=list)


@dataclass(frozen=True)
class PlaybookRunRow:
    """One line of `cs playbooks runs`."""

    id: int
    playbook: str
    customer: str
    customer_name: str
    status: PlaybookRunStatus
    triggered_by: str
    trigger_reason: str | None
    started_at: dt.datetime
    completed_at: dt.datetime | None
    baseline_health_score: int | None
    success: bool | None
    tasks_open: int
    tasks_total: int


@dataclass(frozen=True)
class PlaybookChange:
    """What `cs playbooks load` does (or would do) to one playbook."""

    kind: str  # added, changed, deactivated or unchanged
    key: str
    name: str
    path: str | None
    # A unified diff of the YAML-level fields, database first ("" if none).
    diff: str = ""


@dataclass(frozen=True)
class RunTask:
    """A task a playbook run created."""

    id: int
    title: str
    task_type: TaskType
    due_date: dt.date | None
    assignee: str | None
    assigned_to_role: str | None


@dataclass(frozen=True)
class TriggeredRun:
    """A run started by `cs playbooks trigger`, and its tasks."""

    run: PlaybookRunRow
    tasks: list[RunTask]


@dataclass(frozen=True)
class PlaybookEvaluation:
    """What `cs playbooks evaluate` did."""

    as_of: dt.date
    # Runs started per playbook key, and the tasks they created.
    runs_started: dict[str, int]
    tasks_created: int
    # Runs whose success was decided now (true or false).
    runs_judged: int
