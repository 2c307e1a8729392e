"""`cs touchpoints` as a user runs it: log, list, show, timeline, bad input."""

from __future__ import annotations

import csv
import io
import json

import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import AuditEntry, DomainEvent, Touchpoint


def test_log_list_show_and_timeline(run_cli, book, engine):
    logged = run_cli(
        "touchpoints",
        "log",
        "E-1",
        "--type",
        "call",
        "--subject",
        "Renewal check-in",
        "--notes",
        "Budget approved",
        "--minutes",
        "25",
        "--contact",
        "CARLA@alpha.example",
        "--sentiment",
        "positive",
        "--at",
        "2025-01-10T15:30",
        user="ana",
    )
    assert logged.exit_code == 0, logged
    assert logged.stdout == ""
    assert logged.stderr == "logged call touchpoint 1 for E-1 at 2025-01-10 15:30\n"
    run_cli(
        "touchpoints",
        "log",
        "E-1",
        "-t",
        "email_opened",
        "--subject",
        "Opened the deck",
        "--at",
        "2025-01-12",
    )
    qbr = run_cli(
        "touchpoints",
        "log",
        "E-3",
        "-t",
        "qbr",
        "--subject",
        "Q4 review",
        "--sentiment",
        "negative",
        "--at",
        "2025-01-11T09:00+02:00",
        "--format",
        "json",
        user="ana",
    )
    assert qbr.exit_code == 0, qbr
    card = json.loads(qbr.stdout)
    assert card["occurred_at"] == "2025-01-11T07:00:00+00:00" and card["channel"] == "video"
    assert card["direction"] == "outbound" and card["user"] == "ana@example.com"

    rows = json.loads(run_cli("touchpoints", "list", "--format", "json").stdout)
    assert [r["subject"] for r in rows] == [
        "Opened the deck",
        "Q4 review",
        "Renewal check-in",
    ]  # newest first
    assert rows[0]["direction"] == "inbound" and rows[0]["user"] == "admin@example.com"
    assert rows[2]["contact"] == "carla@alpha.example" and rows[2]["duration_minutes"] == 25
    assert rows[2]["channel"] == "phone"
    filtered = run_cli("touchpoints", "list", "--customer", "E-1", "--type", "call", "--format", "csv")
    table = list(csv.DictReader(io.StringIO(filtered.stdout)))
    assert [r["subject"] for r in table] == ["Renewal check-in"] and table[0]["sentiment_label"] == "positive"
    since = json.loads(
        run_cli("touchpoints", "list", "--since", "2025-01-11", "--user", "ana", "--format", "json").stdout
    )
    assert [r["subject"] for r in since] == ["Q4 review"]
    assert run_cli("touchpoints", "list", user="bo").stderr == "0 touchpoints\n"
    assert (
        run_cli("touchpoints", "list", "-n", "2").stderr
        == "1-2 of 3 touchpoints; next page: --offset 2 (or --all)\n"
    )

    shown = run_cli("touchpoints", "show", "1")
    assert shown.exit_code == 0
    assert "Budget approved" in shown.stdout and "carla@alpha.example" in shown.stdout
    assert (
        json.loads(run_cli("touchpoints", "show", "1", "--format", "json").stdout)["description"]
        == "Budget approved"
    )

    timeline = run_cli("touchpoints", "timeline", "E-1")
    assert timeline.exit_code == 0
    lines = timeline.stdout.splitlines()
    assert "Opened the deck" in lines[2] and "Renewal check-in" in lines[3] and "positive" in lines[3]
    # "Opened the deck" was logged with no sentiment: cs read it, and found it neutral.
    assert timeline.stderr == "E-1: 2 touchpoints; sentiment: 1 positive, 1 neutral\n"
    empty = run_cli("touchpoints", "timeline", "W-2")
    assert empty.stderr.startswith("W-2 has no touchpoints yet")

    with transaction(engine) as s:
        events = s.execute(sa.select(DomainEvent.event_type, DomainEvent.data).order_by(DomainEvent.id)).all()
        assert [e for e, _ in events] == ["touchpoint.logged"] * 3
        assert events[0].data == {
            "touchpoint_id": 1,
            "touchpoint_type": "call",
            "task_id": None,
            "sentiment": "positive",
        }
        assert s.scalar(sa.select(sa.func.count()).where(AuditEntry.action == "touchpoint.log")) == 3


def test_bad_input(run_cli, book, engine):
    def fails(code: int, first_line: str, *args: str, user: str = "admin") -> None:
        result = run_cli(*args, user=user)
        assert result.exit_code == code, result
        assert result.stderr.splitlines()[0].startswith(first_line), result.stderr

    log = ("touchpoints", "log", "E-1", "--type", "call", "--subject", "Hi")
    fails(4, "error: no customer 'NOPE'", "touchpoints", "log", "NOPE", "--type", "call", "--subject", "Hi")
    fails(4, "error: no customer 'W-1' that you can see", *log[:2], "W-1", *log[3:], user="ana")
    fails(4, "error: E-1 has no contact 'who@else.example'", *log, "--contact", "who@else.example")
    fails(2, "error: Invalid value for '--at': 'yesterday' is not a date and time", *log, "--at", "yesterday")
    fails(2, "error: a touchpoint cannot be in the future", *log, "--at", "2199-01-01T00:00")
    fails(
        2,
        "error: Invalid value for '--type'",
        "touchpoints",
        "log",
        "E-1",
        "--type",
        "carrier_pigeon",
        "--subject",
        "x",
    )
    fails(2, "error: Invalid value for '--sentiment'", *log, "--sentiment", "ecstatic")
    fails(
        2,
        "error: a subject is at most 255 characters, not 300",
        "touchpoints",
        "log",
        "E-1",
        "-t",
        "call",
        "--subject",
        "x" * 300,
    )
    fails(4, "error: touchpoint 77 not found", "touchpoints", "show", "77")
    fails(4, "error: no user 'nobody'", "touchpoints", "list", "--user", "nobody")
    with transaction(engine) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Touchpoint)) == 0
        assert s.scalar(sa.select(sa.func.count()).select_from(DomainEvent)) == 0
