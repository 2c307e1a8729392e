"""A task card's own lines: the account's ARR and renewal countdown on an
open card, the outcome on a completed one."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from cs_cli.domain import BoardCard, HealthStatus, Priority, TaskOutcome, TaskStatus, TaskType
from cs_cli.tui.widgets.tasks.cards import card_content, money

TODAY = dt.date(2026, 3, 1)


def _card(**changes) -> BoardCard:
    fields = dict(
        id=1,
        customer="C-1",
        customer_name="Acme",
        title="Renewal call",
        task_type=TaskType.CALL,
        priority=Priority.HIGH,
        status=TaskStatus.PENDING,
        due_date=dt.date(2026, 3, 3),
        overdue=False,
        assignee=None,
        playbook=None,
        blocked_reason=None,
        completed_at=None,
        health_score=70,
        health_status=HealthStatus.AT_RISK,
        arr=Decimal("125000"),
        renewal_date=dt.date(2026, 3, 21),
    )
    return BoardCard(**{**fields, **changes})


def test_an_open_card_carries_arr_and_the_renewal_countdown():
    text = card_content(_card(), today=TODAY).plain
    assert "ARR 125k · renews in 20d" in text
    past = card_content(_card(renewal_date=dt.date(2026, 2, 20), arr=None), today=TODAY).plain
    assert past.splitlines()[-1] == "renewal 9d ago"
    bare = card_content(_card(renewal_date=None, arr=None), today=TODAY).plain
    assert "ARR" not in bare and "renew" not in bare


def test_a_completed_card_carries_its_outcome():
    done = _card(
        status=TaskStatus.COMPLETED,
        completed_at=dt.datetime(2026, 2, 27, 15, tzinfo=dt.UTC),
        outcome=TaskOutcome.NO_RESPONSE,
    )
    text = card_content(done, today=TODAY).plain
    assert "done 27 Feb, no response" in text
    assert "ARR" not in text  # the work is done: the account line gives way


def test_money_is_short():
    assert [money(v) for v in (950, 12500, 99_800, 1_200_000, 2_000_000)] == [
        "950",
        "12.5k",
        "99.8k",
        "1.2M",
        "2M",
    ]


def test_a_card_and_the_board_say_statuses_and_numbers_in_words():
    """No raw enum value or long number on the board: follow up, at risk, 281K."""
    from cs_cli.services.tasks.board import BoardFilter
    from cs_cli.templates import sandbox

    text = card_content(_card(task_type=TaskType.FOLLOW_UP, arr=Decimal("281000")), today=TODAY).plain
    assert "follow up" in text and "at risk" in text and "ARR 281k" in text
    assert "_" not in text and "281000" not in text
    assert "type follow up" in BoardFilter(task_type=TaskType.FOLLOW_UP).describe()
    env = sandbox.BoundedSandbox()
    shown = env.from_string("{{ arr | money }} ARR, health {{ status | words }}").render(
        arr=Decimal("281000.00"), status=HealthStatus.AT_RISK
    )
    assert shown == "281K ARR, health at risk"
