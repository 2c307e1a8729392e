"""`cs alerts check`: raise risk alerts over the whole book, one statement
per condition (plus the inserts), never a second alert for a condition still
open. Conditions and thresholds (the `alerts:` part of the automation rules
file, docs/alerts.md):

  health_drop      the health status fell (to at_risk or critical), or the
                   score fell by `points` or more, within `days`
  churn_jump       the churn probability rose by `points` or more within
                   `days` (quiet until a churn model writes probabilities)
  usage_decline    active days in the last `days` fell by `drop_percent`
                   or more against the `days` before (which had at least
                   `min_active_days`)
  escalation       an escalated support ticket is still open
  renewal_at_risk  the renewal is within `days` and health is at_risk or
                   critical

Before raising, the check resolves the unresolved alerts whose condition has
cleared (`_why_cleared`), so that an alert on the list is one that still
needs someone, and a condition that comes back later raises a new alert.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.models import Alert, Customer, HealthScore, HealthScoreHistory, SupportTicket, UsageEvent
from cs_cli.domain import (
    Actor,
    AlertCheck,
    AlertSeverity,
    AlertStatus,
    CustomerStatus,
    HealthStatus,
    Role,
    TicketPriority,
    TicketStatus,
)
from cs_cli.services import alert_notices, events
from cs_cli.services.access import require_role
from cs_cli.services.alerts import raise_alerts
from cs_cli.services.health.measures import day_end
from cs_cli.services.health.overrides import active
from cs_cli.specs.automation import AlertThresholds

_RANK = {HealthStatus.HEALTHY: 3, HealthStatus.AT_RISK: 2, HealthStatus.CRITICAL: 1}
AT_RISK = (HealthStatus.AT_RISK.value, HealthStatus.CRITICAL.value)


def check_alerts(
    session: Session,
    actor: Actor,
    *,
    as_of: dt.date,
    now: dt.datetime,
    thresholds: AlertThresholds | None = None,
) -> AlertCheck:
    """Raise the alerts the conditions call for as of `as_of` (admins and
    cron), email them to CSMs who want them at once, and send the daily
    digests of the day before."""
    require_role(actor, Role.ADMIN, doing="checking for risk alerts")
    th = thresholds or AlertThresholds()
    resolved = _resolve_cleared(session, actor, th, as_of=as_of, now=now)
    rows: list[dict[str, Any]] = []
    if th.health_drop is not None:
        rows += _health_drop(session, th, as_of)
    if th.churn_jump is not None:
        rows += _churn_jump(session, th, as_of)
    if th.usage_decline is not None:
        rows += _usage_decline(session, th, as_of)
    if th.escalation is not None and th.escalation.enabled:
        rows += _escalation(session)
    if th.renewal_at_risk is not None:
        rows += _renewal_at_risk(session, th, as_of)
    new_ids = raise_alerts(session, actor, rows, now=now)
    raised: dict[str, int] = {}
    if new_ids:
        for alert_type, count in session.execute(
            sa.select(Alert.alert_type, sa.func.count())
            .where(Alert.id.in_(new_ids))
            .group_by(Alert.alert_type)
        ):
            raised[alert_type] = count
    notified = alert_notices.notify_new(session, new_ids, now=now)
    digests = alert_notices.send_digests(session, now=now)
    session.flush()
    return AlertCheck(as_of=as_of, raised=raised, notified=notified, digests=digests, resolved=resolved)


def _resolve_cleared(
    session: Session, actor: Actor, th: AlertThresholds, *, as_of: dt.date, now: dt.datetime
) -> dict[str, int]:
    """Resolve every unresolved alert whose condition no longer holds as of
    `as_of`, recording why (an alert.resolved event with the note); returns
    how many, by type. Two queries for the whole book, whatever its size."""
    override, score, status = _current(as_of)
    escalated = (
        sa.exists()
        .where(
            SupportTicket.customer_id == Alert.customer_id,
            SupportTicket.escalated.is_(True),
            SupportTicket.status.in_((TicketStatus.OPEN.value, TicketStatus.PENDING.value)),
        )
        .label("escalated")
    )
    stmt = (
        sa.select(
            Alert.id,
            Alert.customer_id,
            Alert.alert_type,
            Alert.severity,
            Alert.details,
            Customer.status.label("customer_status"),
            Customer.renewal_date,
            score.label("score"),
            status.label("status"),
            HealthScore.churn_probability,
            escalated,
        )
        .join(Customer, Customer.id == Alert.customer_id)
        .outerjoin(HealthScore, HealthScore.customer_id == Alert.customer_id)
        .outerjoin(override, override.c.customer_id == Alert.customer_id)
        .where(Alert.status != AlertStatus.RESOLVED)
    )
    alerts = session.execute(stmt).all()
    usage = _active_days(session, th, as_of) if any(a.alert_type == "usage_decline" for a in alerts) else {}
    cleared = [(a, why) for a in alerts if (why := _why_cleared(a, th, as_of, usage)) is not None]
    if not cleared:
        return {}
    session.execute(
        sa.update(Alert)
        .where(Alert.id.in_([a.id for a, _ in cleared]))
        .values(
            status=AlertStatus.RESOLVED,
            resolved_at=now,
            acknowledged_at=sa.func.coalesce(Alert.acknowledged_at, now),
        )
    )
    events.record_many(
        session,
        actor,
        "alert.resolved",
        [
            (
                a.customer_id,
                {
                    "alert_id": a.id,
                    "alert_type": a.alert_type,
                    "severity": AlertSeverity(a.severity).value,
                    "note": f"cleared: {why}",
                    "cleared": True,
                },
            )
            for a, why in cleared
        ],
        occurred_at=now,
    )
    resolved: dict[str, int] = {}
    for a, _ in cleared:
        resolved[a.alert_type] = resolved.get(a.alert_type, 0) + 1
    return resolved


def _why_cleared(a: Any, th: AlertThresholds, as_of: dt.date, usage: dict[int, int]) -> str | None:
    """Why this alert's condition no longer holds, or None while it does.
    Each condition is judged against the figures the alert recorded when it
    was raised (its details), not against a window that has moved since."""
    if a.customer_status != CustomerStatus.ACTIVE.value:
        return "the customer is no longer active"
    details = a.details or {}
    now_status = HealthStatus(a.status) if a.status else None
    if a.alert_type == "escalation":
        return None if a.escalated else "no escalated ticket is open any more"
    if a.alert_type == "renewal_at_risk" and th.renewal_at_risk is not None:
        days = th.renewal_at_risk.days
        if a.renewal_date is None or not as_of <= a.renewal_date <= as_of + dt.timedelta(days=days):
            return f"the renewal is no longer within {days} days"
        if now_status is not None and now_status.value not in AT_RISK:
            return f"health is {a.score} ({_word(now_status)})"
        return None
    if a.alert_type == "health_drop":
        return _health_recovered(a, details, th, now_status)
    if a.alert_type == "usage_decline" and th.usage_decline is not None:
        before, days = details.get("active_days_before"), th.usage_decline.days
        recent = usage.get(a.customer_id, 0)
        if isinstance(before, int) and recent * 100 > before * (100 - th.usage_decline.drop_percent):
            return f"{recent} active days in the last {days} days, against {before} before the decline"
        return None
    if a.alert_type == "churn_jump":
        was = details.get("was")
        if isinstance(was, int | float) and a.churn_probability is not None and a.churn_probability <= was:
            return f"churn probability is back to {a.churn_probability:.0%}"
    return None


def _health_recovered(
    a: Any, details: dict[str, Any], th: AlertThresholds, now_status: HealthStatus | None
) -> str | None:
    if a.score is None:
        return None
    back = f"health is back to {a.score} ({_word(now_status)})"
    data = details.get("data") if isinstance(details.get("data"), dict) else None
    if data is not None and isinstance(data.get("threshold"), int | float):
        # Raised by the automation rule on health.below_threshold.
        return back if a.score >= data["threshold"] else None
    was, was_word = details.get("was"), details.get("was_status")
    if not isinstance(was, int | float):
        return None
    points = th.health_drop.points if th.health_drop is not None else 0
    fell_points = points > 0 and was - a.score >= points
    was_rank = next((r for s, r in _RANK.items() if s.value == was_word), 0)
    fell_status = now_status is not None and now_status.value in AT_RISK and _RANK[now_status] < was_rank
    return None if fell_points or fell_status else back


def _active_days(session: Session, th: AlertThresholds, as_of: dt.date) -> dict[int, int]:
    """Active days in the last `days` of the customers with an unresolved usage_decline alert."""
    spec = th.usage_decline
    if spec is None:
        return {}
    end = day_end(as_of)
    day = dialect.utc_day(session, UsageEvent.occurred_at)
    watched = sa.select(Alert.customer_id).where(
        Alert.alert_type == "usage_decline", Alert.status != AlertStatus.RESOLVED
    )
    stmt = (
        sa.select(UsageEvent.customer_id, sa.func.count(sa.distinct(day)))
        .where(
            UsageEvent.customer_id.in_(watched),
            UsageEvent.occurred_at >= end - dt.timedelta(days=spec.days),
            UsageEvent.occurred_at < end,
        )
        .group_by(UsageEvent.customer_id)
    )
    return {customer_id: days for customer_id, days in session.execute(stmt)}


def _candidates(alert_type: str) -> list[sa.ColumnElement[bool]]:
    """Active customers without an unresolved alert of this type."""
    still_open = sa.exists().where(
        Alert.customer_id == Customer.id,
        Alert.alert_type == alert_type,
        Alert.status != AlertStatus.RESOLVED,
    )
    return [Customer.status == CustomerStatus.ACTIVE, ~still_open]


def _current(as_of: dt.date):
    """The current score and status (an override in force wins), to join."""
    override = active(as_of)
    score = sa.func.coalesce(override.c.overall_score, HealthScore.overall_score)
    status = sa.func.coalesce(override.c.health_status, HealthScore.health_status)
    return override, score, status


def _past(as_of: dt.date, days: int) -> sa.Subquery:
    """Each customer's history row of the latest day at least `days` before
    `as_of` (looking back at most `days` more)."""
    h = HealthScoreHistory
    then = as_of - dt.timedelta(days=days)
    latest = (
        sa.select(h.customer_id, sa.func.max(h.as_of).label("day"))
        .where(h.as_of <= then, h.as_of > then - dt.timedelta(days=days))
        .group_by(h.customer_id)
        .subquery("latest")
    )
    return (
        sa.select(
            h.customer_id,
            h.as_of.label("day"),
            h.overall_score,
            h.health_status,
            h.churn_probability,
        )
        .join(latest, sa.and_(latest.c.customer_id == h.customer_id, latest.c.day == h.as_of))
        .subquery("past")
    )


def _rank(column) -> sa.ColumnElement:
    return sa.case(*((column == s.value, r) for s, r in _RANK.items()), else_=0)


def _health_drop(session: Session, th: AlertThresholds, as_of: dt.date) -> list[dict[str, Any]]:
    spec = th.health_drop
    assert spec is not None
    override, score, status = _current(as_of)
    past = _past(as_of, spec.days)
    fell_status = sa.and_(status.in_(AT_RISK), _rank(status) < _rank(past.c.health_status))
    fell_points = past.c.overall_score - score >= spec.points
    stmt = (
        sa.select(
            Customer.id,
            score.label("score"),
            status.label("status"),
            past.c.overall_score.label("was"),
            past.c.health_status.label("was_status"),
            past.c.day,
        )
        .join(HealthScore, HealthScore.customer_id == Customer.id)
        .outerjoin(override, override.c.customer_id == Customer.id)
        .join(past, past.c.customer_id == Customer.id)
        .where(*_candidates("health_drop"), sa.or_(fell_status, fell_points))
    )
    rows = []
    for r in session.execute(stmt):
        status_now = HealthStatus(r.status) if r.status else None
        was_status = HealthStatus(r.was_status) if r.was_status else None
        severity = AlertSeverity.CRITICAL if status_now == HealthStatus.CRITICAL else AlertSeverity.WARNING
        rows.append(
            {
                "customer_id": r.id,
                "alert_type": "health_drop",
                "severity": severity,
                "title": f"Health fell from {r.was} to {r.score}",
                "reason": (
                    f"Health score {r.was} ({_word(was_status)}) on {r.day} fell to {r.score} "
                    f"({_word(status_now)}) as of {as_of}: "
                    + (
                        f"the status dropped within {spec.days} days"
                        if was_status and status_now and _RANK.get(status_now, 0) < _RANK.get(was_status, 0)
                        else f"{r.was - r.score} points within {spec.days} days"
                    )
                    + "."
                ),
                # Machine values, which _health_recovered compares; words
                # only in the title and the reason.
                "details": {
                    "score": r.score,
                    "status": _value(status_now),
                    "was": r.was,
                    "was_status": _value(was_status),
                    "since": r.day.isoformat(),
                },
            }
        )
    return rows


def _churn_jump(session: Session, th: AlertThresholds, as_of: dt.date) -> list[dict[str, Any]]:
    spec = th.churn_jump
    assert spec is not None
    past = _past(as_of, spec.days)
    now_p = HealthScore.churn_probability
    stmt = (
        sa.select(Customer.id, now_p.label("p"), past.c.churn_probability.label("was"), past.c.day)
        .join(HealthScore, HealthScore.customer_id == Customer.id)
        .join(past, past.c.customer_id == Customer.id)
        .where(*_candidates("churn_jump"), now_p - past.c.churn_probability >= spec.points)
    )
    return [
        {
            "customer_id": r.id,
            "alert_type": "churn_jump",
            "severity": AlertSeverity.CRITICAL if r.p >= spec.critical_at else AlertSeverity.WARNING,
            "title": f"Churn risk jumped to {r.p:.0%}",
            "reason": f"Churn probability rose from {r.was:.0%} on {r.day} to {r.p:.0%} as of {as_of}.",
            "details": {"probability": r.p, "was": r.was, "since": r.day.isoformat()},
        }
        for r in session.execute(stmt)
    ]


def _usage_decline(session: Session, th: AlertThresholds, as_of: dt.date) -> list[dict[str, Any]]:
    spec = th.usage_decline
    assert spec is not None
    end = day_end(as_of)
    mid = end - dt.timedelta(days=spec.days)
    start = mid - dt.timedelta(days=spec.days)
    ev = UsageEvent
    # Both windows start at midnight UTC, so a day lies wholly in one of them.
    recent = sa.case((ev.occurred_at >= mid, 1), else_=0)
    # One expression object in SELECT and GROUP BY: Postgres matches them
    # by their text, bound parameters included.
    day = dialect.utc_day(session, ev.occurred_at)
    days = (
        sa.select(ev.customer_id, day.label("day"), recent.label("recent"))
        .where(ev.occurred_at >= start, ev.occurred_at < end)
        .group_by(ev.customer_id, day, recent)
        .subquery("days")
    )
    per = (
        sa.select(
            days.c.customer_id,
            sa.func.sum(days.c.recent).label("recent"),
            sa.func.sum(1 - days.c.recent).label("before"),
        )
        .group_by(days.c.customer_id)
        .subquery("per")
    )
    stmt = (
        sa.select(Customer.id, per.c.recent, per.c.before)
        .join(per, per.c.customer_id == Customer.id)
        .where(
            *_candidates("usage_decline"),
            per.c.before >= spec.min_active_days,
            per.c.recent * 100 <= per.c.before * (100 - spec.drop_percent),
        )
    )
    rows = []
    for r in session.execute(stmt):
        drop = round(100 * (r.before - r.recent) / r.before)
        rows.append(
            {
                "customer_id": r.id,
                "alert_type": "usage_decline",
                "severity": AlertSeverity.CRITICAL if r.recent == 0 else AlertSeverity.WARNING,
                "title": f"Usage down {drop}%",
                "reason": (
                    f"Active days fell from {r.before} in the {spec.days} days before to {r.recent} "
                    f"in the last {spec.days} days (to {as_of})."
                ),
                "details": {
                    "active_days": int(r.recent),
                    "active_days_before": int(r.before),
                    "drop_percent": drop,
                },
            }
        )
    return rows


def _escalation(session: Session) -> list[dict[str, Any]]:
    t = SupportTicket
    urgent = sa.func.max(sa.case((t.priority == TicketPriority.URGENT.value, 1), else_=0))
    stmt = (
        sa.select(
            Customer.id,
            sa.func.count().label("tickets"),
            urgent.label("urgent"),
            sa.func.min(t.external_id).label("first"),
        )
        .join(t, t.customer_id == Customer.id)
        .where(
            *_candidates("escalation"),
            t.escalated.is_(True),
            t.status.in_((TicketStatus.OPEN.value, TicketStatus.PENDING.value)),
        )
        .group_by(Customer.id)
    )
    return [
        {
            "customer_id": r.id,
            "alert_type": "escalation",
            "severity": AlertSeverity.CRITICAL if r.urgent else AlertSeverity.WARNING,
            "title": f"{r.tickets} escalated ticket{'s' if r.tickets != 1 else ''} open",
            "reason": (
                f"Support has {r.tickets} escalated ticket{'s' if r.tickets != 1 else ''} open "
                f"(first: {r.first})" + (", at least one urgent." if r.urgent else ".")
            ),
            "details": {"tickets": r.tickets, "first": r.first, "urgent": bool(r.urgent)},
        }
        for r in session.execute(stmt)
    ]


def _renewal_at_risk(session: Session, th: AlertThresholds, as_of: dt.date) -> list[dict[str, Any]]:
    spec = th.renewal_at_risk
    assert spec is not None
    override, score, status = _current(as_of)
    stmt = (
        sa.select(Customer.id, Customer.renewal_date, score.label("score"), status.label("status"))
        .join(HealthScore, HealthScore.customer_id == Customer.id)
        .outerjoin(override, override.c.customer_id == Customer.id)
        .where(
            *_candidates("renewal_at_risk"),
            Customer.renewal_date >= as_of,
            Customer.renewal_date <= as_of + dt.timedelta(days=spec.days),
            status.in_(AT_RISK),
        )
    )
    rows = []
    for r in session.execute(stmt):
        days = (r.renewal_date - as_of).days
        critical = r.status == HealthStatus.CRITICAL.value or days <= spec.critical_within_days
        rows.append(
            {
                "customer_id": r.id,
                "alert_type": "renewal_at_risk",
                "severity": AlertSeverity.CRITICAL if critical else AlertSeverity.WARNING,
                "title": f"Renewal in {days} days, health {_word(HealthStatus(r.status))}",
                "reason": (
                    f"The renewal on {r.renewal_date} is {days} days away and health is "
                    f"{r.score} ({_word(HealthStatus(r.status))})."
                ),
                "details": {"renewal_date": r.renewal_date.isoformat(), "days": days, "score": r.score},
            }
        )
    return rows


def _value(status: HealthStatus | None) -> str:
    return status.value if status is not None else "not scored"


def _word(status: HealthStatus | None) -> str:
    # In words, as the board shows it: "at risk", not "at_risk".
    return status.value.replace("_", " ") if status is not None else "not scored"
