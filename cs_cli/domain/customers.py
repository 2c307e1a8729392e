"""Customers and contacts as listings and details show them, and a page of any listing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cs_cli.enums import CustomerStatus, HealthStatus, Sentiment, TicketPriority, TicketStatus


@dataclass(frozen=True)
class CustomerRow:
    """One line of a customer listing."""

    id: int
    external_id: str
    name: str
    arr: Decimal | None
    plan: str | None
    seats: int | None
    status: CustomerStatus
    renewal_date: dt.date | None
    csm_email: str | None
    health_score: int | None
    health_status: HealthStatus | None


@dataclass(frozen=True)
class ContactView:
    external_id: str | None
    name: str | None
    email: str | None
    title: str | None
    role: str | None
    is_champion: bool
    is_exec_sponsor: bool
    left_at: dt.datetime | None


@dataclass(frozen=True)
class CustomerDetail:
    """Everything `cs customers show` prints about one customer."""

    customer: CustomerRow
    industry: str | None
    region: str | None
    contract_start: dt.date | None
    churned_at: dt.datetime | None
    attributes: dict[str, Any]
    created_at: dt.datetime
    contacts: list[ContactView] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    last_event_at: dt.datetime | None = None
    open_tasks: int = 0
    latest_nps: int | None = None


@dataclass(frozen=True)
class Page:
    """One page of a listing and the total it was cut from."""

    rows: list[Any]
    total: int
    offset: int
    limit: int | None
    # Rows a listing leaves out unless asked, by what they are (e.g. status).
    left_out: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class TicketRow:
    """One support ticket of a customer, as the Customer 360 lists it."""

    id: int
    external_id: str
    subject: str | None
    status: TicketStatus
    priority: TicketPriority
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    escalated: bool
    sentiment_label: Sentiment | None


@dataclass(frozen=True)
class TicketDetail:
    """One support ticket whole: what the customer wrote and what cs read in it."""

    row: TicketRow
    customer: str
    customer_name: str
    description: str | None
    sentiment_score: float | None
    key_topics: list[str] | None
    satisfaction: int | None
    escalated_at: dt.datetime | None
    contact: str | None
