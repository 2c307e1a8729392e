"""Imports record the domain events their rows imply, once: a new customer,
a churned one, a champion who left, an escalated ticket. Re-importing the
same file implies nothing new."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import Customer, DomainEvent
from cs_cli.services.importers import import_file

NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


def _import(engine, actor, entity, path) -> None:
    with transaction(engine) as session:
        import_file(session, actor, entity, path, now=NOW)


def _events(engine) -> list[tuple[str, str, dt.datetime, dict]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(DomainEvent.event_type, Customer.external_id, DomainEvent.occurred_at, DomainEvent.data)
            .join(Customer, Customer.id == DomainEvent.customer_id)
            .order_by(DomainEvent.id)
        )
        return [tuple(r) for r in rows]


def test_imports_record_what_their_rows_imply_once(engine, admin, tmp_path):
    customers = tmp_path / "customers.csv"
    customers.write_text("external_id,name,status\nC1,Acme,active\nC2,Beta,active\n")
    _import(engine, admin, "customers", customers)
    _import(engine, admin, "customers", customers)  # the same file again
    assert [(t, c) for t, c, _, _ in _events(engine)] == [
        ("customer.created", "C1"),
        ("customer.created", "C2"),
    ]

    customers.write_text(
        "external_id,name,status,churned_at\nC1,Acme,active,\nC2,Beta,churned,2026-10-30T09:00:00Z\n"
    )
    _import(engine, admin, "customers", customers)
    _import(engine, admin, "customers", customers)
    churned = [e for e in _events(engine) if e[0] == "customer.churned"]
    assert [(c, at) for _, c, at, _ in churned] == [("C2", dt.datetime(2026, 10, 30, 9, tzinfo=dt.UTC))]

    contacts = tmp_path / "contacts.csv"
    contacts.write_text(
        "external_id,customer_id,name,email,is_champion,left_at\n"
        "P1,C1,Dana,dana@acme.test,true,\n"
        "P2,C1,Eli,eli@acme.test,false,2026-09-01T00:00:00Z\n"
    )
    _import(engine, admin, "contacts", contacts)
    assert not [e for e in _events(engine) if e[0] == "contact.champion_left"]
    contacts.write_text(
        "external_id,customer_id,name,email,is_champion,left_at\n"
        "P1,C1,Dana,dana@acme.test,true,2026-10-15T00:00:00Z\n"
        "P2,C1,Eli,eli@acme.test,false,2026-09-01T00:00:00Z\n"
    )
    _import(engine, admin, "contacts", contacts)
    _import(engine, admin, "contacts", contacts)
    left = [e for e in _events(engine) if e[0] == "contact.champion_left"]
    assert len(left) == 1
    _, customer, at, data = left[0]
    assert (customer, at, data["contact"], data["email"]) == (
        "C1",
        dt.datetime(2026, 10, 15, tzinfo=dt.UTC),
        "P1",
        "dana@acme.test",
    )

    tickets = tmp_path / "tickets.csv"
    tickets.write_text(
        "external_id,customer_id,opened_at,priority,status,escalated\n"
        "T1,C1,2026-10-01T10:00:00Z,urgent,open,no\n"
        "T2,C2,2026-10-02T10:00:00Z,high,open,yes\n"
    )
    _import(engine, admin, "tickets", tickets)
    tickets.write_text(
        "external_id,customer_id,opened_at,priority,status,escalated\n"
        "T1,C1,2026-10-01T10:00:00Z,urgent,open,yes\n"
        "T2,C2,2026-10-02T10:00:00Z,high,open,yes\n"
    )
    _import(engine, admin, "tickets", tickets)
    escalated = [(c, d["ticket"], d["priority"]) for t, c, _, d in _events(engine) if t == "ticket.escalated"]
    assert escalated == [("C2", "T2", "high"), ("C1", "T1", "urgent")]
