"""Churn, expansion and NPS models: their reports, explanations and predictions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cs_cli.domain.health import SignalRanking


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
