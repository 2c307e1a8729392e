"""CS tasks and touchpoints."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from cs_cli.enums import (
    Channel,
    Direction,
    Priority,
    Sentiment,
    TaskOutcome,
    TaskStatus,
    TaskType,
    TouchpointType,
)


@dataclass(frozen=True)
class TaskRow:
    """One line of `cs tasks list`."""

    id: int
    customer: str
    customer_name: str
    title: str
    task_type: TaskType
    priority: Priority
    status: TaskStatus
    due_date: dt.date | None
    # Open and due before the day the listing is for.
    overdue: bool
    snoozed_until: dt.date | None
    assignee: str | None
    playbook: str | None
    created_at: dt.datetime


@dataclass(frozen=True)
class TaskPage:
    """One page of tasks. Counting stops at a cap on very large results:
    then `total_exact` is False and `total` is a lower bound."""

    rows: list[TaskRow]
    total: int
    total_exact: bool
    offset: int
    limit: int | None


@dataclass(frozen=True)
class TaskHistoryEntry:
    """One change to a task, from its audit trail: when, who, and what in words."""

    at: dt.datetime
    actor: str | None
    action: str
    words: str


@dataclass(frozen=True)
class TaskDetail:
    """Everything `cs tasks show` prints about one task."""

    row: TaskRow
    description: str | None
    assigned_to_role: str | None
    blocked_reason: str | None
    started_at: dt.datetime | None
    completed_at: dt.datetime | None
    outcome: TaskOutcome | None
    outcome_notes: str | None
    time_spent_minutes: int | None
    playbook_name: str | None
    playbook_run_id: int | None
    playbook_step: str | None
    journey_enrollment_id: int | None
    updated_at: dt.datetime | None
    touchpoint_ids: list[int] = field(default_factory=list)
    # Who changed what, when (`task_history`); filled only when asked for.
    history: list[TaskHistoryEntry] = field(default_factory=list)


@dataclass(frozen=True)
class TaskChangeResult:
    """What one change did: the tasks changed, those of a filter it skipped
    (by status, they could not make the change) and the touchpoints logged."""

    action: str
    changed: list[int]
    skipped: dict[str, int] = field(default_factory=dict)
    touchpoints: int = 0


@dataclass(frozen=True)
class TouchpointRow:
    """One line of `cs touchpoints list` and of a timeline."""

    id: int
    occurred_at: dt.datetime
    customer: str
    touchpoint_type: TouchpointType
    subject: str | None
    direction: Direction | None
    channel: Channel | None
    user: str | None
    contact: str | None
    sentiment_label: Sentiment | None
    sentiment_score: float | None
    duration_minutes: int | None
    task_id: int | None


@dataclass(frozen=True)
class TouchpointDetail:
    row: TouchpointRow
    customer_name: str
    description: str | None
    key_topics: list[str] | None
    recording_url: str | None
    created_at: dt.datetime
    # The customer's people who took part, by name (email when unnamed).
    attendees: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ContactChoice:
    """One of a customer's people, as a touchpoint's attendee to pick."""

    id: int
    name: str
    email: str | None
    title: str | None
    left: bool  # no longer with the customer


@dataclass(frozen=True)
class FollowUp:
    """The task a touchpoint calls for, logged with it."""

    title: str
    due_date: dt.date | None = None
    task_type: TaskType = TaskType.FOLLOW_UP
    priority: Priority = Priority.MEDIUM


@dataclass(frozen=True)
class LoggedTouchpoint:
    """A touchpoint logged from the board, and its follow-up task if any."""

    touchpoint: TouchpointDetail
    follow_up: TaskDetail | None


# Each change of the task lifecycle in the past tense, as the CLI and the
# board report it ("completed task 12").
PAST_TENSE = {
    "start": "started",
    "complete": "completed",
    "block": "blocked",
    "unblock": "unblocked",
    "cancel": "cancelled",
    "assign": "assigned",
    "reschedule": "rescheduled",
    "snooze": "snoozed",
    "update": "updated",
}
