"""What the customer does and pays, from product analytics, the support desk,
billing and surveys. These tables grow with the book and are read by time."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from cs_cli.db.base import Base, CreatedAt, JSONType, Money, Timestamps, UTCDateTime, enum_column
from cs_cli.enums import Sentiment, SentimentSource, TicketPriority, TicketStatus


class UsageEvent(Base):
    """One product usage event (or an aggregated count of them in `quantity`).

    The biggest table by far: append-only, read per customer (by customer
    and time: a customer's first and last events are one probe each) and
    over time windows for the whole book. It has no surrogate key, no
    foreign key and no B-tree on time alone on purpose: each costs a third
    or more of bulk-load speed on Postgres (measured in
    benchmarks/RESULTS.md), and nothing ever refers to a single event. The
    time index is a BRIN on Postgres: events arrive in time order, so a
    window reads only its own pages, for a few kilobytes of index and next
    to nothing per insert (SQLite, which has no BRIN, gets a B-tree). The
    importer checks every customer reference before writing.
    """

    __tablename__ = "usage_events"
    __table_args__ = (
        sa.Index(None, "customer_id", "occurred_at"),
        sa.Index(None, "occurred_at", postgresql_using="brin"),
    )
    # The ORM needs an identity to map a class; the table itself has no key.
    __mapper_args__ = {"primary_key": ["customer_id", "occurred_at", "event_name"]}

    customer_id: Mapped[int]
    contact_id: Mapped[int | None]
    event_name: Mapped[str] = mapped_column(sa.String(100))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    quantity: Mapped[float] = mapped_column(sa.Float, default=1.0)


class SupportTicket(Timestamps, Base):
    __tablename__ = "support_tickets"
    __table_args__ = (sa.Index(None, "customer_id", "opened_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(sa.String(100), unique=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"))
    subject: Mapped[str | None] = mapped_column(sa.String(500))
    priority: Mapped[TicketPriority] = mapped_column(
        enum_column(TicketPriority, "ticket_priority"), default=TicketPriority.NORMAL
    )
    status: Mapped[TicketStatus] = mapped_column(
        enum_column(TicketStatus, "ticket_status"), default=TicketStatus.OPEN
    )
    opened_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]
    escalated: Mapped[bool] = mapped_column(default=False)
    escalated_at: Mapped[dt.datetime | None]
    satisfaction: Mapped[int | None] = mapped_column(
        sa.SmallInteger, sa.CheckConstraint("satisfaction BETWEEN 1 AND 5", name="satisfaction_range")
    )
    # What the customer wrote, and what cs reads in it (docs/text.md): the
    # same three columns a touchpoint has.
    description: Mapped[str | None] = mapped_column(sa.Text)
    sentiment_score: Mapped[float | None]
    sentiment_label: Mapped[Sentiment | None] = mapped_column(enum_column(Sentiment, "sentiment_label"))
    sentiment_source: Mapped[SentimentSource | None] = mapped_column(
        enum_column(SentimentSource, "sentiment_source")
    )
    # NULL until cs has read the text; [] when it found no topic in it.
    key_topics: Mapped[list[str] | None] = mapped_column(JSONType)


class Invoice(Timestamps, Base):
    __tablename__ = "invoices"
    __table_args__ = (sa.Index(None, "customer_id", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(sa.String(100), unique=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(sa.String(3), default="USD")
    issued_on: Mapped[dt.date]
    due_on: Mapped[dt.date]
    paid_on: Mapped[dt.date | None]


class NpsResponse(CreatedAt, Base):
    __tablename__ = "nps_responses"
    __table_args__ = (sa.Index(None, "customer_id", "responded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(sa.String(100), unique=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"))
    score: Mapped[int] = mapped_column(
        sa.SmallInteger, sa.CheckConstraint("score BETWEEN 0 AND 10", name="score_range")
    )
    comment: Mapped[str | None] = mapped_column(sa.Text)
    responded_at: Mapped[dt.datetime]
