"""Health scores: their listing, a score explained, its history, and the
backtest of scorecards against churn."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from cs_cli.enums import HealthStatus, ScoreTrend


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
