"""The domain's words: the enumerations (from cs_cli.enums) shared by models,
services and faces, and the frozen dataclasses that services return. Nothing
here touches a database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cs_cli.enums import (  # noqa: F401  (re-exported: the domain's words)
    AlertSeverity,
    AlertStatus,
    Channel,
    CustomerStatus,
    Direction,
    EnrollmentStatus,
    HealthStatus,
    JobStatus,
    JourneyStepType,
    JourneyTriggerType,
    JourneyType,
    NotifyPreference,
    OutboxChannel,
    OutboxStatus,
    PlaybookCategory,
    PlaybookRunStatus,
    PlaybookStepType,
    Priority,
    Role,
    ScoreTrend,
    SegmentType,
    Sentiment,
    TaskOutcome,
    TaskStatus,
    TaskType,
    TicketPriority,
    TicketStatus,
    TouchpointType,
)


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user with a role, or the system (cron)."""

    name: str
    role: Role
    user_id: int | None = None
    team_id: int | None = None

    @property
    def is_system(self) -> bool:
        return self.user_id is None

    @classmethod
    def system(cls) -> Actor:
        return cls(name="system", role=Role.ADMIN)


@dataclass(frozen=True)
class UserView:
    id: int
    name: str
    email: str
    role: Role
    team: str | None
    manager_email: str | None
    is_active: bool


@dataclass(frozen=True)
class CustomerRow:
    """One line of a customer listing."""

    id: int
    external_id: str
    name: str
    arr: Decimal | None
    plan: str | None
    seats: int | None
    status: CustomerStatus
    renewal_date: dt.date | None
    csm_email: str | None
    health_score: int | None
    health_status: HealthStatus | None


@dataclass(frozen=True)
class ContactView:
    external_id: str | None
    name: str | None
    email: str | None
    title: str | None
    role: str | None
    is_champion: bool
    is_exec_sponsor: bool
    left_at: dt.datetime | None


@dataclass(frozen=True)
class CustomerDetail:
    """Everything `cs customers show` prints about one customer."""

    customer: CustomerRow
    industry: str | None
    region: str | None
    contract_start: dt.date | None
    churned_at: dt.datetime | None
    attributes: dict[str, Any]
    created_at: dt.datetime
    contacts: list[ContactView] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    last_event_at: dt.datetime | None = None
    open_tasks: int = 0
    latest_nps: int | None = None


@dataclass(frozen=True)
class Page:
    """One page of a listing and the total it was cut from."""

    rows: list[Any]
    total: int
    offset: int
    limit: int | None
    # Rows a listing leaves out unless asked, by what they are (e.g. status).
    left_out: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class HealthRow:
    """One line of `cs health list`."""

    external_id: str
    name: str
    csm_email: str | None
    overall_score: int
    health_status: HealthStatus | None
    score_trend: ScoreTrend | None
    score_change_30d: int | None
    product_adoption_score: int | None
    engagement_score: int | None
    relationship_score: int | None
    financial_score: int | None
    support_score: int | None
    days_to_renewal: int | None
    as_of: dt.date | None
    # The score and status above are an override's, not the computed ones.
    overridden: bool = False


@dataclass(frozen=True)
class HealthDetail:
    """A score and its explanation, current or as of a past day."""

    external_id: str
    name: str
    as_of: dt.date | None
    overall_score: int
    health_status: HealthStatus | None
    score_trend: ScoreTrend | None
    score_change_30d: int | None
    components: dict[str, int | None]
    explanation: dict[str, Any]
    scorecard_version: str | None
    days_since_last_login: int | None = None
    days_to_renewal: int | None = None
    # In force on that day: score, status, reason, expires_on, set_by.
    override: dict[str, Any] | None = None


@dataclass(frozen=True)
class ChurnRate:
    """How often a group of observations (customer-days) churned."""

    group: str
    observations: int
    churned: int

    @property
    def rate(self) -> float | None:
        return self.churned / self.observations if self.observations else None


@dataclass(frozen=True)
class SignalRanking:
    """How well one number ranks the customers who churned: ROC AUC (0.5 is
    chance) with its 95% interval, over the observations that have it."""

    signal: str
    kind: str  # component, measure or baseline
    auc: float | None
    low: float | None
    high: float | None
    # The share of observations with a value.
    coverage: float


@dataclass(frozen=True)
class ScorecardBacktest:
    """One scorecard's scores on the snapshot days against who churned."""

    name: str
    version: str
    # How reports name it: its name, with its file when two share a name.
    label: str
    observations: int
    churned: int
    score: SignalRanking
    top_decile_lift: float | None
    by_status: list[ChurnRate]
    by_band: list[ChurnRate]
    signals: list[SignalRanking]
    # Component weights in proportion to how much better than chance each
    # ranks churners alone (AUC - 0.5; none at or below chance), and the AUC
    # the base score would reach with them on these same days.
    suggested_weights: dict[str, int]
    suggested_auc: float | None
    # Snapshot days read from stored history (made by this scorecard, point
    # in time) rather than scored afresh.
    days_from_history: int = 0


@dataclass(frozen=True)
class CalibrationBin:
    """Observations with predictions in one band: the mean predicted
    probability against the share that churned."""

    observations: int
    predicted: float
    observed: float


@dataclass(frozen=True)
class ChurnReport:
    """How a churn model did on days (or customers) it had not seen: the
    validation its training ran, kept with the model."""

    method: str  # "time split", or "cross-validated" for a book with no dated history
    algorithm: str
    horizon_days: int
    every_days: int
    days: list[str]
    test_days: list[str]
    customers: int
    observations: int
    churned: int
    test_observations: int
    test_churned: int
    # Churned observations needed for an AUC interval about ±0.1 wide.
    needed: int
    model: SignalRanking
    health: SignalRanking | None
    baseline: SignalRanking | None
    candidates: dict[str, float | None]
    pr_auc: float | None
    base_rate: float
    brier: float | None
    brier_base_rate: float | None
    top_decile_lift: float | None
    calibration: list[CalibrationBin]
    # Features that alone rank churn suspiciously well (AUC over 0.95 overall).
    leakage: list[SignalRanking]
    shuffled: bool = False
    # "churn", or "expansion" (then `churned` counts the expansions and
    # `expansion_share` is the ARR rise that counts as one).
    target: str = "churn"
    expansion_share: float | None = None

    @property
    def enough(self) -> bool:
        return self.test_churned >= self.needed


@dataclass(frozen=True)
class PredictionError:
    """How far a predictor of NPS was from the responses it predicted: the
    mean absolute error in points, with a 95% interval (customers
    resampled), over `observations` responses."""

    predictor: str
    mae: float | None
    low: float | None
    high: float | None
    observations: int


@dataclass(frozen=True)
class NpsReport:
    """How an NPS model did on days it had not seen: each observation is a
    customer's next response within the horizon after a snapshot day."""

    method: str
    algorithm: str
    horizon_days: int
    every_days: int
    days: list[str]
    test_days: list[str]
    customers: int
    observations: int
    test_observations: int
    # Test responses needed for an error worth reading.
    needed: int
    model: PredictionError
    rmse: float | None
    # The baseline: the next response the same as the last one, on the test
    # responses that had one; and the model on those same responses.
    same_as_last: PredictionError | None
    model_on_last: PredictionError | None
    # The mean response of the training days, for every test response.
    book_mean: PredictionError
    candidates: dict[str, float | None]
    shuffled: bool = False
    target: str = "nps"

    @property
    def enough(self) -> bool:
        return self.test_observations >= self.needed


@dataclass(frozen=True)
class ChurnModelInfo:
    """A stored model, as `cs churn models` lists it."""

    id: int
    target: str
    algorithm: str
    active: bool
    created_at: dt.datetime
    created_by: str | None
    horizon_days: int
    trained_from: dt.date | None
    trained_to: dt.date | None
    observations: int
    positives: int
    auc: float | None
    method: str
    # NPS models: the mean absolute error out of time (they have no AUC).
    mae: float | None = None


@dataclass(frozen=True)
class ChurnDriver:
    """One reason behind a customer's churn probability: the feature, its
    value and the usual value, and how many points of probability it adds
    (negative: it lowers the risk) against the usual value."""

    feature: str
    words: str
    value: str
    usual: str
    effect: float


@dataclass(frozen=True)
class ChurnExplanation:
    customer_id: int
    external_id: str
    name: str
    as_of: dt.date
    probability: float
    # The probability of a customer with every feature at its usual value:
    # the drivers' effects add up to probability - usual.
    usual: float
    base_rate: float | None  # None for NPS
    model_id: int
    drivers: list[ChurnDriver]  # biggest effect first
    # "churn", "expansion" (probability: of expanding) or "nps" (probability:
    # the predicted score, effects in points of NPS).
    target: str = "churn"


@dataclass(frozen=True)
class PredictResult:
    model_id: int
    as_of: dt.date
    predicted: int
    written: int
    # Customers predicted that have no health score row to hold it yet.
    unscored: int
    mean: float | None
    # Probabilities of 50% or more (for NPS: predicted detractors, 0-6).
    high_risk: int
    target: str = "churn"
    # Customers whose current score is of a later day (left as it is; for
    # churn, the day's history row has the prediction).
    newer: int = 0
    # History rows of the day that took the prediction (churn only).
    history: int = 0


@dataclass(frozen=True)
class Backtest:
    """Health scores as of snapshot days against churn within the horizon."""

    days: list[dt.date]
    every_days: int
    horizon_days: int
    # Snapshot days asked for whose horizon has not passed yet (left out).
    censored: int
    customers: int
    observations: int
    churned_customers: int
    churned_observations: int
    # Churned customers needed for an AUC interval about ±0.1 wide.
    needed: int
    baseline: SignalRanking | None
    scorecards: list[ScorecardBacktest]

    @property
    def enough(self) -> bool:
        return self.churned_customers >= self.needed

    @property
    def base_rate(self) -> float | None:
        return self.churned_observations / self.observations if self.observations else None


@dataclass(frozen=True)
class HistoryPoint:
    as_of: dt.date
    overall_score: int
    health_status: HealthStatus | None
    product_adoption_score: int | None
    engagement_score: int | None
    relationship_score: int | None
    financial_score: int | None
    support_score: int | None


# --- CS tasks and touchpoints ---


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


# -- segments


@dataclass(frozen=True)
class SegmentRow:
    """A segment with the metrics its last refresh left."""

    id: int
    name: str
    segment_type: SegmentType
    description: str | None
    rules: dict[str, Any] | None
    customer_count: int
    total_arr: Decimal | None
    avg_health_score: float | None
    is_active: bool
    refreshed_at: dt.datetime | None


@dataclass(frozen=True)
class RefreshResult:
    segment: str
    members: int
    entered: int
    exited: int


@dataclass(frozen=True)
class SegmentPreview:
    """What a rule would select today, without saving anything."""

    count: int
    total_arr: Decimal | None
    avg_health_score: float | None
    sample: list[CustomerRow]


@dataclass(frozen=True)
class MembershipChange:
    """A customer's stay in a segment: entered, and exited when it ended."""

    external_id: str
    name: str
    entered_at: dt.datetime
    exited_at: dt.datetime | None


# --- Playbooks ---


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


# --- Task board (cs board) ---


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
class Assignee:
    """A user tasks can be given to."""

    id: int
    name: str
    email: str
    role: Role


# --- Board: Customer 360, risk alerts, dashboard ---


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
    # Customers who churned in the last 12 months over those active 12 months ago.
    churn_rate: float | None
    churned_12m: int
    active_12m_ago: int
    # Average days from enrollment to completion of an onboarding journey
    # completed in the last 12 months.
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


# --- Outbox: messages that leave the machine, and their delivery ---


@dataclass(frozen=True)
class Enqueued:
    """A message put in the outbox, or the one already there under its key."""

    id: int
    idempotency_key: str
    status: OutboxStatus
    # False when a message with this key was already there (nothing added).
    created: bool


@dataclass(frozen=True)
class OutboxRow:
    """One line of `cs outbox list`."""

    id: int
    channel: OutboxChannel
    status: OutboxStatus
    recipient: str
    subject: str | None
    customer: str | None
    attempts: int
    next_attempt_at: dt.datetime | None
    sent_at: dt.datetime | None
    last_error: str | None
    held_reason: str | None
    idempotency_key: str
    created_at: dt.datetime


@dataclass(frozen=True)
class OutboxDetail(OutboxRow):
    """One message with what it carries (`cs outbox show`)."""

    customer_name: str | None = None
    contact: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeliveryReport:
    """What one delivery run did, counted per outcome."""

    sent: int = 0
    failed: int = 0
    held: int = 0
    dead: int = 0
    # Reasons of the failed and dead messages, with how many had each.
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def attempted(self) -> int:
        return self.sent + self.failed + self.held + self.dead


# --- Journeys ---


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


# -- the domain event log


@dataclass(frozen=True)
class EventRow:
    id: int
    event_type: str
    external_id: str
    occurred_at: dt.datetime
    data: dict[str, Any] | None
    actor_name: str | None


# -- automation, risk alerts and reminders


@dataclass(frozen=True)
class AutomationRuleView:
    """One line of `cs automation rules`: what a rule reacts to and does,
    who handles it, and when it last fired."""

    name: str
    events: list[str]
    condition: str | None
    actions: list[str]
    handled_by: str  # automation, journeys or recalc
    enabled: bool
    description: str | None = None
    position: int | None = None
    acted_count: int = 0
    last_acted_at: dt.datetime | None = None


@dataclass(frozen=True)
class RuleOutcome:
    """What one rule did in one `cs automation run`."""

    rule: str
    events: int  # events of its types it read past
    acted: int  # of which it acted on (matched its conditions)
    alerts: int = 0
    runs: int = 0
    tasks: int = 0
    messages: int = 0


@dataclass(frozen=True)
class AutomationRun:
    horizon: int
    renewal_events: int
    rules: list[RuleOutcome]


@dataclass(frozen=True)
class AlertCheck:
    """What one `cs alerts check` did: alerts raised by type, emails put in
    the outbox (one per new alert, one digest per user)."""

    as_of: dt.date
    raised: dict[str, int]
    notified: int
    digests: int
    # Alerts resolved because their condition cleared, by type.
    resolved: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class AlertEntry:
    """One line of an alert's history."""

    at: dt.datetime
    what: str  # raised, acknowledged, resolved
    by: str | None
    note: str | None = None


@dataclass(frozen=True)
class AlertDetail:
    alert: AlertRow
    details: dict[str, Any] | None
    history: list[AlertEntry]


@dataclass(frozen=True)
class ReminderRun:
    """What one `cs tasks remind` did."""

    as_of: dt.date
    users: int  # digests put in the outbox
    tasks: int  # tasks they list
    already_sent: int  # users whose digest for the day was already in the outbox
    opted_out: int  # users with due tasks whose notify preference is none
