"""The Customer 360's live-update stamp: one statement, and it moves when
something the 360 shows changes, only then."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import Alert, CSTask, Customer, Touchpoint
from cs_cli.domain import AlertSeverity, AlertStatus, TouchpointType
from cs_cli.services.access import resolve_actor
from cs_cli.services.customer_stamp import customer_stamp

NOON = dt.datetime(2025, 1, 10, 12, tzinfo=dt.UTC)


def _stamp(engine, user: str, ref: str) -> tuple[tuple | None, int]:
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    with transaction(engine) as s:
        actor = resolve_actor(s, user)
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            stamp = customer_stamp(s, actor, ref)
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
    return stamp, len(statements)


def test_the_stamp_is_one_statement_and_moves_with_what_the_360_shows(engine, book):
    first, statements = _stamp(engine, "admin", "E-1")
    assert first is not None and statements == 1
    assert _stamp(engine, "admin", "E-1")[0] == first  # nothing changed: the same

    with transaction(engine) as s:
        e1 = s.scalar(sa.select(Customer.id).where(Customer.external_id == "E-1"))
        s.add(Touchpoint(customer_id=e1, touchpoint_type=TouchpointType.CALL, subject="hi", occurred_at=NOON))
    second = _stamp(engine, "admin", "E-1")[0]
    assert second != first

    with transaction(engine) as s:
        s.add(
            Alert(
                customer_id=e1,
                alert_type="low_nps",
                severity=AlertSeverity.WARNING,
                title="Detractor NPS",
                raised_at=NOON,
            )
        )
    third = _stamp(engine, "admin", "E-1")[0]
    assert third != second
    with transaction(engine) as s:
        s.execute(sa.update(Alert).values(status=AlertStatus.ACKNOWLEDGED, acknowledged_at=NOON))
    fourth = _stamp(engine, "admin", "E-1")[0]
    assert fourth != third

    with transaction(engine) as s:
        s.add(CSTask(customer_id=e1, title="call them"))
    fifth = _stamp(engine, "admin", "E-1")[0]
    assert fifth != fourth
    with transaction(engine) as s:
        s.execute(sa.update(CSTask).values(title="call them today"))
    assert _stamp(engine, "admin", "E-1")[0] != fifth

    # Another customer's change leaves it be.
    now = _stamp(engine, "admin", "E-1")[0]
    with transaction(engine) as s:
        w1 = s.scalar(sa.select(Customer.id).where(Customer.external_id == "W-1"))
        s.add(Touchpoint(customer_id=w1, touchpoint_type=TouchpointType.CALL, subject="x", occurred_at=NOON))
    assert _stamp(engine, "admin", "E-1")[0] == now


def test_a_customer_out_of_reach_has_no_stamp(engine, book):
    assert _stamp(engine, "ana", "W-1")[0] is None  # Bo's customer
    assert _stamp(engine, "admin", "NOPE")[0] is None
