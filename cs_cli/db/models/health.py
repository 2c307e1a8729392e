"""Health scores: the current score per customer and one history row per day."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from cs_cli.db.base import Base, CreatedAt, FloatArray, UTCDateTime, enum_column, utcnow
from cs_cli.enums import HealthStatus, ScoreTrend


class HealthScore(CreatedAt, Base):
    """The current health score; exactly one row per scored customer."""

    __tablename__ = "cs_health_scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"), unique=True)

    overall_score: Mapped[int]
    health_status: Mapped[HealthStatus | None] = mapped_column(
        enum_column(HealthStatus, "health_status"), index=True
    )

    product_adoption_score: Mapped[int | None]
    engagement_score: Mapped[int | None]
    relationship_score: Mapped[int | None]
    financial_score: Mapped[int | None]
    support_score: Mapped[int | None]

    churn_probability: Mapped[float | None]
    expansion_probability: Mapped[float | None]
    nps_predicted: Mapped[int | None]

    days_since_last_login: Mapped[int | None]
    days_to_renewal: Mapped[int | None]

    score_trend: Mapped[ScoreTrend | None] = mapped_column(enum_column(ScoreTrend, "score_trend"))
    score_change_30d: Mapped[int | None]

    calculated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The day this score is as of and the scorecard that produced it; how it
    # was produced is kept once, in that day's history row.
    as_of: Mapped[dt.date | None]
    scorecard_version: Mapped[str | None] = mapped_column(sa.String(64))


class HealthScoreHistory(CreatedAt, Base):
    """One row per customer per as-of day; re-scoring a day replaces its row.

    A year of daily history is a row per customer a day. Like usage_events it
    has no foreign key on purpose: checking one per row inserted was a third
    of writing a day's history (benchmarks/RESULTS.md), and cs never deletes
    a customer (the rows are written only by scoring customers that exist)."""

    __tablename__ = "cs_health_score_history"
    __table_args__ = (sa.UniqueConstraint("customer_id", "as_of"), sa.Index(None, "as_of"))

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int]
    as_of: Mapped[dt.date]

    overall_score: Mapped[int]
    health_status: Mapped[HealthStatus | None] = mapped_column(enum_column(HealthStatus, "health_status"))
    product_adoption_score: Mapped[int | None]
    engagement_score: Mapped[int | None]
    relationship_score: Mapped[int | None]
    financial_score: Mapped[int | None]
    support_score: Mapped[int | None]
    churn_probability: Mapped[float | None]

    # What produced the score, so a past score can be explained exactly:
    # each measure's raw value in the order of the scorecard version's
    # measures (NULL where it has none or it is text), the signals behind the
    # multipliers and the base score (in the order of
    # scoring.SIGNAL_VALUES), and the text raw values (attribute measures
    # scored by a table) as JSON {"raw": {name: text}}. Rows written before
    # 0018 keep everything in `measures` ({"raw", "signals", "base"}).
    scorecard_version: Mapped[str | None] = mapped_column(sa.String(64))
    raw_values: Mapped[list[float | None] | None] = mapped_column(FloatArray)
    signal_values: Mapped[list[float | None] | None] = mapped_column(FloatArray)
    measures: Mapped[dict[str, Any] | None]

    calculated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ScorecardVersion(CreatedAt, Base):
    """Each scorecard that produced a score, by version (a hash of its text),
    so a past score is explained with the scorecard that made it."""

    __tablename__ = "cs_scorecards"

    version: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    content: Mapped[str] = mapped_column(sa.Text)


class HealthOverride(CreatedAt, Base):
    """A person's judgement over the computed score, with a reason and an
    expiry. Recalculation never touches it; the computed score goes on."""

    __tablename__ = "cs_health_overrides"
    __table_args__ = (sa.Index(None, "customer_id", "cleared_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    overall_score: Mapped[int] = mapped_column(
        sa.SmallInteger, sa.CheckConstraint("overall_score BETWEEN 0 AND 100", name="override_score_range")
    )
    health_status: Mapped[HealthStatus] = mapped_column(enum_column(HealthStatus, "health_status"))
    reason: Mapped[str] = mapped_column(sa.Text)
    expires_on: Mapped[dt.date]
    set_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_users.id", ondelete="SET NULL"))
    set_by: Mapped[str] = mapped_column(sa.String(200))
    cleared_at: Mapped[dt.datetime | None]
