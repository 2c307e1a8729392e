"""What the book's analytics return: each figure with the counts it is made
of, and an interval where it is an estimate (docs/analytics.md defines
every one)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Interval:
    """A 95% interval around an estimate."""

    low: float
    high: float


@dataclass(frozen=True)
class RetentionPeriod:
    """One period (a month, or the whole span) of logo and revenue retention
    of the customers active when it began (the cohort)."""

    start: dt.date
    end: dt.date  # the period's last day
    customers: int  # the cohort: active at the end of the day before `start`
    churned: int  # of them, churned by the end of `end`
    new: int  # customers by the end who were not yet customers at the start
    start_arr: float
    churned_arr: float
    contraction_arr: float
    expansion_arr: float
    logo_churn: float | None
    logo_churn_interval: Interval | None
    arr_churn: float | None
    gross_retention: float | None
    net_retention: float | None


@dataclass(frozen=True)
class NpsPeriod:
    start: dt.date
    end: dt.date
    responses: int
    promoters: int
    passives: int
    detractors: int
    nps: float | None
    interval: Interval | None
    average: float | None  # the mean score, 0-10
    # Fewer responses than analytics.THIN: the figure is shown, and said to be thin.
    thin: bool


@dataclass(frozen=True)
class RenewalMonth:
    """Customers renewing in a month, by health on the as-of day."""

    month: dt.date  # its first day
    customers: int
    arr: float
    healthy_arr: float
    at_risk_arr: float
    critical_arr: float
    other_arr: float  # onboarding, insufficient data or not scored
    churn_probability: float | None  # their mean, where predicted


@dataclass(frozen=True)
class StatusShare:
    status: str  # a health status, or "not_scored"
    customers: int
    share: float
    arr: float


@dataclass(frozen=True)
class Target:
    name: str
    words: str
    goal: float
    higher_is_better: bool
    unit: str  # "share", "days", "points"


TARGETS = {
    t.name: t
    for t in (
        Target("churn_monthly", "logo churn a month", 0.05, False, "share"),
        Target("time_to_value_days", "time to value (median days)", 30, False, "days"),
        Target("nps", "NPS (last 90 days)", 50, True, "points"),
        Target("health_coverage", "health coverage", 1.0, True, "share"),
        Target("playbook_completion", "playbook completion", 0.8, True, "share"),
        Target("journey_success", "journey success", 0.7, True, "share"),
        Target("csm_efficiency_growth", "CSM efficiency, quarter on quarter", 0.3, True, "share"),
    )
}


def parse_targets(text: str) -> dict[str, float]:
    """`name=value,...` over the shipped targets (the `success_targets` setting)."""
    goals = {name: t.goal for name, t in TARGETS.items()}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or name not in TARGETS:
            raise ValueError(f"{part!r}: use name=value with a name among {', '.join(TARGETS)}")
        try:
            goals[name] = float(value.rstrip("%")) / (100 if value.strip().endswith("%") else 1)
        except ValueError:
            raise ValueError(f"{part!r}: {value.strip()!r} is not a number") from None
    return goals


@dataclass(frozen=True)
class PlaybookPerformance:
    """The runs of one playbook started in a period."""

    key: str
    name: str
    started: int
    completed: int
    cancelled: int
    active: int
    completion: float | None  # completed / (completed + cancelled)
    success: float | None  # of completed runs judged, the share judged a success
    tasks: int
    tasks_done: int


@dataclass(frozen=True)
class JourneyPerformance:
    """The enrollments of one journey that began in a period."""

    key: str
    name: str
    enrolled: int
    completed: int
    exited: int
    failed: int
    active: int
    success: float | None  # of ended enrollments, the share that met the journey's success criteria


@dataclass(frozen=True)
class FunnelStep:
    key: str
    name: str
    reached: int  # enrollments that ran the step at least once
    share: float | None  # of the enrollments


@dataclass(frozen=True)
class CsmPerformance:
    """One CSM's book on the period's last day and work in the period."""

    csm: str
    accounts: int
    arr: float
    at_risk_arr: float  # at risk or critical on the day
    tasks_done: int
    tasks_a_week: float
    minutes_spent: int
    successful: float | None  # of completed tasks with an outcome, the share successful
    overdue: int  # open tasks due before the day


@dataclass(frozen=True)
class RiskBand:
    """Active customers in one band of churn risk on a day: a band of
    predicted churn probability, or, with no prediction, a health status."""

    band: str
    customers: int
    arr: float
    # The churn the model expects of them within its horizon (the sum of
    # their probabilities, and of probability x ARR); None by health.
    expected_churns: float | None
    expected_arr: float | None


@dataclass(frozen=True)
class RiskyCustomer:
    external_id: str
    name: str
    arr: float
    churn_probability: float | None
    health_status: str | None
    overall_score: int | None
    renewal_date: dt.date | None


@dataclass(frozen=True)
class ChurnRisk:
    """The book's churn risk on a day. `source` is "model" when the active
    customers carry a churn probability from that day's latest prediction,
    else "health" (bands by health status)."""

    as_of: dt.date
    source: str
    customers: int
    predicted: int  # of them, with a churn probability
    horizon_days: int | None  # the active model's, when by model
    model_auc: float | None  # the active model's time-split test AUC
    bands: list[RiskBand]
    riskiest: list[RiskyCustomer]


@dataclass(frozen=True)
class ValueCohort:
    """Customers whose contract started in one month, and how soon they
    reached their first value."""

    month: dt.date  # its first day
    started: int
    reached: int
    within_target: int  # reached within the target days
    median_days: float | None
    p25_days: float | None
    p75_days: float | None


@dataclass(frozen=True)
class RenewalWindow:
    """The customers renewing from the as-of day to `days` days after it."""

    days: int
    customers: int
    arr: float
    at_risk_arr: float  # at risk or critical on the as-of day
    churn_probability: float | None  # their mean, where predicted
    renewal_tasks: int  # open renewal tasks of these customers


@dataclass(frozen=True)
class RenewingCustomer:
    """One customer of the renewal pipeline, with its health on the as-of day."""

    external_id: str
    name: str
    csm: str | None
    renewal_date: dt.date
    days: int  # from the as-of day to the renewal
    arr: float
    health_status: str  # a health status, or "not_scored"
    health_score: int | None
    churn_probability: float | None
    renewal_tasks: int


@dataclass(frozen=True)
class RenewalPipeline:
    """What renews in the next windows (30, 60, 90, 180 days): a summary per
    window and the customers of the widest, soonest first."""

    as_of: dt.date
    windows: list[RenewalWindow]
    customers: list[RenewingCustomer]
    total: int  # customers in the widest window (more than `customers` when cut)


@dataclass(frozen=True)
class CsmWorkload:
    """One CSM's load on a day: their open tasks, the overdue ones, those due
    in the next seven days, and the ARR of their accounts at risk or critical."""

    csm: str  # email
    name: str
    login: str | None
    # Their book as `cs analytics csm-performance` reads it; None for someone who is not a CSM.
    accounts: int | None
    arr: float | None
    at_risk_arr: float | None
    open: int
    overdue: int
    due_week: int
