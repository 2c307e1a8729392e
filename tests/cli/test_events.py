"""`cs events`: other systems add events; everyone reads the log of the
customers they can see."""

from __future__ import annotations

import json

import sqlalchemy as sa

from cs_cli.db.models import DomainEvent


def test_emit_and_list(run_cli, engine, book):
    # A type nothing knows yet is refused as a likely typo, then recorded with --new-type.
    args = ["events", "emit", "invoice.paid_late", "--customer", "W-1", "--data", '{"days_late": 45}']
    unknown = run_cli(*args)
    assert unknown.exit_code == 2, unknown
    assert unknown.stderr.splitlines() == [
        "error: unknown event type 'invoice.paid_late': nothing has recorded it and no rule, journey or "
        "playbook acts on it",
        "hint: record a type of your own with --new-type",
    ]
    result = run_cli(*args, "--new-type")
    assert result.exit_code == 0, result
    assert "recorded invoice.paid_late for W-1" in result.stderr
    with engine.connect() as conn:
        event_type, data, actor = conn.execute(
            sa.select(DomainEvent.event_type, DomainEvent.data, DomainEvent.actor_name)
        ).one()
    assert (event_type, data, actor) == ("invoice.paid_late", {"days_late": 45}, "admin")
    # Known from now on; and a typo of a known type gets the nearest ones.
    typo = run_cli("events", "emit", "invoice.paid_lat", "--customer", "W-1")
    assert typo.exit_code == 2 and "(did you mean invoice.paid_late?)" in typo.stderr, typo
    # A type an automation rule acts on is known without ever being recorded.
    assert run_cli("events", "emit", "champion.left", "--customer", "E-1").exit_code == 0
    assert run_cli("events", "emit", "segment.entered", "--customer", "E-1", "--new-type").exit_code == 0

    listed = json.loads(run_cli("events", "list", "--format", "json").stdout)
    assert [(r["event_type"], r["external_id"]) for r in listed] == [
        ("segment.entered", "E-1"),
        ("champion.left", "E-1"),
        ("invoice.paid_late", "W-1"),
    ]
    family = json.loads(run_cli("events", "list", "--type", "segment.*", "--format", "json").stdout)
    assert [r["external_id"] for r in family] == ["E-1"]
    # A CSM sees only the events of their own customers.
    mine = json.loads(run_cli("events", "list", "--format", "json", user="bo").stdout)
    assert [r["external_id"] for r in mine] == ["W-1"]


def test_bad_events_are_refused_and_nothing_is_written(run_cli, engine, book):
    for args, code, text in [
        (["Invoice Paid", "--customer", "W-1"], 2, "is not an event type"),
        (["invoice.paid", "--customer", "W-1", "--data", "[1]", "--new-type"], 2, "--data is a JSON object"),
        (["invoice.paid", "--customer", "W-1", "--data", "{oops"], 2, "--data: invalid JSON at column 2"),
        (["invoice.paid", "--customer", "NOPE", "--new-type"], 4, "no customer 'NOPE'"),
        (["invoice.paid", "--customer", "W-1"], 2, "unknown event type 'invoice.paid'"),
    ]:
        result = run_cli("events", "emit", *args)
        assert result.exit_code == code and text in result.stderr, (args, result)
    refused = run_cli("events", "emit", "invoice.paid", "--customer", "W-1", user="bo")
    assert refused.exit_code == 3 and "emitting events needs the admin role" in refused.stderr
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(DomainEvent)) == 0
