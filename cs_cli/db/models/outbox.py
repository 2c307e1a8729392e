"""The outbox: every message that leaves the machine is written here first, in
the same transaction as the change that caused it, then delivered."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from cs_cli.db.base import Base, BigIntPK, CreatedAt, enum_column
from cs_cli.enums import OutboxChannel, OutboxStatus


class OutboxMessage(CreatedAt, Base):
    __tablename__ = "cs_outbox"
    __table_args__ = (
        sa.Index(None, "status", "next_attempt_at"),
        # The email cap counts a recipient's recent sends.
        sa.Index(
            None,
            "recipient",
            "sent_at",
            sqlite_where=sa.text("status = 'sent' AND channel = 'email'"),
            postgresql_where=sa.text("status = 'sent' AND channel = 'email'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    channel: Mapped[OutboxChannel] = mapped_column(enum_column(OutboxChannel, "channel"))
    # Stable across retries and reruns: the Message-ID / webhook id header.
    idempotency_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus, "status"), default=OutboxStatus.PENDING
    )
    recipient: Mapped[str] = mapped_column(sa.String(500))
    subject: Mapped[str | None] = mapped_column(sa.String(500))
    payload: Mapped[dict[str, Any]]
    customer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    # Why a held message waits (quiet hours, the email cap) and until when.
    held_reason: Mapped[str | None] = mapped_column(sa.String(500))
    sent_at: Mapped[dt.datetime | None]
