"""The board: task cards and columns, Customer 360, risk alerts and the dashboard."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from cs_cli.enums import (
    AlertSeverity,
    AlertStatus,
    EnrollmentStatus,
    HealthStatus,
    JourneyType,
    PlaybookRunStatus,
    Priority,
    Role,
    TaskOutcome,
    TaskStatus,
    TaskType,
)

if TYPE_CHECKING:
    from cs_cli.domain.customers import ContactView, CustomerRow, Page, TicketRow
    from cs_cli.domain.health import HealthDetail, HistoryPoint
    from cs_cli.domain.metrics import RenewalWindow
    from cs_cli.domain.predictions import ChurnDriver
    from cs_cli.domain.tasks import TaskHistoryEntry, TaskPage, TouchpointDetail
    from cs_cli.domain.text import Theme


@dataclass(frozen=True)
class BoardCard:
    """One card of the task board: the task, its customer and the customer's health."""

    id: int
    customer: str
    customer_name: str
    title: str
    task_type: TaskType
    priority: Priority
    status: TaskStatus
    due_date: dt.date | None
    # Open and due before the board's day.
    overdue: bool
    assignee: str | None
    playbook: str | None
    blocked_reason: str | None
    completed_at: dt.datetime | None
    # The customer's current health (an override in force wins); None: not scored.
    health_score: int | None
    health_status: HealthStatus | None
    health_overridden: bool = False
    # Snoozed to a later day (shown only when the board includes snoozed tasks).
    snoozed_until: dt.date | None = None
    # What came of a completed task.
    outcome: TaskOutcome | None = None
    # The customer's ARR and next renewal.
    arr: Decimal | None = None
    renewal_date: dt.date | None = None


@dataclass(frozen=True)
class TaskView:
    """Everything about one task on one screen: the card, what it asks, the
    playbook step it came from with that step's guidance, its customer's key
    facts, its history (oldest first) and the touchpoints logged for it."""

    card: BoardCard
    description: str | None
    owner_name: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    outcome_notes: str | None
    time_spent_minutes: int | None
    playbook_name: str | None
    playbook_run_id: int | None
    step_name: str | None
    step_order: int | None
    # The step's guidance as the playbook file gives it (templates, not rendered).
    meeting_agenda: str | None
    talk_track: str | None
    journey: str | None
    customer_status: str
    history: list[TaskHistoryEntry]
    touchpoints: list[TouchpointDetail]


@dataclass(frozen=True)
class BoardColumn:
    """One page of a board column. Counting stops at a cap: beyond it
    `total_exact` is False and `total` is a lower bound."""

    status: TaskStatus
    cards: list[BoardCard]
    total: int
    total_exact: bool
    offset: int


@dataclass(frozen=True)
class FilterChoices:
    """What the board's filter form offers to pick from."""

    # (key, name) of each playbook.
    playbooks: list[tuple[str, str]]
    # (email, name) of each person whose tasks may be picked.
    owners: list[tuple[str, str]]
    # Segment names.
    segments: list[str]


@dataclass(frozen=True)
class BoardView:
    """A saved view of the board: a name and the filters (scope included)
    as JSON, with those filters in words."""

    id: int
    name: str
    filters: dict
    described: str
    created_at: dt.datetime
    updated_at: dt.datetime | None


@dataclass(frozen=True)
class Assignee:
    """A user tasks can be given to."""

    id: int
    name: str
    email: str
    role: Role


@dataclass(frozen=True)
class AlertRow:
    """One risk alert raised about a customer, with who acknowledged and resolved it."""

    id: int
    customer: str
    customer_name: str
    alert_type: str
    severity: AlertSeverity
    status: AlertStatus
    title: str
    reason: str | None
    raised_at: dt.datetime
    acknowledged_at: dt.datetime | None
    acknowledged_by: str | None
    resolved_at: dt.datetime | None
    resolved_by: str | None
    # The customer's current health (an override in force wins); None: not scored.
    health_score: int | None
    health_status: HealthStatus | None
    # Who is to act on it (email); None: nobody named.
    assigned_to: str | None = None


@dataclass(frozen=True)
class MeasureView:
    """One measure behind a component score: its raw value and band score."""

    name: str
    raw: float | int | None
    score: int | None
    meaning: str


@dataclass(frozen=True)
class ComponentView:
    """A health component: its score, the points it adds to the overall
    score, and the measures behind it."""

    name: str
    score: int | None
    points: float | None
    measures: list[MeasureView]


@dataclass(frozen=True)
class RiskIndicator:
    """One reason a customer is at risk, in words."""

    kind: str
    severity: AlertSeverity
    text: str


@dataclass(frozen=True)
class EnrollmentView:
    """A customer's enrollment in a journey and the step it is on."""

    id: int
    journey: str
    journey_type: JourneyType
    status: EnrollmentStatus
    current_step: str | None
    step_order: int | None
    steps: int
    enrolled_at: dt.datetime
    completed_at: dt.datetime | None


@dataclass(frozen=True)
class RunProgress:
    """A playbook run for one customer and how far its tasks have got."""

    id: int
    playbook: str
    playbook_name: str
    status: PlaybookRunStatus
    trigger_reason: str | None
    started_at: dt.datetime
    tasks_done: int
    tasks_total: int


@dataclass(frozen=True)
class Customer360:
    """Everything about one customer on one screen (plan 7.2)."""

    customer: CustomerRow
    industry: str | None
    region: str | None
    contract_start: dt.date | None
    churned_at: dt.datetime | None
    as_of: dt.date
    # The explained current score; None when the customer has no score yet.
    health: HealthDetail | None
    # Daily scores, oldest first, for the trend.
    history: list[HistoryPoint]
    components: list[ComponentView]
    # (name, factor, what it means) of each multiplier applied to the score.
    multipliers: list[tuple[str, float, str]]
    risks: list[RiskIndicator]
    churn_probability: float | None
    expansion_probability: float | None
    latest_nps: int | None
    # The next NPS response the NPS model expects (cs nps predict).
    predicted_nps: int | None
    contacts: list[ContactView]
    journeys: list[EnrollmentView]
    playbook_runs: list[RunProgress]
    # The newest touchpoints (a page of TouchpointRow) and the open tasks.
    touchpoints: Page
    tasks: TaskPage
    alerts: list[AlertRow]
    # What moves the churn probability most (from the active model), biggest first.
    churn_drivers: list[ChurnDriver] = field(default_factory=list)
    # What the customer's touchpoints and tickets of the last 90 days were
    # about, most mentioned first (services/text/themes.py Theme).
    topics: list[Theme] = field(default_factory=list)
    # The newest support tickets, open ones first.
    tickets: list[TicketRow] = field(default_factory=list)
    # The status thresholds of the scorecard behind the score: (at risk, healthy).
    status_bands: tuple[int, int] = (60, 80)
    # Usage events in each of the last weeks, oldest first, the week ending as_of last.
    usage_weeks: list[UsageWeek] = field(default_factory=list)


@dataclass(frozen=True)
class UsageWeek:
    """The usage events of one customer in the seven days ending `end`."""

    end: dt.date
    events: int


@dataclass(frozen=True)
class BookScorePoint:
    """The scores written for one day over a scope of the book."""

    as_of: dt.date
    customers: int
    mean_score: float
    # Of them, at risk or critical on that day.
    at_risk: int


@dataclass(frozen=True)
class StatusCount:
    """Customers (and their ARR) with one health status."""

    status: HealthStatus
    customers: int
    arr: Decimal | None


@dataclass(frozen=True)
class AtRiskCustomer:
    """One of the customers most at risk."""

    external_id: str
    name: str
    overall_score: int
    health_status: HealthStatus
    score_change_30d: int | None
    arr: Decimal | None
    renewal_date: dt.date | None
    csm: str | None


@dataclass(frozen=True)
class KeyMetrics:
    """The success metrics of plan 11 over a scope of the book. None: no data."""

    # NPS: % promoters (9-10) minus % detractors (0-6), last 12 months.
    nps: int | None
    nps_average: float | None
    nps_responses: int
    # Of the customers active 12 months ago, the share churned since (logo churn).
    churn_rate: float | None
    churned_12m: int
    active_12m_ago: int
    # Median days from contract start to first value (the first_value_event
    # setting, else any use) of customers started in the last 12 months.
    time_to_value_days: float | None
    time_to_value_customers: int


@dataclass(frozen=True)
class Dashboard:
    """The success dashboard (plan 7.1) for a scope of the book on one day."""

    as_of: dt.date
    scope: str
    customers: int
    unscored: int
    arr: Decimal | None
    health: list[StatusCount]
    active_journeys: int
    active_enrollments: int
    tasks_due_today: int
    tasks_due_week: int
    tasks_overdue: int
    open_alerts: dict[str, int]
    recent_alerts: list[AlertRow]
    metrics: KeyMetrics
    at_risk: list[AtRiskCustomer]
    # The renewal pipeline's windows (30, 60, 90, 180 days), as the renewals screen shows them.
    renewals: list[RenewalWindow] = field(default_factory=list)
    # Each day of the last 90 with scores written, oldest first: the book's score trend.
    score_trend: list[BookScorePoint] = field(default_factory=list)
    # The shipped scorecard's status thresholds: (at risk, healthy).
    status_bands: tuple[int, int] = (60, 80)
