"""Segments: their listing, refreshes, previews and membership changes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from cs_cli.enums import SegmentType

if TYPE_CHECKING:
    from cs_cli.domain.customers import CustomerRow


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
    # Set on segments `cs segments suggest --accept` made: how well the rules
    # match the cluster they were found for (F1), and its profile in words.
    ai_confidence: float | None = None
    ai_reasoning: str | None = None


@dataclass(frozen=True)
class RefreshResult:
    segment: str
    members: int
    entered: int
    exited: int
    error: str | None = None  # why it was skipped (its members stay as they were)


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


@dataclass(frozen=True)
class SegmentSuggestion:
    """A cluster of the active book and the rules proposed to describe it.

    `precision`: the share of the customers the rules select that are in the
    cluster; `recall`: the share of the cluster the rules select; `confidence`
    is their harmonic mean (F1), what an accepted segment keeps."""

    number: int  # 1-based, in the order shown; what --accept takes
    name: str
    customers: int
    share: float  # of the active book
    total_arr: Decimal
    avg_arr: Decimal
    churn_risk: float | None
    expansion_rate: float | None
    precision: float
    recall: float
    confidence: float
    rules: dict[str, Any]
    reasoning: str
    profile: dict[str, float | None]  # feature -> the cluster's mean


@dataclass(frozen=True)
class Suggestions:
    """What `suggest` found: the clusters, how many and why that many."""

    as_of: dt.date
    customers: int
    k: int
    k_chosen_by: str  # "given" or "silhouette"
    silhouette: float | None  # of the chosen k, on the sample
    silhouettes: dict[int, float]  # every k tried (auto) -> its silhouette
    features: list[str]
    focus: str | None
    suggestions: list[SegmentSuggestion]
