"""Customers (accounts) and their contacts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from cs_cli.db.base import Base, BigIntPK, Money, Timestamps, enum_column
from cs_cli.enums import CustomerStatus


class Customer(Timestamps, Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(sa.String(100), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    arr: Mapped[Decimal | None] = mapped_column(Money)
    plan: Mapped[str | None] = mapped_column(sa.String(100))
    seats: Mapped[int | None]
    industry: Mapped[str | None] = mapped_column(sa.String(100))
    region: Mapped[str | None] = mapped_column(sa.String(100))
    timezone: Mapped[str | None] = mapped_column(sa.String(64))
    contract_start: Mapped[dt.date | None]
    renewal_date: Mapped[dt.date | None] = mapped_column(index=True)
    status: Mapped[CustomerStatus] = mapped_column(
        enum_column(CustomerStatus, "customer_status"), default=CustomerStatus.ACTIVE, index=True
    )
    churned_at: Mapped[dt.datetime | None]
    csm_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_users.id", ondelete="SET NULL"), index=True)
    # Columns of the source systems that are not part of the model, typed.
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Contact(Timestamps, Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(320))
    title: Mapped[str | None] = mapped_column(sa.String(200))
    # Free text from the CRM: "admin", "end user", "billing", "executive"...
    role: Mapped[str | None] = mapped_column(sa.String(100))
    is_champion: Mapped[bool] = mapped_column(default=False)
    is_exec_sponsor: Mapped[bool] = mapped_column(default=False)
    left_at: Mapped[dt.datetime | None]
    timezone: Mapped[str | None] = mapped_column(sa.String(64))


class CustomerHistory(Base):
    """The customer's facts as they stood from `effective_at` until the next
    version: one row each time an import (or the demo) changed them. Scoring
    as of a past day reads the version in force then, not today's values."""

    __tablename__ = "customer_history"
    __table_args__ = (sa.Index(None, "customer_id", "effective_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    # When the facts took effect (`cs import --as-of`, else the import's
    # time), and when cs learned them.
    effective_at: Mapped[dt.datetime]
    recorded_at: Mapped[dt.datetime]
    arr: Mapped[Decimal | None] = mapped_column(Money)
    plan: Mapped[str | None] = mapped_column(sa.String(100))
    seats: Mapped[int | None]
    industry: Mapped[str | None] = mapped_column(sa.String(100))
    region: Mapped[str | None] = mapped_column(sa.String(100))
    contract_start: Mapped[dt.date | None]
    renewal_date: Mapped[dt.date | None]
    status: Mapped[CustomerStatus] = mapped_column(enum_column(CustomerStatus, "customer_status"))
    churned_at: Mapped[dt.datetime | None]
    csm_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_users.id", ondelete="SET NULL"))
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
