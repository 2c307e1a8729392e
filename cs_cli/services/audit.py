"""The audit trail: who changed what, kept for compliance (plan 9.2)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from cs_cli.db.models import AuditEntry
from cs_cli.domain import Actor


def audit(
    session: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: int | str | None,
    *,
    at: dt.datetime,
    customer_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Record one change made by `actor`."""
    session.add(
        AuditEntry(
            occurred_at=at,
            actor_user_id=actor.user_id,
            actor_name=actor.name,
            action=action,
            entity_type=entity_type,
            entity_id=None if entity_id is None else str(entity_id),
            customer_id=customer_id,
            details=details,
        )
    )
