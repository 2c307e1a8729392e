"""What the audit trail's readers return."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AuditRow:
    """One entry of the audit trail, with the customer's external id where
    it names a customer that still exists."""

    seq: int | None
    occurred_at: dt.datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str | None
    customer: str | None
    customer_id: int | None
    details: dict[str, Any] | None
    command: str | None
    hash: str | None
    prev_hash: str | None
