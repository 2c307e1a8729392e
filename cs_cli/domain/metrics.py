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
