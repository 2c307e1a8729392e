"""Risk alerts: raising them (once per open condition), listing them for the
customers one may see, an alert's history, acknowledging ("I'm on it") and
resolving them. What raises them: `cs alerts check` (alert_checks.py) and
automation rules; who hears of them: alert_notices.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from cs_cli.db import dialect
from cs_cli.db.base import JSONType, UTCDateTime
from cs_cli.db.models import Alert, Customer, DomainEvent, HealthScore, User
from cs_cli.domain import Actor, AlertDetail, AlertEntry, AlertRow, AlertSeverity, AlertStatus, Page
from cs_cli.errors import BadInput, NotFound
from cs_cli.services import events
from cs_cli.services.access import customer_scope
from cs_cli.services.audit import audit
from cs_cli.services.customers import find_customer
from cs_cli.services.health.overrides import active
from cs_cli.services.scopes import customers_in

UNRESOLVED = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)
# Most severe first.
SEVERITY_RANK = {AlertSeverity.CRITICAL: 0, AlertSeverity.WARNING: 1, AlertSeverity.INFO: 2}


def _rows(as_of: dt.date) -> sa.Select:
    acknowledger, resolver, assignee = aliased(User), aliased(User), aliased(User)
    override = active(as_of)
    return (
        sa.select(
            Alert.id,
            Customer.external_id.label("customer"),
            Customer.name.label("customer_name"),
            Alert.alert_type,
            Alert.severity,
            Alert.status,
            Alert.title,
            Alert.reason,
            Alert.raised_at,
            Alert.acknowledged_at,
            acknowledger.email.label("acknowledged_by"),
            Alert.resolved_at,
            resolver.email.label("resolved_by"),
            sa.func.coalesce(override.c.overall_score, HealthScore.overall_score).label("health_score"),
            sa.func.coalesce(override.c.health_status, HealthScore.health_status).label("health_status"),
            assignee.email.label("assigned_to"),
        )
        .join(Customer, Customer.id == Alert.customer_id)
        .outerjoin(acknowledger, acknowledger.id == Alert.acknowledged_by_user_id)
        .outerjoin(assignee, assignee.id == Alert.assigned_to_user_id)
        .outerjoin(resolver, resolver.id == Alert.resolved_by_user_id)
        .outerjoin(HealthScore, HealthScore.customer_id == Customer.id)
        .outerjoin(override, override.c.customer_id == Customer.id)
    )


def list_alerts(
    session: Session,
    actor: Actor,
    *,
    as_of: dt.date,
    statuses: Sequence[AlertStatus] = UNRESOLVED,
    severities: Sequence[AlertSeverity] = (),
    customer: str | None = None,
    scope: str = "all",
    offset: int = 0,
    limit: int | None = 100,
) -> Page:
    """Alerts of the customers the actor may see (narrowed to a scope:
    mine, team or all), newest first."""
    if offset < 0 or (limit is not None and limit <= 0):
        raise BadInput("--offset must be >= 0 and --limit > 0")
    conds: list[sa.ColumnElement[bool]] = [customers_in(actor, scope)]
    if statuses and set(statuses) != set(AlertStatus):
        conds.append(Alert.status.in_(sorted(set(statuses))))
    if severities:
        conds.append(Alert.severity.in_(sorted(set(severities))))
    if customer:
        conds.append(Alert.customer_id == find_customer(session, actor, customer).id)
    stmt = _rows(as_of).where(*conds).order_by(Alert.raised_at.desc(), Alert.id.desc()).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = [AlertRow(**r._mapping) for r in session.execute(stmt)]
    if limit is None or (len(rows) < limit and (rows or offset == 0)):
        total = offset + len(rows)
    else:
        counted = sa.select(Alert.id).join(Customer, Customer.id == Alert.customer_id).where(*conds)
        total = session.scalar(sa.select(sa.func.count()).select_from(counted.subquery())) or 0
    return Page(rows=rows, total=total, offset=offset, limit=limit)


def locked_alert(session: Session, actor: Actor, alert_id: int) -> Alert:
    """The alert of a customer the actor may see, locked for a change."""
    alert = session.scalar(
        sa.select(Alert)
        .join(Customer, Customer.id == Alert.customer_id)
        .where(Alert.id == alert_id, customer_scope(actor))
        .with_for_update(of=Alert)
    )
    if alert is None:
        raise NotFound(f"alert {alert_id} not found")
    return alert


def alert_row(session: Session, alert_id: int, as_of: dt.date) -> AlertRow:
    """One alert as the feed shows it."""
    return AlertRow(**session.execute(_rows(as_of).where(Alert.id == alert_id)).one()._mapping)


def acknowledge_alert(session: Session, actor: Actor, alert_id: int, *, now: dt.datetime) -> AlertRow:
    """Mark an open alert as seen and taken on by the actor (alert.acknowledged).
    An alert already acknowledged stays as it was."""
    alert = locked_alert(session, actor, alert_id)
    if alert.status == AlertStatus.RESOLVED:
        raise BadInput(f"alert {alert_id} is already resolved")
    if alert.status == AlertStatus.OPEN:
        alert.status = AlertStatus.ACKNOWLEDGED
        alert.acknowledged_at = now
        alert.acknowledged_by_user_id = actor.user_id
        data = {"alert_id": alert.id, "alert_type": alert.alert_type, "severity": alert.severity.value}
        events.record(
            session, actor, "alert.acknowledged", customer_id=alert.customer_id, occurred_at=now, data=data
        )
        audit(
            session,
            actor,
            "alert.acknowledge",
            "alert",
            alert.id,
            at=now,
            customer_id=alert.customer_id,
            details=data,
        )
        session.flush()
    return alert_row(session, alert.id, now.date())


def resolve_alert(
    session: Session, actor: Actor, alert_id: int, *, note: str | None = None, now: dt.datetime
) -> AlertRow:
    """Close an alert (alert.resolved); one never acknowledged counts as
    acknowledged by whoever resolves it."""
    alert = locked_alert(session, actor, alert_id)
    if alert.status == AlertStatus.RESOLVED:
        raise BadInput(f"alert {alert_id} is already resolved")
    if alert.acknowledged_at is None:
        alert.acknowledged_at = now
        alert.acknowledged_by_user_id = actor.user_id
    alert.status = AlertStatus.RESOLVED
    alert.resolved_at = now
    alert.resolved_by_user_id = actor.user_id
    data = {
        "alert_id": alert.id,
        "alert_type": alert.alert_type,
        "severity": alert.severity.value,
        "note": (note or "").strip() or None,
    }
    events.record(session, actor, "alert.resolved", customer_id=alert.customer_id, occurred_at=now, data=data)
    audit(
        session,
        actor,
        "alert.resolve",
        "alert",
        alert.id,
        at=now,
        customer_id=alert.customer_id,
        details=data,
    )
    session.flush()
    return alert_row(session, alert.id, now.date())


def open_counts(session: Session, actor: Actor, *, scope: str = "all") -> dict[str, int]:
    """Unresolved alerts by severity (every severity present, zero or more)."""
    found = dict(
        session.execute(
            sa.select(Alert.severity, sa.func.count())
            .join(Customer, Customer.id == Alert.customer_id)
            .where(customers_in(actor, scope), Alert.status.in_(UNRESOLVED))
            .group_by(Alert.severity)
        ).all()
    )
    return {s.value: found.get(s, 0) for s in AlertSeverity}


# -- raising alerts (cs alerts check, automation) and an alert's history


def raise_alerts(session: Session, actor: Actor, rows: Sequence[dict], *, now: dt.datetime) -> list[int]:
    """Insert alerts, rows of customer_id, alert_type, severity, title,
    reason and details; a customer with an unresolved alert of the same type
    gets none (the one-open-alert index, ON CONFLICT DO NOTHING), so a
    condition still open is never alerted twice. Records alert.raised for
    each new alert; returns their ids."""
    if not rows:
        return []
    table = Alert.__table__
    staged = dialect.scratch_table(
        session,
        "cs_new_alerts",
        [
            sa.Column("customer_id", sa.Integer),
            sa.Column("alert_type", sa.String(50)),
            sa.Column("severity", sa.String(20)),
            sa.Column("title", sa.String(200)),
            sa.Column("reason", sa.Text),
            sa.Column("details", JSONType),
        ],
        [
            (
                r["customer_id"],
                r["alert_type"],
                AlertSeverity(r["severity"]).value,
                r["title"][:200],
                r.get("reason"),
                r.get("details"),
            )
            for r in rows
        ],
    )
    at = sa.literal(now, UTCDateTime())
    values = {
        "customer_id": staged.c.customer_id,
        "alert_type": staged.c.alert_type,
        "severity": staged.c.severity,
        "status": sa.literal(AlertStatus.OPEN.value),
        "title": staged.c.title,
        "reason": staged.c.reason,
        "details": staged.c.details,
        "raised_at": at,
        "created_at": at,
    }
    # A multi-row insert with ON CONFLICT DO NOTHING skips the rows that
    # meet an unresolved alert of the type, or an earlier row of its own.
    insert = (
        dialect.insert_ignoring(session, table)
        .from_select(list(values), sa.select(*values.values()).where(sa.true()))
        .returning(table.c.id, table.c.customer_id, table.c.alert_type, table.c.severity)
    )
    new = [tuple(r) for r in session.execute(insert)]
    if not new:
        return []
    raised = dialect.scratch_table(
        session,
        "cs_raised_alerts",
        [
            sa.Column("alert_id", sa.Integer),
            sa.Column("customer_id", sa.Integer),
            sa.Column("alert_type", sa.String(50)),
            sa.Column("severity", sa.String(20)),
        ],
        [(a, c, t, AlertSeverity(sev).value) for a, c, t, sev in new],
    )
    data = dialect.json_object(
        session,
        {"alert_id": raised.c.alert_id, "alert_type": raised.c.alert_type, "severity": raised.c.severity},
    )
    events.record_from_select(
        session, actor, "alert.raised", sa.select(raised.c.customer_id, data), occurred_at=now, count=False
    )
    return [alert_id for alert_id, *_ in new]


def alert_detail(session: Session, actor: Actor, alert_id: int, *, as_of: dt.date) -> AlertDetail:
    """One alert of a customer the actor may see, with its details and its
    history (raised, acknowledged by/at, resolved by/at with the note)."""
    found = session.execute(
        _rows(as_of)
        .add_columns(Alert.details, Alert.customer_id)
        .where(Alert.id == alert_id, customer_scope(actor))
    ).first()
    if found is None:
        raise NotFound(f"alert {alert_id} not found")
    mapping = dict(found._mapping)
    details, customer_id = mapping.pop("details"), mapping.pop("customer_id")
    row = AlertRow(**mapping)
    history = [AlertEntry(row.raised_at, "raised", None, row.reason)]
    e = DomainEvent
    logged = session.execute(
        sa.select(e.event_type, e.occurred_at, e.actor_name, e.data)
        .where(
            e.customer_id == customer_id,
            e.event_type.in_(("alert.acknowledged", "alert.resolved")),
            e.data["alert_id"].as_integer() == alert_id,
        )
        .order_by(e.id)
    ).all()
    for event_type, at, who, data in logged:
        what = event_type.removeprefix("alert.")
        history.append(AlertEntry(at, what, who, (data or {}).get("note")))
    if not logged:
        # Alerts changed before the log recorded them: their columns say it.
        if row.acknowledged_at is not None:
            history.append(AlertEntry(row.acknowledged_at, "acknowledged", row.acknowledged_by))
        if row.resolved_at is not None:
            history.append(AlertEntry(row.resolved_at, "resolved", row.resolved_by))
    return AlertDetail(alert=row, details=details, history=history)
