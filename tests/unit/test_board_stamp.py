"""The board's live-update stamp: one statement, whatever the filter, and it
moves when a card is added, moved, changed or leaves."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import CSTask, Customer
from cs_cli.domain import Priority, TaskStatus, TaskType
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
    assert statements == 1 and first == (("pending", 1, "None", task_id),)
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
