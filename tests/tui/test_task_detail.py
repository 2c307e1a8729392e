"""The task detail and the rows of the Customer 360 opened whole, driven with
the pilot over the small book: enter on a card opens the task with its
playbook step, customer and history; an action there changes the row and
the detail shows it; `o` opens the 360 and escape goes back to the same
card; text in brackets shows as typed; a touchpoint, a ticket and a task of
the 360 open whole."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import CSTask, Customer, Playbook, PlaybookStep, SupportTicket, Touchpoint
from cs_cli.domain import PlaybookCategory, PlaybookStepType, TaskOutcome, TaskStatus
from cs_cli.tui.driving import notices, screen_text, until

from .test_board import DAY, NOW, P, W, _app, _make_tasks, _run, column, goto, settle, task, type_text

HOSTILE = "[urgent] fix [b]now[/b]"
AGENDA = "1. Wins since [bold]last time[/bold]\n2. {{ customer.name }}'s renewal"
TALK = "Ask about [red]budget[/red] before the demo."


@pytest.fixture
def tasks(engine, book) -> dict[str, int]:
    """The board's tasks; the overdue call comes from a playbook step with an
    agenda and a talk track, and the QBR deck has a hostile title."""
    ids = _make_tasks(engine)
    with transaction(engine) as s:
        playbook = Playbook(key="renewal_prep", name="Renewal Prep", category=PlaybookCategory.RENEWAL)
        s.add(playbook)
        s.flush()
        step = PlaybookStep(
            playbook_id=playbook.id,
            step_order=2,
            name="Renewal call",
            step_type=PlaybookStepType.CALL,
            meeting_agenda_template=AGENDA,
            talk_track=TALK,
        )
        s.add(step)
        s.flush()
        s.execute(
            sa.update(CSTask)
            .where(CSTask.id == ids["Call Carla about the renewal"])
            .values(
                playbook_id=playbook.id,
                playbook_step_id=step.id,
                description="Walk Carla through the [i]renewal[/i] terms.",
            )
        )
        s.execute(sa.update(CSTask).where(CSTask.id == ids["Send the QBR deck"]).values(title=HOSTILE))
    ids[HOSTILE] = ids.pop("Send the QBR deck")
    return ids


async def open_detail(pilot, title: str) -> None:
    await goto(pilot, title)
    await pilot.press("enter")
    await until(pilot, lambda: getattr(pilot.app.screen, "view", None) is not None, "the task detail")


def test_enter_opens_the_task_whole_and_an_action_there_is_written(engine, tasks):
    """enter on a card: title, status, priority, type, due in words, owner,
    description, the playbook step's agenda and talk track as written, the
    customer's key facts and the history. t starts it and c completes it
    from the detail: the rows change, the detail shows it, a touchpoint is
    listed; escape goes back with the cursor on the card, now completed."""
    app = _app(engine, "ana")
    call = tasks["Call Carla about the renewal"]

    async def scenario(pilot) -> None:
        await open_detail(pilot, "Call Carla about the renewal")
        screen = app.screen
        assert screen.__class__.__name__ == "TaskDetailScreen" and screen.task_id == call
        text = screen_text(app)
        for words in (
            "Call Carla about the renewal",
            "pending",
            "high",
            "call",
            "overdue by 2 days (was due Wed 08 Jan 2025)",
            "Ana <ana@example.com>",
            "Walk Carla through the [i]renewal[/i] terms.",
            "Renewal Prep",
            "2. Renewal call",
            "1. Wins since [bold]last time[/bold]",
            "{{ customer.name }}'s renewal",
            "Ask about [red]budget[/red] before the demo.",
            "E-1 Alpha Analytics",
            "♥ 82 healthy",
            "$120K",
            "01 Feb 2025 (in 22 days)",
            "05 Jan 2025 12:00  admin  created: call, high, due",
            "none logged for this task",
        ):
            assert words in text, words + "\n" + text
        assert screen.view.history[0].words == "created: call, high, due 2025-01-08, for Ana"
        # Overdue in the error colour.
        facts = screen.query_one("#task-facts").visual
        styles = [str(span.style) for span in facts.spans if "overdue" in facts.plain[span.start : span.end]]
        assert any("$error" in style for style in styles), styles

        # t: started, in the database and on the detail.
        await pilot.press("t")
        await settle(pilot)
        assert task(engine, call).status == W
        await until(pilot, lambda: "in progress" in screen_text(app), "the detail reloaded")
        assert "ana  started" in screen_text(app)

        # c: the board's completion form; the outcome, notes and touchpoint follow.
        await pilot.press("c")
        assert app.screen.__class__.__name__ == "CompleteModal"
        await pilot.press("space", "tab")
        await type_text(pilot, "Carla agreed the terms")
        await pilot.press("enter")
        await settle(pilot)
        row = task(engine, call)
        assert (row.status, row.outcome, row.outcome_notes) == (
            TaskStatus.COMPLETED,
            TaskOutcome.SUCCESSFUL,
            "Carla agreed the terms",
        )
        await until(pilot, lambda: "Touchpoints (1)" in screen_text(app), "the touchpoint listed")
        text = screen_text(app)
        assert "done 10 Jan 2025, successful" in text and "Carla agreed the terms" in text
        assert "ana  completed: successful" in text
        assert any(n.startswith(f"completed task {call}") for n in notices(app))

        # escape: the board, the cursor on the same card in its new column.
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "BoardScreen"
        assert app.screen.current_card().id == call
        assert app.screen.current_card().status == TaskStatus.COMPLETED

    _run(app, scenario)


def test_o_opens_the_360_escape_keeps_the_card_and_brackets_show_as_typed(engine, tasks):
    """o from the detail and from the board opens the customer's 360; escape
    from the detail puts the cursor back on the card; a title with markup
    in it reads as typed on the detail and on the card; at 80x24 the
    detail scrolls and the footer keeps Quit."""
    app = _app(engine, "ana")
    hostile = tasks[HOSTILE]

    async def scenario(pilot) -> None:
        await open_detail(pilot, HOSTILE)
        assert HOSTILE in screen_text(app)
        await pilot.press("o")
        await until(pilot, lambda: app.screen.__class__.__name__ == "CustomerScreen", "the 360")
        assert app.screen.customer == "E-1"
        await pilot.press("escape")
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "BoardScreen"
        assert app.screen.current_card().id == hostile
        assert HOSTILE in str(column(app, P).card_list.get_option(str(hostile)).prompt)

        # o on the board: straight to the 360.
        await pilot.press("o")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "CustomerScreen" and app.screen.customer == "E-1"
        await pilot.press("escape")

        # A small terminal: every key a footer needs, Quit included; the detail scrolls.
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert "q Quit" in screen_text(app).splitlines()[-1]
        await open_detail(pilot, HOSTILE)
        footer = screen_text(app).splitlines()[-1]
        assert "Customer" in footer and "Complete" in footer and "Help" in footer
        body = app.screen.query_one("#task-body")
        assert body.has_focus and body.max_scroll_y > 0
        # ? lists every key of the detail, those not in the footer too.
        await pilot.press("question_mark")
        table = app.screen.query_one("DataTable")
        keys = {str(table.get_row_at(i)[1]): str(table.get_row_at(i)[0]) for i in range(table.row_count)}
        assert keys["Customer"] == "o" and keys["Reschedule"] == "r" and keys["Cancel"] == "x"
        assert keys["Edit title, type, priority, due"] == "e" and keys["Back"] == "esc"
        await pilot.press("escape")
        await pilot.press("end")
        await pilot.pause()
        assert "History" in screen_text(app)

    _run(app, scenario)


@pytest.fixture
def records(engine, tasks) -> dict[str, int]:
    """A touchpoint with long notes and a ticket with a description, on E-1."""
    long_notes = "\n".join(f"Line {n}: Carla said [b]{n}[/b] things." for n in range(1, 31))
    with transaction(engine) as s:
        e1 = s.scalar(sa.select(Customer.id).where(Customer.external_id == "E-1"))
        tp = Touchpoint(
            customer_id=e1,
            touchpoint_type="call",
            subject="Renewal [check]-in",
            description=long_notes,
            occurred_at=NOW - dt.timedelta(days=1),
            key_topics=["pricing", "renewal"],
            sentiment_label="positive",
            sentiment_score=0.4,
        )
        ticket = SupportTicket(
            external_id="T-77",
            customer_id=e1,
            subject="Export fails [again]",
            description="The nightly export stopped.\nWe need it by [Friday].",
            priority="urgent",
            status="open",
            opened_at=NOW - dt.timedelta(days=2),
            key_topics=["export"],
            sentiment_label="negative",
            sentiment_score=-0.5,
        )
        s.add_all([tp, ticket])
        s.flush()
        return {"touchpoint": tp.id, "ticket": ticket.id}


def test_rows_of_the_360_open_whole(engine, records, tasks):
    """In the 360, enter on a touchpoint shows its full notes, on a ticket its
    description and status, on an open task the task detail (whose `o`
    comes back to this 360)."""
    from cs_cli.tui.app import BoardApp
    from cs_cli.tui.data import Database

    db = Database(engine, "ana", as_of=DAY)
    db.connect()
    app = BoardApp(db, customer="E-1")

    async def scenario(pilot) -> None:
        await until(pilot, lambda: getattr(app.screen, "view", None) is not None, "the 360")
        c360 = app.screen
        # The timeline has the focus: enter opens the newest touchpoint.
        c360.query_one("#timeline").focus()
        await pilot.press("home", "enter")
        await until(pilot, lambda: app.screen.__class__.__name__ == "RecordModal", "the touchpoint")
        await pilot.press("end")
        await pilot.pause()
        text = str(app.screen.query_one("#record-text").visual.plain)
        assert "Renewal [check]-in" in text
        assert "Line 1: Carla said [b]1[/b] things." in text
        assert "Line 30: Carla said [b]30[/b] things." in text
        assert "positive (+0.40)" in text and "pricing, renewal" in text
        assert "Line 30" in screen_text(app)  # scrolled to the end
        await pilot.press("escape")

        # The tickets panel: enter opens the ticket.
        c360.query_one("#tickets").focus()
        await pilot.press("home", "enter")
        await until(pilot, lambda: app.screen.__class__.__name__ == "RecordModal", "the ticket")
        text = str(app.screen.query_one("#record-text").visual.plain)
        assert "Export fails [again]" in text and "We need it by [Friday]." in text
        assert "open" in text and "urgent" in text and "negative (-0.50)" in text and "export" in text
        await pilot.press("escape")

        # The open tasks: enter opens the task detail; o comes back here.
        c360.query_one("#tasks").focus()
        await pilot.press("home", "enter")
        await until(pilot, lambda: app.screen is not c360 and app.screen.view is not None, "the task")
        assert app.screen.__class__.__name__ == "TaskDetailScreen"
        assert app.screen.view.card.customer == "E-1"
        await pilot.press("o")
        await pilot.pause()
        assert app.screen is c360

    _run(app, scenario)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_snapshot_of_the_task_detail(engine, tasks, snap_compare, size):
    """The overdue call from a playbook step, started and blocked (so its
    history has three lines), opened whole: side by side at 160x48, one
    column that scrolls at 80x24."""
    from cs_cli.services.access import resolve_actor
    from cs_cli.services.tasks import lifecycle
    from cs_cli.services.tasks.bulk import Target

    call = tasks["Call Carla about the renewal"]
    with transaction(engine) as s:
        admin = resolve_actor(s, "admin")
        lifecycle.start(s, admin, Target(ids=(call,)), today=DAY, now=NOW - dt.timedelta(hours=2))
        lifecycle.block(s, admin, Target(ids=(call,)), reason="Carla is out until Monday", today=DAY, now=NOW)
    app = _app(engine, "ana")

    async def loaded(pilot) -> None:
        await settle(pilot)
        await open_detail(pilot, "Call Carla about the renewal")
        await settle(pilot)
        await pilot.wait_for_scheduled_animations()

    assert snap_compare(app, terminal_size=size, run_before=loaded)
