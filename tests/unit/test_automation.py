"""Automation rules over the event log: each event acted on once per rule,
a replay acts on nothing twice, old events passed over, the renewal scan once
per renewal date, and rules files checked with file:line errors."""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest
import sqlalchemy as sa

from cs_cli import paths
from cs_cli.db.engine import transaction
from cs_cli.db.models import (
    Alert,
    CSTask,
    Customer,
    DomainEvent,
    EventCursor,
    OutboxMessage,
    Playbook,
    PlaybookRun,
    User,
)
from cs_cli.domain import Actor, NotifyPreference, Role
from cs_cli.errors import FileError, NotPermitted
from cs_cli.services import events
from cs_cli.services.automation.config import check_rules, list_rules
from cs_cli.services.automation.run import run_automation, scan_renewals
from cs_cli.services.playbooks import catalog
from cs_cli.specs.automation import load_rules

AS_OF = dt.date(2025, 1, 15)
NOW = dt.datetime(2025, 1, 15, 12, tzinfo=dt.UTC)
SYSTEM = Actor.system()


def load_playbooks(engine) -> None:
    with transaction(engine) as s:
        catalog.sync(s, SYSTEM, catalog.read(paths.shipped_dir("playbooks")), full=True, now=NOW)


def ids(session) -> dict[str, int]:
    return dict(session.execute(sa.select(Customer.external_id, Customer.id)).all())


def emit(engine, rows, at=NOW) -> None:
    with transaction(engine) as s:
        cid = ids(s)
        events.record_rows(s, SYSTEM, [(t, cid[c], at, data) for t, c, data in rows])


def run(engine, rules=None, *, as_of=AS_OF, now=NOW, batch_size=10_000):
    with transaction(engine) as s:
        return run_automation(s, SYSTEM, rules or load_rules(), as_of=as_of, now=now, batch_size=batch_size)


def counts(engine) -> dict[str, int]:
    with engine.connect() as c:
        return {
            name: c.scalar(sa.select(sa.func.count()).select_from(model))
            for name, model in (
                ("alerts", Alert),
                ("runs", PlaybookRun),
                ("tasks", CSTask),
                ("messages", OutboxMessage),
            )
        }


def test_each_event_is_acted_on_once_per_rule_and_a_replay_does_nothing(engine, book):
    load_playbooks(engine)
    emit(
        engine,
        [
            (
                "health.below_threshold",
                "M-1",
                {"threshold": 50, "score": 45, "previous_score": 58, "status": "critical"},
            ),
            # Another threshold of the scorecard: not this rule's.
            (
                "health.below_threshold",
                "E-1",
                {"threshold": 75, "score": 72, "previous_score": 81, "status": "at_risk"},
            ),
            ("contact.champion_left", "E-1", {"contact": "K-1", "name": "Carla Champion"}),
            ("ticket.escalated", "W-1", {"ticket": "T-9", "priority": "urgent"}),
            # Churned customers are passed over.
            ("ticket.escalated", "E-2", {"ticket": "T-10", "priority": "high"}),
        ],
    )
    # Other systems send anything: a threshold that is not a number never matches.
    emit(engine, [("health.below_threshold", "W-1", {"threshold": "low", "score": 45})])
    result = run(engine)
    by_rule = {o.rule: o for o in result.rules}
    assert (by_rule["health_below_threshold"].events, by_rule["health_below_threshold"].acted) == (3, 1)
    assert (by_rule["champion_left"].acted, by_rule["champion_left"].runs) == (1, 1)
    assert (by_rule["ticket_escalated"].events, by_rule["ticket_escalated"].acted) == (2, 1)
    assert by_rule["ticket_escalated"].tasks == 1 and by_rule["ticket_escalated"].messages == 1

    with engine.connect() as c:
        cid = ids(c)
        users = dict(c.execute(sa.select(User.login, User.id)).all())
        alert = c.execute(sa.select(Alert)).one()
        assert (alert.customer_id, alert.alert_type, alert.severity.value) == (
            cid["M-1"],
            "health_drop",
            "critical",
        )
        assert alert.title == "Health fell below 50: 45 (critical)"
        assert alert.reason == "Health score fell from 58 to 45, below 50."
        runs = c.execute(
            sa.select(Playbook.key, PlaybookRun.customer_id, PlaybookRun.triggered_by).join(
                Playbook, Playbook.id == PlaybookRun.playbook_id
            )
        ).all()
        assert sorted(runs) == sorted(
            [("risk_response", cid["M-1"], "event"), ("champion_change", cid["E-1"], "event")]
        )
        task = c.execute(
            sa.select(CSTask.title, CSTask.assigned_to_user_id, CSTask.due_date, CSTask.priority).where(
                CSTask.playbook_run_id.is_(None)
            )
        ).one()
        assert task == (
            "Escalated ticket T-9: call the customer",
            users["bo"],
            AS_OF + dt.timedelta(days=1),
            "high",
        )
        mail = {
            m.idempotency_key: m
            for m in c.execute(
                sa.select(OutboxMessage.idempotency_key, OutboxMessage.recipient, OutboxMessage.subject)
            )
        }
        # The alert goes at once to M-1's CSM (mia: immediate by default);
        # the escalation mail to W-1's CSM.
        assert {k.split(":")[0] for k in mail} == {"alert", "automation"}
        alert_mail = next(m for k, m in mail.items() if k.startswith("alert:"))
        assert alert_mail.recipient == "mia@example.com"
        escalation = next(m for k, m in mail.items() if k.startswith("automation:"))
        assert (escalation.recipient, escalation.subject) == (
            "bo@example.com",
            "Escalated ticket T-9 at Delta Dynamics",
        )
        cursors = dict(c.execute(sa.select(EventCursor.consumer, EventCursor.acted_count)).all())
        assert cursors == {
            "automation:health_below_threshold": 1,
            "automation:champion_left": 1,
            "automation:ticket_escalated": 1,
            "automation:renewal_within_90_days": 0,
        }
    before = counts(engine)
    again = run(engine)
    assert all(o.acted == 0 for o in again.rules)
    assert counts(engine) == before

    # A second drop while the alert is open and the run active: the rule
    # acts on the event, but nothing is doubled.
    emit(engine, [("health.below_threshold", "M-1", {"threshold": 50, "score": 30, "previous_score": 52})])
    third = {o.rule: o for o in run(engine).rules}
    assert third["health_below_threshold"].acted == 1
    assert (third["health_below_threshold"].alerts, third["health_below_threshold"].runs) == (0, 0)
    assert counts(engine) == before


def test_batches_and_old_events(engine, book):
    load_playbooks(engine)
    # Old history is passed over (max_event_age_days, 30 by default).
    emit(engine, [("ticket.escalated", "W-1", {"ticket": "T-OLD"})], at=NOW - dt.timedelta(days=45))
    emit(engine, [("ticket.escalated", "W-1", {"ticket": f"T-{i}"}) for i in range(5)])
    result = {o.rule: o for o in run(engine, batch_size=2).rules}
    assert (result["ticket_escalated"].events, result["ticket_escalated"].acted) == (6, 5)
    with engine.connect() as c:
        titles = c.scalars(sa.select(CSTask.title).order_by(CSTask.id)).all()
        assert titles == [f"Escalated ticket T-{i}: call the customer" for i in range(5)]
        keys = c.scalars(sa.select(OutboxMessage.idempotency_key)).all()
        assert len(keys) == len(set(keys)) == 5


def test_renewal_scan_once_per_renewal_date_and_the_playbook_once(engine, book):
    load_playbooks(engine)
    with transaction(engine) as s:
        # E-1 (Feb 1), M-1 (Jan 20), W-1 (Jan 25) renew within 90 days; E-2 has churned.
        assert scan_renewals(s, SYSTEM, days=90, as_of=AS_OF, now=NOW) == 3
    with transaction(engine) as s:
        assert scan_renewals(s, SYSTEM, days=90, as_of=AS_OF, now=NOW) == 0
        data = s.scalars(
            sa.select(DomainEvent.data).where(DomainEvent.event_type == "customer.renewal_within")
        )
        assert sorted(d["renewal_date"] for d in data) == ["2025-01-20", "2025-01-25", "2025-02-01"]
    result = {o.rule: o for o in run(engine).rules}
    assert result["renewal_within_90_days"].runs == 3
    with transaction(engine) as s:
        # The renewal date moves: a new cycle, a new event; the run of this
        # cycle (still active) is not doubled.
        s.execute(
            sa.update(Customer).where(Customer.external_id == "E-1").values(renewal_date=dt.date(2025, 3, 1))
        )
    with transaction(engine) as s:
        assert scan_renewals(s, SYSTEM, days=90, as_of=AS_OF, now=NOW) == 1
    assert {o.rule: o for o in run(engine).rules}["renewal_within_90_days"].runs == 0
    with engine.connect() as c:
        assert c.scalar(sa.select(sa.func.count()).select_from(PlaybookRun)) == 3


def test_rules_listing_shows_when_each_last_fired(engine, book, session):
    load_playbooks(engine)
    emit(engine, [("contact.champion_left", "E-1", None)])
    run(engine)
    views = {v.name: v for v in list_rules(session, SYSTEM, load_rules())}
    assert views["champion_left"].acted_count == 1 and views["champion_left"].last_acted_at == NOW
    assert views["ticket_escalated"].last_acted_at is None and views["ticket_escalated"].position > 0
    assert views["segment_entered_enroll"].handled_by == "journeys"
    assert views["task_completed_progress"].handled_by == "journeys"


def test_only_admins_run_automation(engine, book, session):
    csm = Actor(name="ana", role=Role.CSM, user_id=book["ana"])
    with pytest.raises(NotPermitted):
        run_automation(session, csm, load_rules(), as_of=AS_OF, now=NOW)


def write(tmp_path, text: str):
    path = tmp_path / "rules.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_bad_rules_files_name_file_and_line(tmp_path, engine, book, session):
    unknown_action = write(
        tmp_path,
        """\
        rules:
          - name: r1
            events: ticket.escalated
            actions:
              - page_someone: {who: csm}
        """,
    )
    with pytest.raises(FileError) as err:
        load_rules(unknown_action)
    assert err.value.message.startswith(f"{unknown_action}:5:")
    assert "page_someone: unknown key" in err.value.message

    missing = write(
        tmp_path,
        """\
        rules:
          - name: r1
            events: ticket.escalated
            actions:
              - task: {title: "Call"}
              - playbook: no_such_playbook
        """,
    )
    load_playbooks(engine)
    with pytest.raises(FileError) as err:
        check_rules(session, load_rules(missing))
    assert err.value.exit_code == 2
    assert err.value.message == (
        f"{missing}:6:9: rules.0.actions.1.playbook: no playbook 'no_such_playbook' "
        "(load it with `cs playbooks load`)"
    )

    for text, expected in [
        ("rules:\n  - name: r1\n    events: Bad Type\n    actions: [{task: {title: x}}]\n", ":3:"),
        ("rules:\n  - name: r1\n    events: a.b\n    actions: [{task: {title: 'x {a!r}'}}]\n", ":4:"),
        (
            "rules:\n  - name: r1\n    events: a.b\n    when: {score: {}}\n"
            "    actions: [{task: {title: x}}]\n",
            ":4:",
        ),
    ]:
        path = tmp_path / "bad.yaml"
        path.write_text(text)
        with pytest.raises(FileError) as err:
            load_rules(path)
        assert expected in err.value.message, err.value.message


def test_the_shipped_rules_file_is_valid(engine, book, session):
    load_playbooks(engine)
    rules = load_rules()
    assert {r.name for r in rules.spec.rules} == {
        "health_below_threshold",
        "champion_left",
        "ticket_escalated",
        "renewal_within_90_days",
    }
    assert set(check_rules(session, rules)) == {"risk_response", "champion_change", "renewal_prep"}


def test_notify_respects_none(engine, book):
    load_playbooks(engine)
    with transaction(engine) as s:
        s.execute(sa.update(User).where(User.login == "bo").values(notify_preference=NotifyPreference.NONE))
    emit(engine, [("ticket.escalated", "W-1", {"ticket": "T-1"})])
    result = {o.rule: o for o in run(engine).rules}
    assert (result["ticket_escalated"].tasks, result["ticket_escalated"].messages) == (1, 0)
