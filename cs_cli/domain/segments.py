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
