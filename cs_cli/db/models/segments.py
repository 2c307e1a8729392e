"""Segments and customer membership, with entered/exited times kept as history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from cs_cli.db.base import Base, Money, Timestamps, enum_column
from cs_cli.enums import SegmentType


class Segment(Timestamps, Base):
    __tablename__ = "cs_segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    description: Mapped[str | None] = mapped_column(sa.Text)
    segment_type: Mapped[SegmentType] = mapped_column(
        enum_column(SegmentType, "segment_type"), default=SegmentType.STATIC
    )
    rules: Mapped[dict[str, Any] | None]
    ai_confidence: Mapped[float | None]
    ai_reasoning: Mapped[str | None] = mapped_column(sa.Text)
    customer_count: Mapped[int] = mapped_column(default=0)
    total_arr: Mapped[Decimal | None] = mapped_column(Money)
    avg_health_score: Mapped[float | None]
    is_active: Mapped[bool] = mapped_column(default=True)
    refreshed_at: Mapped[dt.datetime | None]


class CustomerSegment(Base):
    """A stay of one customer in one segment; exited_at is null while it lasts."""

    __tablename__ = "cs_customer_segments"
    __table_args__ = (
        sa.Index(None, "segment_id", "exited_at"),
        sa.Index(None, "customer_id", "exited_at"),
        # One open stay per customer and segment.
        sa.Index(
            "uq_cs_customer_segments_one_open",
            "segment_id",
            "customer_id",
            unique=True,
            sqlite_where=sa.text("exited_at IS NULL"),
            postgresql_where=sa.text("exited_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    segment_id: Mapped[int] = mapped_column(sa.ForeignKey("cs_segments.id", ondelete="CASCADE"))
    entered_at: Mapped[dt.datetime]
    exited_at: Mapped[dt.datetime | None]
