"""The board's live-update stamp: one statement, whatever the filter, and it
moves when a card is added, moved, changed or leaves."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import CSTask, Customer, HealthOverride, HealthScore
from cs_cli.domain import HealthStatus, Priority, TaskStatus, TaskType
from cs_cli.services.access import resolve_actor
from cs_cli.services.tasks.board import BoardFilter, board_stamp

DAY = dt.date(2025, 1, 10)


def _stamp(engine, flt: BoardFilter) -> tuple[tuple, int]:
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    with transaction(engine) as s:
        actor = resolve_actor(s, "ana")
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            stamp = board_stamp(s, actor, flt, today=DAY)
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
    return stamp, len(statements)


def test_the_stamp_is_one_statement_and_moves_with_the_cards(engine, book):
    with transaction(engine) as s:
        e1 = s.scalar(sa.select(Customer.id).where(Customer.external_id == "E-1"))
        task = CSTask(
            customer_id=e1,
            title="Call",
            task_type=TaskType.CALL,
            priority=Priority.HIGH,
            status=TaskStatus.PENDING,
            assigned_to_user_id=book["ana"],
            created_at=dt.datetime(2025, 1, 9, tzinfo=dt.UTC),
        )
        s.add(task)
        s.flush()
        task_id = task.id
    # Every kind of filter, the named ones too, in the one statement.
    busy = BoardFilter(
        owner="ana",
        playbook="nope",
        segment="nope",
        health="healthy",
        renewal_within=30,
        arr_min=1,
        arr_max=10**9,
    )
    assert _stamp(engine, busy)[1] == 1
    first, statements = _stamp(engine, BoardFilter())
    assert statements == 1 and first[0][:4] == ("pending", 1, "None", task_id)
    assert _stamp(engine, BoardFilter())[0] == first  # nothing changed: the same

    with transaction(engine) as s:
        s.execute(
            sa.update(CSTask)
            .where(CSTask.id == task_id)
            .values(status=TaskStatus.IN_PROGRESS, updated_at=dt.datetime(2025, 1, 10, 9, tzinfo=dt.UTC))
        )
    moved, _ = _stamp(engine, BoardFilter())
    assert moved != first and moved[0][:2] == ("in_progress", 1)
    with transaction(engine) as s:
        s.execute(
            sa.update(CSTask)
            .where(CSTask.id == task_id)
            .values(title="Renamed", updated_at=dt.datetime(2025, 1, 10, 10, tzinfo=dt.UTC))
        )
    assert _stamp(engine, BoardFilter())[0] != moved
    # A filter the task leaves: the stamp says so too.
    assert _stamp(engine, BoardFilter(health="critical"))[0] == ()


def test_the_stamp_moves_with_what_the_cards_show_of_their_customer(engine, book):
    """A card shows its customer's health, ARR and renewal: a recalc, an
    override or an edit of the customer elsewhere moves the stamp; another
    customer's change does not."""
    with transaction(engine) as s:
        e1 = s.scalar(sa.select(Customer.id).where(Customer.external_id == "E-1"))
        s.add(
            CSTask(
                customer_id=e1,
                title="Call",
                task_type=TaskType.CALL,
                priority=Priority.HIGH,
                status=TaskStatus.PENDING,
                assigned_to_user_id=book["ana"],
            )
        )
    first, _ = _stamp(engine, BoardFilter())

    with transaction(engine) as s:
        s.execute(sa.update(Customer).where(Customer.id == e1).values(arr=777000))
    edited, _ = _stamp(engine, BoardFilter())
    assert edited != first

    with transaction(engine) as s:
        s.execute(
            sa.update(HealthScore)
            .where(HealthScore.customer_id == e1)
            .values(overall_score=41, calculated_at=dt.datetime(2025, 1, 10, 11, tzinfo=dt.UTC))
        )
        if not s.scalar(sa.select(HealthScore.id).where(HealthScore.customer_id == e1)):
            s.add(HealthScore(customer_id=e1, overall_score=41, health_status=HealthStatus.AT_RISK))
    scored, _ = _stamp(engine, BoardFilter())
    assert scored != edited

    with transaction(engine) as s:
        s.add(
            HealthOverride(
                customer_id=e1,
                overall_score=20,
                health_status=HealthStatus.CRITICAL,
                reason="exec left",
                expires_on=DAY + dt.timedelta(days=30),
                set_by="admin",
            )
        )
    overridden, _ = _stamp(engine, BoardFilter())
    assert overridden != scored

    # A customer with no card on the board: the same stamp.
    with transaction(engine) as s:
        s.execute(sa.update(Customer).where(Customer.external_id == "W-1").values(arr=1))
    assert _stamp(engine, BoardFilter())[0] == overridden
