"""cs alerts check: each condition raises one alert with its severity and
reason, never a second while it is open; notifications by preference through
the outbox; task reminders once per user per day."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import (
    Alert,
    CSTask,
    Customer,
    HealthScore,
    HealthScoreHistory,
    OutboxMessage,
    SupportTicket,
    UsageEvent,
    User,
)
from cs_cli.domain import Actor, AlertStatus, HealthStatus, NotifyPreference, TaskStatus
from cs_cli.services.alert_checks import check_alerts
from cs_cli.services.alerts import alert_detail, resolve_alert
from cs_cli.services.tasks.reminders import remind

AS_OF = dt.date(2025, 1, 15)
NOW = dt.datetime(2025, 1, 15, 23, 59, 59, tzinfo=dt.UTC)
SYSTEM = Actor.system()


def arrange(engine) -> dict[str, int]:
    """History a week ago, tickets, usage and preferences that call for
    one alert of each kind (and some that must not)."""
    with transaction(engine) as s:
        cid = dict(s.execute(sa.select(Customer.external_id, Customer.id)).all())
        week_ago = AS_OF - dt.timedelta(days=7)
        for ext, score, status, churn in (
            ("E-1", 95, "healthy", 0.3),  # 13 points down: under the threshold
            ("M-1", 70, "at_risk", None),  # 25 points down
            ("W-1", 65, "at_risk", None),  # fell to critical
        ):
            s.add(
                HealthScoreHistory(
                    customer_id=cid[ext],
                    as_of=week_ago,
                    overall_score=score,
                    health_status=status,
                    churn_probability=churn,
                )
            )
        s.execute(
            sa.update(HealthScore).where(HealthScore.customer_id == cid["E-1"]).values(churn_probability=0.6)
        )
        opened = dt.datetime(2025, 1, 10, tzinfo=dt.UTC)
        s.add_all(
            [
                SupportTicket(
                    external_id="T-1",
                    customer_id=cid["E-3"],
                    priority="urgent",
                    status="open",
                    opened_at=opened,
                    escalated=True,
                ),
                SupportTicket(
                    external_id="T-2",
                    customer_id=cid["E-1"],
                    priority="high",
                    status="closed",
                    opened_at=opened,
                    escalated=True,
                ),
            ]
        )
        # E-3: six active days in the fortnight before, one in the last.
        days = [AS_OF - dt.timedelta(days=n) for n in (16, 18, 20, 22, 24, 26, 3)]
        s.add_all(
            UsageEvent(
                customer_id=cid["E-3"],
                event_name="login",
                occurred_at=dt.datetime.combine(d, dt.time(10), tzinfo=dt.UTC),
            )
            for d in days
        )
        s.execute(
            sa.update(User).where(User.login == "ana").values(notify_preference=NotifyPreference.DAILY_DIGEST)
        )
        s.execute(sa.update(User).where(User.login == "bo").values(notify_preference=NotifyPreference.NONE))
        return cid


def alerts(engine) -> dict[tuple[str, str], tuple[str, str]]:
    with engine.connect() as c:
        rows = c.execute(
            sa.select(Customer.external_id, Alert.alert_type, Alert.severity, Alert.status).join(
                Customer, Customer.id == Alert.customer_id
            )
        ).all()
    return {(ext, kind): (sev.value, status.value) for ext, kind, sev, status in rows}


def outbox(engine) -> list[tuple[str, str, str]]:
    with engine.connect() as c:
        return sorted(
            c.execute(
                sa.select(OutboxMessage.idempotency_key, OutboxMessage.recipient, OutboxMessage.subject)
            ).all()
        )


def check(engine, as_of=AS_OF, now=NOW):
    with transaction(engine) as s:
        return check_alerts(s, SYSTEM, as_of=as_of, now=now)


def test_each_condition_raises_one_alert_and_never_a_second_while_open(engine, book):
    arrange(engine)
    result = check(engine)
    assert result.raised == {
        "churn_jump": 1,
        "escalation": 1,
        "health_drop": 2,
        "renewal_at_risk": 2,
        "usage_decline": 1,
    }
    assert alerts(engine) == {
        ("E-1", "churn_jump"): ("critical", "open"),
        ("M-1", "health_drop"): ("warning", "open"),
        ("W-1", "health_drop"): ("critical", "open"),
        ("M-1", "renewal_at_risk"): ("critical", "open"),  # 5 days away
        ("W-1", "renewal_at_risk"): ("critical", "open"),
        ("E-3", "escalation"): ("critical", "open"),  # urgent
        ("E-3", "usage_decline"): ("warning", "open"),
    }
    with engine.connect() as c:
        reason = c.scalar(sa.select(Alert.reason).where(Alert.alert_type == "usage_decline"))
        drops = c.scalars(sa.select(Alert.details).where(Alert.alert_type == "health_drop")).all()
    assert reason == "Active days fell from 6 in the 14 days before to 1 in the last 14 days (to 2025-01-15)."
    # The details keep machine values (the check that resolves compares them), not words.
    values = {s.value for s in HealthStatus}
    assert all(d["status"] in values and d["was_status"] in values for d in drops), drops

    # Checked again: every condition is still open, nothing new.
    assert check(engine).raised == {}
    assert len(alerts(engine)) == 7

    # Resolved while the condition holds: the next check raises it again.
    with transaction(engine) as s:
        alert_id = s.scalar(
            sa.select(Alert.id)
            .join(Customer, Customer.id == Alert.customer_id)
            .where(Customer.external_id == "M-1", Alert.alert_type == "health_drop")
        )
        resolve_alert(s, SYSTEM, alert_id, note="looked at it", now=NOW)
    assert check(engine).raised == {"health_drop": 1}
    with engine.connect() as c:
        statuses = c.scalars(sa.select(Alert.status).where(Alert.alert_type == "health_drop")).all()
    assert sorted(statuses) == [AlertStatus.OPEN, AlertStatus.OPEN, AlertStatus.RESOLVED]
    with transaction(engine) as s:
        detail = alert_detail(s, SYSTEM, alert_id, as_of=AS_OF)
    assert [(h.what, h.by, h.note) for h in detail.history] == [
        ("raised", None, detail.alert.reason),
        ("resolved", "system", "looked at it"),
    ]


def test_alerts_whose_condition_cleared_are_resolved_with_the_reason(engine, book):
    cid = arrange(engine)
    check(engine)
    with transaction(engine) as s:
        # E-3's escalated ticket is closed and its usage is back (5 of the last 14 days).
        s.execute(sa.update(SupportTicket).where(SupportTicket.external_id == "T-1").values(status="closed"))
        s.add_all(
            UsageEvent(
                customer_id=cid["E-3"],
                event_name="login",
                occurred_at=dt.datetime.combine(AS_OF - dt.timedelta(days=n), dt.time(9), tzinfo=dt.UTC),
            )
            for n in (1, 2, 4, 5)
        )
        # M-1 is back to 72 (at risk, as it was a week ago: no drop any more);
        # W-1 signed its renewal for next year, but its health is still down.
        s.execute(
            sa.update(HealthScore).where(HealthScore.customer_id == cid["M-1"]).values(overall_score=72)
        )
        s.execute(
            sa.update(Customer).where(Customer.id == cid["W-1"]).values(renewal_date=dt.date(2026, 1, 25))
        )
    result = check(engine, now=NOW + dt.timedelta(hours=1))
    assert result.raised == {}
    assert result.resolved == {"escalation": 1, "health_drop": 1, "renewal_at_risk": 1, "usage_decline": 1}
    assert {k: v[1] for k, v in alerts(engine).items()} == {
        ("E-1", "churn_jump"): "open",
        ("M-1", "health_drop"): "resolved",
        ("W-1", "health_drop"): "open",
        ("M-1", "renewal_at_risk"): "open",  # still at risk, 5 days away
        ("W-1", "renewal_at_risk"): "resolved",
        ("E-3", "escalation"): "resolved",
        ("E-3", "usage_decline"): "resolved",
    }
    notes = {}
    with transaction(engine) as s:
        for alert_id, kind in s.execute(
            sa.select(Alert.id, Alert.alert_type).where(Alert.status == "resolved")
        ):
            history = alert_detail(s, SYSTEM, alert_id, as_of=AS_OF).history
            assert [h.what for h in history] == ["raised", "resolved"]
            notes[kind] = (history[-1].by, history[-1].note)
    assert notes == {
        "escalation": ("system", "cleared: no escalated ticket is open any more"),
        "health_drop": ("system", "cleared: health is back to 72 (at risk)"),
        "renewal_at_risk": ("system", "cleared: the renewal is no longer within 60 days"),
        "usage_decline": (
            "system",
            "cleared: 5 active days in the last 14 days, against 6 before the decline",
        ),
    }
    # Nothing more to clear, nothing to raise.
    again = check(engine, now=NOW + dt.timedelta(hours=2))
    assert (again.raised, again.resolved) == ({}, {})


def test_notifications_follow_each_csms_preference(engine, book):
    arrange(engine)
    result = check(engine)
    # mia (immediate) owns M-1: one email per new alert; ana is on a digest
    # and bo wants none.
    assert (result.notified, result.digests) == (2, 0)
    mail = outbox(engine)
    assert {recipient for _, recipient, _ in mail} == {"mia@example.com"}
    assert all(key.startswith("alert:") and key.endswith(f":{book['mia']}") for key, _, _ in mail)
    assert sorted(subject for _, _, subject in mail) == [
        "[critical] Mia Media: Renewal in 5 days, health at risk",
        "[warning] Mia Media: Health fell from 70 to 45",
    ]

    # The next day: ana's digest of the day before (E-1 and E-3's three alerts), once.
    tomorrow = NOW + dt.timedelta(hours=1)
    assert check(engine, as_of=AS_OF + dt.timedelta(days=1), now=tomorrow).digests == 1
    assert (
        check(engine, as_of=AS_OF + dt.timedelta(days=1), now=tomorrow + dt.timedelta(hours=1)).digests == 0
    )
    with engine.connect() as c:
        digest = c.execute(
            sa.select(
                OutboxMessage.idempotency_key,
                OutboxMessage.recipient,
                OutboxMessage.subject,
                OutboxMessage.payload,
            ).where(OutboxMessage.idempotency_key.startswith("alert-digest:"))
        ).one()
    assert digest[:3] == (
        f"alert-digest:{book['ana']}:2025-01-15",
        "ana@example.com",
        "3 risk alerts on 2025-01-15",
    )
    assert "Alpha Analytics (E-1): Churn risk jumped to 60%" in digest.payload["text"]
    assert "Gamma Goods (E-3): Usage down 83%" in digest.payload["text"]


def add_task(session, customer_id, user_id, title, due, status=TaskStatus.PENDING, snoozed=None):
    session.add(
        CSTask(
            customer_id=customer_id,
            assigned_to_user_id=user_id,
            title=title,
            due_date=due,
            status=status,
            snoozed_until=snoozed,
            created_at=NOW,
        )
    )


def test_task_reminders_once_per_user_per_day(engine, book):
    with transaction(engine) as s:
        cid = dict(s.execute(sa.select(Customer.external_id, Customer.id)).all())
        ana, bo, mia = book["ana"], book["bo"], book["mia"]
        add_task(s, cid["E-1"], ana, "Call the CFO", AS_OF)
        add_task(s, cid["E-3"], ana, "Send the QBR deck", AS_OF - dt.timedelta(days=3))
        add_task(s, cid["E-1"], ana, "Next week's prep", AS_OF + dt.timedelta(days=1))
        add_task(
            s, cid["E-1"], ana, "Done already", AS_OF - dt.timedelta(days=1), status=TaskStatus.COMPLETED
        )
        add_task(s, cid["W-1"], bo, "Bo's overdue call", AS_OF - dt.timedelta(days=2))
        add_task(s, cid["M-1"], mia, "Snoozed", AS_OF, snoozed=AS_OF + dt.timedelta(days=2))
        s.execute(sa.update(User).where(User.login == "bo").values(notify_preference=NotifyPreference.NONE))
    with transaction(engine) as s:
        first = remind(s, SYSTEM, as_of=AS_OF, now=NOW)
    assert (first.users, first.tasks, first.already_sent, first.opted_out) == (1, 2, 0, 1)
    with engine.connect() as c:
        key, recipient, subject, payload = c.execute(
            sa.select(
                OutboxMessage.idempotency_key,
                OutboxMessage.recipient,
                OutboxMessage.subject,
                OutboxMessage.payload,
            )
        ).one()
    assert (key, recipient, subject) == (
        f"task-reminder:{book['ana']}:2025-01-15",
        "ana@example.com",
        "2 tasks due on 2025-01-15 (1 overdue)",
    )
    text = payload["text"]
    assert text.index("Send the QBR deck (Gamma Goods, E-3), overdue since 2025-01-12") < text.index(
        "Call the CFO (Alpha Analytics, E-1), due today"
    )
    assert "Next week's prep" not in text and "Done already" not in text
    with transaction(engine) as s:
        again = remind(s, SYSTEM, as_of=AS_OF, now=NOW + dt.timedelta(hours=2))
    assert (again.users, again.already_sent) == (0, 1)
    with transaction(engine) as s:
        assert (
            remind(s, SYSTEM, as_of=AS_OF + dt.timedelta(days=1), now=NOW + dt.timedelta(days=1)).users == 1
        )
    assert len(outbox(engine)) == 2
