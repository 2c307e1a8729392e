"""Touchpoints: every interaction with a customer."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from cs_cli.db.base import Base, CreatedAt, JSONType, enum_column
from cs_cli.enums import Channel, Direction, Sentiment, SentimentSource, TouchpointType


def own_external_id() -> str:
    return f"cs-{uuid.uuid4().hex[:16]}"


class Touchpoint(CreatedAt, Base):
    __tablename__ = "cs_touchpoints"
    __table_args__ = (sa.Index(None, "customer_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The source system's id for an imported touchpoint; one of our own
    # ("cs-" and random hex) for those made here, so that every touchpoint
    # exports with an id and imports back onto itself.
    external_id: Mapped[str | None] = mapped_column(sa.String(100), unique=True, default=own_external_id)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))

    touchpoint_type: Mapped[TouchpointType] = mapped_column(enum_column(TouchpointType, "touchpoint_type"))
    subject: Mapped[str | None] = mapped_column(sa.String(255))
    description: Mapped[str | None] = mapped_column(sa.Text)

    direction: Mapped[Direction | None] = mapped_column(enum_column(Direction, "direction"))
    channel: Mapped[Channel | None] = mapped_column(enum_column(Channel, "channel"))

    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_users.id", ondelete="SET NULL"))

    sentiment_score: Mapped[float | None]
    sentiment_label: Mapped[Sentiment | None] = mapped_column(enum_column(Sentiment, "sentiment_label"))
    sentiment_source: Mapped[SentimentSource | None] = mapped_column(
        enum_column(SentimentSource, "sentiment_source")
    )
    # NULL until cs has read the text; [] when it found no topic in it.
    key_topics: Mapped[list[str] | None] = mapped_column(JSONType)

    # Indexed so that deleting tasks (retention) does not scan every touchpoint.
    task_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cs_tasks.id", ondelete="SET NULL"), index=True)

    duration_minutes: Mapped[int | None]
    recording_url: Mapped[str | None] = mapped_column(sa.String(500))

    occurred_at: Mapped[dt.datetime]


class TouchpointAttendee(Base):
    """Who of the customer's people took part in a touchpoint (a meeting has
    several); the touchpoint's contact_id stays the first of them."""

    __tablename__ = "cs_touchpoint_attendees"

    touchpoint_id: Mapped[int] = mapped_column(
        sa.ForeignKey("cs_touchpoints.id", ondelete="CASCADE"), primary_key=True
    )
    # Indexed so that deleting contacts (a customer's deletion) does not scan every attendee.
    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
