"""Risk alerts: listing by scope, acknowledging and resolving (rows, events,
audit entries, refusals), and the demo's alerts."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import Alert, AuditEntry, Customer, DomainEvent, User
from cs_cli.domain import AlertSeverity, AlertStatus
from cs_cli.errors import BadInput, NotFound
from cs_cli.services.access import resolve_actor
from cs_cli.services.alerts import acknowledge_alert, list_alerts, open_counts, resolve_alert
from cs_cli.services.demo import load_demo

AS_OF = dt.date(2025, 1, 15)
NOW = dt.datetime(2025, 1, 15, 10, tzinfo=dt.UTC)


def add_alert(
    session, customer: str, title: str, *, severity=AlertSeverity.WARNING, hours_ago: int = 1
) -> int:
    customer_id = session.scalar(sa.select(Customer.id).where(Customer.external_id == customer))
    alert = Alert(
        customer_id=customer_id,
        alert_type="health_drop",
        severity=severity,
        title=title,
        reason=f"{title}: why",
        raised_at=NOW - dt.timedelta(hours=hours_ago),
    )
    session.add(alert)
    session.flush()
    return alert.id


def test_list_acknowledge_and_resolve_with_events_and_audit(session, book):
    e1 = add_alert(session, "E-1", "Usage down", hours_ago=5)
    m1 = add_alert(session, "M-1", "Renewal at risk", severity=AlertSeverity.CRITICAL, hours_ago=3)
    w1 = add_alert(session, "W-1", "Champion left", hours_ago=1)
    admin, ana, mia = (resolve_actor(session, u) for u in ("admin", "ana", "mia"))

    # Newest first; each actor sees their customers' alerts, narrowed by scope.
    assert [r.id for r in list_alerts(session, admin, as_of=AS_OF).rows] == [w1, m1, e1]
    assert [r.id for r in list_alerts(session, ana, as_of=AS_OF).rows] == [e1]
    assert [r.id for r in list_alerts(session, mia, as_of=AS_OF, scope="team").rows] == [m1, e1]
    assert [r.id for r in list_alerts(session, mia, as_of=AS_OF, scope="mine").rows] == [m1]
    page = list_alerts(session, admin, as_of=AS_OF, limit=2)
    assert (len(page.rows), page.total) == (2, 3)
    row = list_alerts(session, admin, as_of=AS_OF, customer="M-1").rows[0]
    assert (row.customer_name, row.health_score, row.health_status) == ("Mia Media", 45, "at_risk")
    assert open_counts(session, mia, scope="team") == {"info": 0, "warning": 1, "critical": 1}

    acknowledged = acknowledge_alert(session, ana, e1, now=NOW)
    assert (acknowledged.status, acknowledged.acknowledged_by) == (
        AlertStatus.ACKNOWLEDGED,
        "ana@example.com",
    )
    # Acknowledging again changes nothing and says nothing more.
    acknowledge_alert(session, ana, e1, now=NOW + dt.timedelta(hours=1))
    resolved = resolve_alert(session, mia, m1, note="called the CFO", now=NOW + dt.timedelta(hours=2))
    assert resolved.status == AlertStatus.RESOLVED and resolved.resolved_by == "mia@example.com"
    # Resolved without an acknowledgement first: who resolved it acknowledged it.
    assert resolved.acknowledged_by == "mia@example.com"

    rows = {a.id: a for a in session.scalars(sa.select(Alert))}
    users = dict(session.execute(sa.select(User.login, User.id)).all())
    assert (rows[e1].acknowledged_by_user_id, rows[e1].acknowledged_at) == (users["ana"], NOW)
    assert (rows[m1].resolved_by_user_id, rows[m1].resolved_at) == (users["mia"], NOW + dt.timedelta(hours=2))
    events = session.execute(
        sa.select(DomainEvent.event_type, DomainEvent.data, DomainEvent.actor_name).order_by(DomainEvent.id)
    ).all()
    assert [(t, d["alert_id"], who) for t, d, who in events] == [
        ("alert.acknowledged", e1, "ana"),
        ("alert.resolved", m1, "mia"),
    ]
    assert events[1].data["note"] == "called the CFO"
    audit = session.execute(sa.select(AuditEntry.action, AuditEntry.entity_id).order_by(AuditEntry.id)).all()
    assert audit == [("alert.acknowledge", str(e1)), ("alert.resolve", str(m1))]
    # Unresolved only by default; every status when asked.
    assert [r.id for r in list_alerts(session, admin, as_of=AS_OF).rows] == [w1, e1]
    assert len(list_alerts(session, admin, as_of=AS_OF, statuses=tuple(AlertStatus)).rows) == 3

    with pytest.raises(BadInput, match="already resolved"):
        resolve_alert(session, admin, m1, now=NOW)
    with pytest.raises(BadInput, match="already resolved"):
        acknowledge_alert(session, admin, m1, now=NOW)
    with pytest.raises(NotFound):
        acknowledge_alert(session, ana, w1, now=NOW)  # Bo's customer
    with pytest.raises(NotFound):
        resolve_alert(session, admin, 999_999, now=NOW)
    with pytest.raises(BadInput, match="scope"):
        list_alerts(session, admin, as_of=AS_OF, scope="everyone")


def test_the_demo_raises_one_alert_per_account_in_trouble(engine, admin):
    as_of = dt.date(2025, 3, 14)
    with transaction(engine) as session:
        summary = load_demo(session, admin, customers=60, months=3, seed=11, as_of=as_of)
    with transaction(engine) as session:
        alerts = session.execute(
            sa.select(Alert, Customer.external_id, Customer.csm_id).join(
                Customer, Customer.id == Alert.customer_id
            )
        ).all()
    assert summary.counts["cs_alerts"] == len(alerts) == summary.at_risk
    assert len({ext for _, ext, _ in alerts}) == len(alerts)
    midnight = dt.datetime.combine(as_of, dt.time(), dt.UTC)
    for alert, _, csm_id in alerts:
        assert alert.raised_at < midnight and alert.title and alert.reason
        assert alert.status in (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)
        if alert.status == AlertStatus.ACKNOWLEDGED:
            assert alert.acknowledged_by_user_id == csm_id
            assert alert.raised_at < alert.acknowledged_at < midnight
    assert any(a.status == AlertStatus.ACKNOWLEDGED for a, _, _ in alerts)
    assert any(a.severity == AlertSeverity.CRITICAL for a, _, _ in alerts)
    assert len({a.alert_type for a, _, _ in alerts}) >= 3
