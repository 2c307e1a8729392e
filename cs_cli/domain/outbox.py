"""The outbox: messages that leave the machine, and their delivery."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from cs_cli.enums import OutboxChannel, OutboxStatus


@dataclass(frozen=True)
class Enqueued:
    """A message put in the outbox, or the one already there under its key."""

    id: int
    idempotency_key: str
    status: OutboxStatus
    # False when a message with this key was already there (nothing added).
    created: bool


@dataclass(frozen=True)
class OutboxRow:
    """One line of `cs outbox list`."""

    id: int
    channel: OutboxChannel
    status: OutboxStatus
    recipient: str
    subject: str | None
    customer: str | None
    attempts: int
    next_attempt_at: dt.datetime | None
    sent_at: dt.datetime | None
    last_error: str | None
    held_reason: str | None
    idempotency_key: str
    created_at: dt.datetime


@dataclass(frozen=True)
class OutboxDetail(OutboxRow):
    """One message with what it carries (`cs outbox show`)."""

    customer_name: str | None = None
    contact: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeliveryReport:
    """What one delivery run did, counted per outcome."""

    sent: int = 0
    failed: int = 0
    held: int = 0
    dead: int = 0
    # Reasons of the failed and dead messages, with how many had each.
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def attempted(self) -> int:
        return self.sent + self.failed + self.held + self.dead
