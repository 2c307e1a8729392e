"""The domain event log, automation rules, risk alert checks and task reminders."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cs_cli.domain.board import AlertRow


@dataclass(frozen=True)
class EventRow:
    id: int
    event_type: str
    external_id: str
    occurred_at: dt.datetime
    data: dict[str, Any] | None
    actor_name: str | None


@dataclass(frozen=True)
class AutomationRuleView:
    """One line of `cs automation rules`: what a rule reacts to and does,
    who handles it, and when it last fired."""

    name: str
    events: list[str]
    condition: str | None
    actions: list[str]
    handled_by: str  # automation, journeys or recalc
    enabled: bool
    description: str | None = None
    position: int | None = None
    acted_count: int = 0
    last_acted_at: dt.datetime | None = None


@dataclass(frozen=True)
class RuleOutcome:
    """What one rule did in one `cs automation run`."""

    rule: str
    events: int  # events of its types it read past
    acted: int  # of which it acted on (matched its conditions)
    alerts: int = 0
    runs: int = 0
    tasks: int = 0
    messages: int = 0


@dataclass(frozen=True)
class AutomationRun:
    horizon: int
    renewal_events: int
    rules: list[RuleOutcome]


@dataclass(frozen=True)
class AlertCheck:
    """What one `cs alerts check` did: alerts raised by type, emails put in
    the outbox (one per new alert, one digest per user)."""

    as_of: dt.date
    raised: dict[str, int]
    notified: int
    digests: int
    # Alerts resolved because their condition cleared, by type.
    resolved: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class AlertEntry:
    """One line of an alert's history."""

    at: dt.datetime
    what: str  # raised, acknowledged, resolved
    by: str | None
    note: str | None = None


@dataclass(frozen=True)
class AlertDetail:
    alert: AlertRow
    details: dict[str, Any] | None
    history: list[AlertEntry]


@dataclass(frozen=True)
class ReminderRun:
    """What one `cs tasks remind` did."""

    as_of: dt.date
    users: int  # digests put in the outbox
    tasks: int  # tasks they list
    already_sent: int  # users whose digest for the day was already in the outbox
    opted_out: int  # users with due tasks whose notify preference is none
