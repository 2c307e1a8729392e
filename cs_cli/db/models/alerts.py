"""Risk alerts raised about a customer."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from cs_cli.db.base import Base, CreatedAt, enum_column
from cs_cli.enums import AlertSeverity, AlertStatus


class Alert(CreatedAt, Base):
    __tablename__ = "cs_alerts"
    __table_args__ = (
        sa.Index(None, "status", "created_at"),
        sa.Index(None, "customer_id", "alert_type", "status"),
        # Never a second alert for a condition that is still open.
        sa.Index(
            "uq_cs_alerts_one_open",
            "customer_id",
            "alert_type",
            unique=True,
            sqlite_where=sa.text("status != 'resolved'"),
            postgresql_where=sa.text("status != 'resolved'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    alert_type: Mapped[str] = mapped_column(sa.String(50))
    severity: Mapped[AlertSeverity] = mapped_column(enum_column(AlertSeverity, "severity"))
    status: Mapped[AlertStatus] = mapped_column(enum_column(AlertStatus, "status"), default=AlertStatus.OPEN)
    title: Mapped[str] = mapped_column(sa.String(200))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    details: Mapped[dict[str, Any] | None]
    raised_at: Mapped[dt.datetime]
    acknowledged_at: Mapped[dt.datetime | None]
    acknowledged_by_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("api_users.id", ondelete="SET NULL")
    )
    resolved_at: Mapped[dt.datetime | None]
    resolved_by_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("api_users.id", ondelete="SET NULL")
    )
    # Who is to act on it (the board's assign); None: whoever owns the customer.
    assigned_to_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("api_users.id", ondelete="SET NULL")
    )
