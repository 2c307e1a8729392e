"""cs automation, cs alerts, cs tasks remind and cs users set-notify from the
command line: exit codes, messages, scope."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import Alert, Customer, EventCursor, OutboxMessage, User
from cs_cli.domain import AlertSeverity, NotifyPreference


def add_alert(engine, customer: str, severity=AlertSeverity.WARNING) -> int:
    with transaction(engine) as s:
        customer_id = s.scalar(sa.select(Customer.id).where(Customer.external_id == customer))
        alert = Alert(
            customer_id=customer_id,
            alert_type="usage_decline",
            severity=severity,
            title="Usage down [50%]",
            reason="Active days halved.",
            raised_at=dt.datetime(2025, 1, 15, 9, tzinfo=dt.UTC),
        )
        s.add(alert)
        s.flush()
        return alert.id


def test_alerts_list_show_ack_resolve_within_scope(run_cli, engine, book):
    e1 = add_alert(engine, "E-1")
    w1 = add_alert(engine, "W-1", AlertSeverity.CRITICAL)

    mine = json.loads(run_cli("alerts", "list", "--format", "json", user="ana").stdout)
    assert [r["id"] for r in mine] == [e1]
    critical = json.loads(run_cli("alerts", "list", "--severity", "critical", "-f", "json").stdout)
    assert [r["id"] for r in critical] == [w1]
    bad = run_cli("alerts", "list", "--status", "bogus")
    assert bad.exit_code == 2 and "--status 'bogus'" in bad.stderr

    # bo cannot see (nor touch) ana's customer's alert.
    refused = run_cli("alerts", "ack", str(e1), user="bo")
    assert refused.exit_code == 4 and f"alert {e1} not found" in refused.stderr
    assert run_cli("alerts", "show", str(e1), user="bo").exit_code == 4

    acked = run_cli("alerts", "ack", str(e1), user="ana")
    assert acked.exit_code == 0 and "acknowledged 1 alert" in acked.stderr
    resolved = run_cli("alerts", "resolve", str(e1), "--note", "usage back up", user="ana")
    assert resolved.exit_code == 0 and "resolved 1 alert" in resolved.stderr
    again = run_cli("alerts", "resolve", str(e1), user="ana")
    assert again.exit_code == 2 and "already resolved" in again.stderr

    shown = json.loads(run_cli("alerts", "show", str(e1), "--format", "json", user="ana").stdout)
    assert [(h["what"], h["by"], h["note"]) for h in shown["history"]] == [
        ("raised", None, "Active days halved."),
        ("acknowledged", "ana", None),
        ("resolved", "ana", "usage back up"),
    ]
    table = run_cli("alerts", "show", str(e1), user="ana").stdout
    assert "[warning] Usage down [50%]" in table and "resolved by ana: usage back up" in table
    assert run_cli("alerts", "list", "--status", "resolved", "-f", "json").stdout.count('"id"') == 1
    assert run_cli("alerts", "show", "999").exit_code == 4


def test_alerts_check_and_reminders_need_an_admin_and_say_what_they_did(run_cli, engine, book):
    refused = run_cli("alerts", "check", user="ana")
    assert refused.exit_code == 3 and "needs the admin role" in refused.stderr
    done = run_cli("alerts", "check", "--as-of", "2025-01-15")
    assert done.exit_code == 0, done
    # M-1 (at_risk) and W-1 (critical) renew within 60 days.
    assert "raised 2 alerts (renewal_at_risk 2)" in done.stderr
    assert "raised 0 alerts" in run_cli("alerts", "check", "--as-of", "2025-01-15").stderr
    assert run_cli("tasks", "remind", user="bo").exit_code == 3
    reminded = run_cli("tasks", "remind", "--as-of", "2025-01-15")
    assert reminded.exit_code == 0 and "reminders for 2025-01-15: 0 emails queued" in reminded.stderr


def test_automation_rules_run_and_bad_files(run_cli, engine, book, tmp_path):
    assert run_cli("playbooks", "load").exit_code == 0
    listed = run_cli("automation", "rules")
    assert listed.exit_code == 0 and "health_below_threshold" in listed.stdout and "journeys" in listed.stdout
    assert run_cli("automation", "validate").exit_code == 0
    assert run_cli("automation", "run", user="ana").exit_code == 3

    run_cli("events", "emit", "ticket.escalated", "--customer", "W-1", "--data", '{"ticket": "T-7"}')
    first = run_cli("automation", "run")
    assert first.exit_code == 0, first
    assert "automation: 1 event acted on" in first.stderr
    second = run_cli("automation", "run")
    assert second.exit_code == 0 and "automation: 0 events acted on" in second.stderr
    rules = {r["name"]: r for r in json.loads(run_cli("automation", "rules", "-f", "json").stdout)}
    assert rules["ticket_escalated"]["acted_count"] == 1 and rules["ticket_escalated"]["last_acted_at"]
    with engine.connect() as c:
        assert c.scalar(sa.select(OutboxMessage.recipient)) == "bo@example.com"

    bad = tmp_path / "rules.yaml"
    bad.write_text("rules:\n  - name: r1\n    events: a.b\n    actions:\n      - playbook: nope\n")
    for args in (["automation", "validate", str(bad)], ["automation", "run", "--rules", str(bad)]):
        result = run_cli(*args)
        assert result.exit_code == 2, result
        assert f"error: {bad}:5:9: rules.0.actions.0.playbook: no playbook 'nope'" in result.stderr
    env = run_cli("automation", "run", env={"CS_AUTOMATION_RULES": str(bad)})
    assert env.exit_code == 2 and f"{bad}:5:9" in env.stderr
    # Nothing moved: the bad file was refused before anything ran.
    with engine.connect() as c:
        assert "automation:r1" not in c.scalars(sa.select(EventCursor.consumer)).all()
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("rules:\n  - name: r1\n    events: a.b\n    actions:\n      - shout: {}\n")
    result = run_cli("automation", "validate", str(unknown))
    assert result.exit_code == 2 and f"{unknown}:5:9: rules.0.actions.0.shout: unknown key" in result.stderr


def test_set_notify(run_cli, engine, book):
    done = run_cli("users", "set-notify", "daily_digest", "--timezone", "Europe/Paris", user="ana")
    assert (
        done.exit_code == 0
        and "ana@example.com: notifications daily_digest, time zone Europe/Paris" in done.stderr
    )
    assert run_cli("users", "set-notify", "none", "--user", "bo", user="ana").exit_code == 3
    assert run_cli("users", "set-notify", "none", "--user", "bo").exit_code == 0
    zone = run_cli("users", "set-notify", "immediate", "--timezone", "Mars/Olympus", user="ana")
    assert zone.exit_code == 2 and "time zone" in zone.stderr
    with engine.connect() as c:
        prefs = dict(c.execute(sa.select(User.login, User.notify_preference)).all())
        assert (prefs["ana"], prefs["bo"]) == (NotifyPreference.DAILY_DIGEST, NotifyPreference.NONE)
