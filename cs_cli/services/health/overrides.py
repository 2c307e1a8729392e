"""Overrides: a CSM's or manager's judgement over the computed health score,
with a reason and an expiry. Recalculation leaves them alone; readers show
the override, marked as one, until it expires or is cleared."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import HealthOverride
from cs_cli.domain import Actor, CustomerStatus
from cs_cli.errors import BadInput, NotFound
from cs_cli.services.audit import audit
from cs_cli.services.customers import find_customer

if TYPE_CHECKING:
    from cs_cli.specs.scorecard import Scorecard


def active(as_of: dt.date) -> sa.Subquery:
    """The override in force for each customer on `as_of`."""
    o = HealthOverride
    return (
        sa.select(o.customer_id, o.overall_score, o.health_status, o.reason, o.expires_on, o.set_by)
        .where(o.cleared_at.is_(None), o.expires_on >= as_of)
        .subquery("override")
    )


def set_override(
    session: Session,
    actor: Actor,
    ref: str,
    card: Scorecard,
    *,
    score: int,
    reason: str,
    expires_on: dt.date,
    as_of: dt.date,
    now: dt.datetime,
) -> dict[str, Any]:
    """Put an override on a customer's score (replacing one in force)."""
    customer = find_customer(session, actor, ref)
    if not 0 <= score <= 100:
        raise BadInput(f"an override score is 0 to 100, not {score}")
    if not reason.strip():
        raise BadInput("an override needs a reason (--reason)")
    if expires_on <= as_of:
        raise BadInput(f"--until must be after {as_of}")
    _clear(session, customer.id, now)
    from cs_cli.services.health.scoring import status_for

    status = status_for(card, score, churned=customer.status == CustomerStatus.CHURNED)
    session.add(
        HealthOverride(
            customer_id=customer.id,
            overall_score=score,
            health_status=status,
            reason=reason.strip(),
            expires_on=expires_on,
            set_by_user_id=actor.user_id,
            set_by=actor.name,
            created_at=now,
        )
    )
    session.flush()
    details = {
        "score": score,
        "status": status.value,
        "reason": reason.strip(),
        "until": expires_on.isoformat(),
    }
    audit(
        session,
        actor,
        "health.override_set",
        "customer",
        customer.id,
        at=now,
        customer_id=customer.id,
        details=details,
    )
    return {"customer": customer.external_id, "score": score, "status": status.value, "until": expires_on}


def clear_override(session: Session, actor: Actor, ref: str, *, now: dt.datetime) -> str:
    """End the override in force on a customer's score."""
    customer = find_customer(session, actor, ref)
    if not _clear(session, customer.id, now):
        raise NotFound(f"{customer.external_id} has no override to clear")
    audit(session, actor, "health.override_cleared", "customer", customer.id, at=now, customer_id=customer.id)
    return customer.external_id


def _clear(session: Session, customer_id: int, now: dt.datetime) -> int:
    result = session.execute(
        sa.update(HealthOverride)
        .where(HealthOverride.customer_id == customer_id, HealthOverride.cleared_at.is_(None))
        .values(cleared_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
