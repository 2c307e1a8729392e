"""Risk alerts for the demo: one per account in trouble, naming its most
telling signal, so the board's alert feed has something to show before
`cs alerts check` raises real ones. Some are already acknowledged by the
account's CSM. Each account draws from its own stream: the rest of the demo
is the same with or without them. A condition `cs alerts check` watches
carries the checker's own type (renewal_at_risk, escalation, usage_decline),
so that the check sees it is already raised and does not raise it twice."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import Alert
from cs_cli.domain import AlertSeverity, AlertStatus
from cs_cli.services.demo.book import AT_RISK, CHURN_BOUND, Book, CustomerPlan

_BATCH = 10_000
# Signals in the order they speak loudest.
_ORDER = ("champion_left", "support_trouble", "usage_decline", "late_payment", "low_nps")


def write_alerts(session: Session, book: Book, user_ids: dict[str, int], customer_ids: dict[str, int]) -> int:
    """One alert per account at risk or heading to churn; returns how many."""
    rows = [
        _alert(book, c, customer_ids[c.external_id], user_ids.get(c.csm_login))
        for c in book.customers
        if c.fate in (AT_RISK, CHURN_BOUND)
    ]
    table = Alert.__table__
    for start in range(0, len(rows), _BATCH):
        session.execute(sa.insert(table), rows[start : start + _BATCH])
    return len(rows)


def _alert(book: Book, c: CustomerPlan, customer_id: int, csm_id: int | None) -> dict[str, Any]:
    rng = random.Random(f"alerts:{c.activity_seed}")
    days_to_renewal = (c.renewal_date - book.as_of).days
    alert_type, title, reason = _story(c, days_to_renewal, rng)
    serious = c.fate == CHURN_BOUND or (alert_type == "renewal_at_risk" and days_to_renewal <= 30)
    raised = book.now - dt.timedelta(days=rng.randint(1, 12), hours=rng.randint(1, 14))
    acknowledged = None
    if rng.random() < 0.35:
        acknowledged = min(
            raised + dt.timedelta(hours=rng.randint(1, 40)), book.now - dt.timedelta(minutes=5)
        )
    return {
        "customer_id": customer_id,
        "alert_type": alert_type,
        "severity": AlertSeverity.CRITICAL if serious else AlertSeverity.WARNING,
        "status": AlertStatus.ACKNOWLEDGED if acknowledged else AlertStatus.OPEN,
        "title": title,
        "reason": reason,
        "details": {"signals": sorted(c.signals), "days_to_renewal": days_to_renewal},
        "raised_at": raised,
        "acknowledged_at": acknowledged,
        "acknowledged_by_user_id": csm_id if acknowledged else None,
        "resolved_at": None,
        "resolved_by_user_id": None,
        "created_at": raised,
    }


def _story(c: CustomerPlan, days_to_renewal: int, rng: random.Random) -> tuple[str, str, str]:
    """(alert type, title, reason) from the account's loudest signal."""
    if 0 <= days_to_renewal <= 60 and (c.fate == CHURN_BOUND or rng.random() < 0.5):
        return (
            "renewal_at_risk",
            f"Renewal in {days_to_renewal} days and health at risk",
            f"{c.name} renews on {c.renewal_date}; usage and sentiment are down, no renewal call booked yet.",
        )
    signal = next((s for s in _ORDER if s in c.signals), None)
    if signal == "champion_left":
        left = [p for p in c.contacts if p.is_champion and p.left_at is not None]
        gone = left[0] if left else None
        successor = next((p for p in c.contacts if p.is_champion and p.left_at is None), None)
        who = f"{gone.name} ({gone.title})" if gone else "The champion"
        when = f" on {gone.left_at.date()}" if gone and gone.left_at else ""
        after = f"; {successor.name} may take over" if successor else "; no successor named yet"
        return "champion_left", "Champion left", f"{who} left{when}{after}."
    if signal == "support_trouble":
        return (
            "escalation",
            "Escalated tickets open",
            "Escalated support tickets are open and the customer's last CSAT scores are low.",
        )
    if signal == "late_payment":
        return "payment_overdue", "Invoice overdue", "An invoice is more than 30 days past due."
    if signal == "low_nps":
        return "low_nps", "Detractor NPS", "Recent NPS responses scored 6 or below."
    drop = rng.randint(35, 60)
    return (
        "usage_decline",
        "Product usage falling",
        f"Active users down about {drop}% over the last 60 days; fewer features in use.",
    )
