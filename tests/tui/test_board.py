"""The task board driven with Textual's pilot: each action by its keys, then
the database checked (status, outcome, touchpoints, events, dates,
assignees); scopes, search and filters change the cards shown; an empty
book renders; a snapshot over the demo book."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from cs_cli.db.engine import transaction
from cs_cli.db.models import AuditEntry, CSTask, Customer, DomainEvent, Playbook, Touchpoint, User
from cs_cli.domain import PlaybookCategory, Priority, TaskOutcome, TaskStatus, TaskType
from cs_cli.services.access import resolve_actor
from cs_cli.services.tasks import lifecycle
from cs_cli.services.tasks.bulk import Target
from cs_cli.tui.app import BoardApp
from cs_cli.tui.data import Database
from cs_cli.tui.driving import notices, run, screen_text, settle
from cs_cli.tui.screens.task_modals import BlockModal, CompleteModal, ConfirmModal
from cs_cli.tui.widgets.tasks.column import TaskColumn

DAY = dt.date(2025, 1, 10)
NOW = dt.datetime(2025, 1, 10, 12, tzinfo=dt.UTC)
P, W, B, C = TaskStatus.PENDING, TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED, TaskStatus.COMPLETED


# -- the data: the small book of conftest and tasks on it


def _make_tasks(engine) -> dict[str, int]:
    """Tasks by title: ana's open work (one overdue, one blocked, one done
    yesterday, one done long ago), and one each for mia and bo."""
    specs = [
        ("E-1", "Call Carla about the renewal", TaskType.CALL, Priority.HIGH, DAY - dt.timedelta(2), "ana"),
        ("E-1", "Send the QBR deck", TaskType.EMAIL, Priority.MEDIUM, DAY + dt.timedelta(3), "ana"),
        ("E-3", "Review adoption", TaskType.REVIEW, Priority.LOW, None, "ana"),
        ("E-3", "Escalate the outage", TaskType.ESCALATION, Priority.CRITICAL, DAY, "ana"),
        ("E-3", "Waiting on legal", TaskType.INTERNAL, Priority.MEDIUM, DAY + dt.timedelta(5), "ana"),
        ("E-1", "Kickoff done", TaskType.MEETING, Priority.MEDIUM, DAY, "ana"),
        ("E-1", "Old win", TaskType.MEETING, Priority.MEDIUM, DAY, "ana"),
        ("M-1", "Mia follows up", TaskType.FOLLOW_UP, Priority.MEDIUM, DAY + dt.timedelta(1), "mia"),
        ("W-1", "Bo calls Delta", TaskType.CALL, Priority.HIGH, DAY, "bo"),
    ]
    ids: dict[str, int] = {}
    with transaction(engine) as s:
        admin = resolve_actor(s, "admin")
        for customer, title, kind, priority, due, who in specs:
            detail = lifecycle.create_task(
                s,
                admin,
                customer,
                title=title,
                task_type=kind,
                priority=priority,
                due_date=due,
                assignee=who,
                today=DAY - dt.timedelta(5),
                now=NOW - dt.timedelta(days=5),
            )
            ids[title] = detail.row.id
        lifecycle.block(
            s, admin, Target(ids=(ids["Waiting on legal"],)), reason="legal review", today=DAY, now=NOW
        )
        for title, when in (("Kickoff done", NOW - dt.timedelta(1)), ("Old win", NOW - dt.timedelta(30))):
            lifecycle.complete(
                s, admin, Target(ids=(ids[title],)), outcome=TaskOutcome.SUCCESSFUL, today=DAY, now=when
            )
    return ids


@pytest.fixture
def tasks(engine, book) -> dict[str, int]:
    return _make_tasks(engine)


def _app(engine, user: str, **kw) -> BoardApp:
    db = Database(engine, user, as_of=DAY)
    db.connect()
    return BoardApp(db, **kw)


def _run(app: BoardApp, scenario, size=(120, 40)) -> None:
    run(app, scenario, size, settled=True)


# -- driving the board


async def type_text(pilot, text: str) -> None:
    """Type into the focused input (as a paste: one key event per character is slow)."""
    pilot.app.focused.insert_text_at_cursor(text)
    await pilot.pause()


def column(app: BoardApp, status: TaskStatus) -> TaskColumn:
    return app.screen.query_one(f"#col-{status.value}", TaskColumn)


def titles(app: BoardApp, status: TaskStatus) -> list[str]:
    return [c.title for c in column(app, status).cards]


async def goto(pilot, title: str) -> None:
    """Put the cursor on a card with the arrow keys."""
    app = pilot.app
    statuses = [P, W, B, C]
    where = [(i, titles(app, s).index(title)) for i, s in enumerate(statuses) if title in titles(app, s)]
    assert where, f"no card '{title}' on the board"
    col, row = where[0]
    board = app.screen
    focused = board._focused_column()
    at = board.columns().index(focused) if focused else 0
    await pilot.press(*(["l"] * (col - at) if col >= at else ["h"] * (at - col)))
    now = board.columns()[col].card_list.highlighted
    if now is None:
        await pilot.press("home")
        now = 0
    await pilot.press(*(["down"] * (row - now) if row >= now else ["up"] * (now - row)))
    assert app.screen.current_card().title == title


def task(engine, task_id: int) -> sa.Row:
    with engine.connect() as conn:
        return conn.execute(sa.select(CSTask.__table__).where(CSTask.id == task_id)).one()


def events(engine, event_type: str) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(DomainEvent.data).where(DomainEvent.event_type == event_type).order_by(DomainEvent.id)
        )
        return [r.data for r in rows]


# -- the tests


def test_a_csm_works_cards_with_the_keyboard(engine, tasks):
    """Start, complete (outcome required; a call logs a touchpoint), block,
    unblock, reschedule and cancel, each by its keys, each in the database."""
    app = _app(engine, "ana")
    call, deck, review = (
        tasks["Call Carla about the renewal"],
        tasks["Send the QBR deck"],
        tasks["Review adoption"],
    )

    async def scenario(pilot) -> None:
        # The board: ana's cards only, by column; overdue and health on the card.
        assert titles(app, P) == [
            "Call Carla about the renewal",
            "Escalate the outage",
            "Send the QBR deck",
            "Review adoption",
        ]
        assert titles(app, B) == ["Waiting on legal"] and titles(app, C) == ["Kickoff done"]
        first = str(column(app, P).card_list.options[0].prompt)
        assert "E-1 Alpha Analytics" in first and "overdue 08 Jan" in first and "♥ 82 healthy" in first

        # t starts the card under the cursor: it moves to In progress.
        await goto(pilot, "Call Carla about the renewal")
        await pilot.press("t")
        await settle(pilot)
        assert task(engine, call).status == W and task(engine, call).started_at is not None
        assert titles(app, W) == ["Call Carla about the renewal"]
        assert [e["task_id"] for e in events(engine, "task.started")] == [call]

        # c asks for the outcome; without one the form stays open and says so.
        await goto(pilot, "Call Carla about the renewal")
        await pilot.press("c")
        assert app.screen.__class__.__name__ == "CompleteModal"
        await pilot.press("tab")
        await type_text(pilot, "Agreed a QBR date")
        await pilot.press("enter")
        assert app.screen.__class__.__name__ == "CompleteModal"
        assert "choose an outcome" in str(app.screen.query_one(".form-error").render())
        await pilot.press("shift+tab", "space", "tab", "tab")
        await type_text(pilot, "25")
        await pilot.press("enter")
        await settle(pilot)
        row = task(engine, call)
        assert (row.status, row.outcome, row.outcome_notes, row.time_spent_minutes) == (
            C,
            TaskOutcome.SUCCESSFUL,
            "Agreed a QBR date",
            25,
        )
        assert titles(app, C)[0] == "Call Carla about the renewal"
        with engine.connect() as conn:
            tp = conn.execute(sa.select(Touchpoint.__table__).where(Touchpoint.task_id == call)).one()
        assert (tp.touchpoint_type, tp.description, tp.duration_minutes) == ("call", "Agreed a QBR date", 25)
        assert events(engine, "task.completed")[-1]["task_id"] == call
        assert events(engine, "touchpoint.logged")[-1]["task_id"] == call
        assert any("completed task" in n and "logged 1 touchpoint" in n for n in notices(app))

        # b blocks with a reason; u unblocks (back to pending: never started).
        await goto(pilot, "Send the QBR deck")
        await pilot.press("b")
        await type_text(pilot, "waiting for the numbers")
        await pilot.press("enter")
        await settle(pilot)
        assert (task(engine, deck).status, task(engine, deck).blocked_reason) == (
            B,
            "waiting for the numbers",
        )
        assert "Send the QBR deck" in titles(app, B)
        assert events(engine, "task.blocked")[-1] == {**events(engine, "task.blocked")[-1], "task_id": deck}
        await goto(pilot, "Send the QBR deck")
        await pilot.press("u")
        await settle(pilot)
        assert (task(engine, deck).status, task(engine, deck).blocked_reason) == (P, None)

        # r reschedules like the CLI: +3d from the board's day; a bad date is refused in the form.
        await goto(pilot, "Review adoption")
        await pilot.press("r")
        await type_text(pilot, "soon")
        await pilot.press("enter")
        assert "not a date" in str(app.screen.query_one(".form-error").render())
        await pilot.press(*["backspace"] * 4)
        await type_text(pilot, "+3d")
        await pilot.press("enter")
        await settle(pilot)
        assert task(engine, review).due_date == DAY + dt.timedelta(3)
        assert events(engine, "task.rescheduled")[-1]["task_id"] == review

        # x asks first; escape keeps the task, enter cancels it.
        await goto(pilot, "Review adoption")
        await pilot.press("x")
        assert app.screen.__class__.__name__ == "CancelModal"
        await pilot.press("escape")
        await settle(pilot)
        assert task(engine, review).status == P
        await pilot.press("x")
        await type_text(pilot, "not needed")
        await pilot.press("enter")
        await settle(pilot)
        assert (task(engine, review).status, task(engine, review).outcome_notes) == (
            TaskStatus.CANCELLED,
            "not needed",
        )
        assert all("Review adoption" not in titles(app, s) for s in (P, W, B, C))
        assert events(engine, "task.cancelled")[-1]["task_id"] == review

    _run(app, scenario)


def test_a_change_a_card_cannot_make_is_checked_before_a_form_opens(engine, tasks):
    """Completing a blocked task asks to unblock it, then takes the form and
    writes both; a change a card's status rules out is said at once, no form."""
    app = _app(engine, "ana")
    legal, done = tasks["Waiting on legal"], tasks["Kickoff done"]

    async def scenario(pilot) -> None:
        await goto(pilot, "Waiting on legal")
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        assert "'Waiting on legal' is blocked. Unblock and complete it?" in screen_text(app)
        await pilot.press("enter")  # yes: the complete form
        await settle(pilot)
        assert isinstance(app.screen, CompleteModal)
        await pilot.press("space", "tab")  # successful; the notes
        await type_text(pilot, "signed at last")
        await pilot.press("enter")
        await settle(pilot)
        row = task(engine, legal)
        assert (row.status, row.outcome_notes, row.blocked_reason) == (C, "signed at last", None)
        assert events(engine, "task.unblocked")[-1]["task_id"] == legal
        assert events(engine, "task.completed")[-1]["task_id"] == legal
        assert any(n == f"unblocked and completed task {legal}" for n in notices(app))

        # A completed card: start, block, snooze and cancel say why at once.
        await goto(pilot, "Kickoff done")
        for key, verb in (
            ("t", "started"),
            ("b", "blocked"),
            ("z", "snoozed"),
            ("x", "cancelled"),
            ("a", "assigned"),
        ):
            await pilot.press(key)
            await settle(pilot)
            assert app.screen.__class__.__name__ == "BoardScreen", key
            assert f"task {done} is completed: it cannot be {verb}" in notices(app)
        assert task(engine, done).status == C
        # An open card still opens its form.
        await goto(pilot, "Send the QBR deck")
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, BlockModal)

    _run(app, scenario)


def test_completing_a_selection_with_blocked_cards_offers_to_unblock_them(engine, tasks):
    """A selection of open and blocked cards: yes unblocks and completes all
    of them in one change; the other button completes the open ones alone
    and counts the blocked ones as skipped; escape changes nothing."""
    app = _app(engine, "ana")
    legal, deck, call = (
        tasks["Waiting on legal"],
        tasks["Send the QBR deck"],
        tasks["Call Carla about the renewal"],
    )

    async def select(pilot, *names: str) -> None:
        for name in names:
            await goto(pilot, name)
            await pilot.press("space")
        assert app.screen.selected == {tasks[n] for n in names}

    async def ask(pilot) -> None:
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        text = screen_text(app)
        assert "1 of the 2 tasks is blocked. Unblock and complete all 2?" in text
        assert "Only the other 1" in text

    async def complete(pilot) -> None:
        await settle(pilot)
        assert isinstance(app.screen, CompleteModal)
        await pilot.press("space", "tab", "enter")  # successful; enter in the notes submits
        await settle(pilot)

    async def scenario(pilot) -> None:
        await select(pilot, "Send the QBR deck", "Waiting on legal")
        await ask(pilot)
        await pilot.press("escape")  # no answer: nothing changes
        await settle(pilot)
        assert app.screen.__class__.__name__ == "BoardScreen"
        assert (task(engine, deck).status, task(engine, legal).status) == (P, B)

        # The other button: the open card alone; the blocked one stays so.
        await ask(pilot)
        await pilot.click("#back")
        await complete(pilot)
        assert (task(engine, deck).status, task(engine, legal).status) == (C, B)
        assert any(
            n == "completed 1 task; logged 1 touchpoint; skipped 1 that cannot be completed (1 blocked)"
            for n in notices(app)
        ), notices(app)
        assert events(engine, "task.unblocked") == []

        # Yes: both, the blocked one unblocked first, in one change.
        await select(pilot, "Call Carla about the renewal", "Waiting on legal")
        await ask(pilot)
        await pilot.press("enter")
        await complete(pilot)
        assert (task(engine, call).status, task(engine, legal).status) == (C, C)
        assert task(engine, legal).blocked_reason is None
        assert [e["task_id"] for e in events(engine, "task.unblocked")] == [legal]
        assert {e["task_id"] for e in events(engine, "task.completed")} >= {deck, call, legal}
        # The call logs a touchpoint; the internal task does not.
        said = "unblocked and completed 2 tasks; logged 1 touchpoint"
        assert any(n == said for n in notices(app)), notices(app)
        assert legal in {c.id for c in column(app, C).cards}

    _run(app, scenario)


@pytest.mark.slow  # long: runs in `-m slow` (README, Development)
def test_bulk_selection_reassign_new_task_and_refusals(engine, tasks):
    """space selects cards for one bulk change; a refused change is a
    notification; reassign offers only the users ana may give tasks to;
    n creates a task; enter opens the task, o Customer 360, and a click selects a card."""
    app = _app(engine, "ana")
    deck, escalate = tasks["Send the QBR deck"], tasks["Escalate the outage"]

    async def scenario(pilot) -> None:
        # A blocked card cannot be completed: asked to unblock it first; no says nothing is written.
        await goto(pilot, "Waiting on legal")
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "BoardScreen"
        assert task(engine, tasks["Waiting on legal"]).status == B

        # Select two pending cards and the blocked one; start starts all three
        # (blocked -> in progress is allowed) in one bulk change.
        await goto(pilot, "Escalate the outage")
        await pilot.press("space")  # selects, and moves down to the next card
        assert app.screen.current_card().title == "Send the QBR deck"
        await pilot.press("space")
        assert app.screen.selected == {deck, escalate}
        assert str(column(app, P).card_list.options[1].prompt).startswith("✓ ")
        await pilot.press("t")
        await settle(pilot)
        assert task(engine, deck).status == W and task(engine, escalate).status == W
        assert app.screen.selected == set()
        assert any(n == "started 2 tasks" for n in notices(app))

        # A selection where some cannot make the change: those are skipped and counted.
        await goto(pilot, "Send the QBR deck")
        await pilot.press("space")
        await goto(pilot, "Waiting on legal")
        await pilot.press("space", "u")
        await settle(pilot)
        assert task(engine, tasks["Waiting on legal"]).status == P
        assert any(
            "unblocked 1 task; skipped 1 that cannot be unblocked (1 in progress)" in n for n in notices(app)
        )

        # Reassign: ana may give a task to herself, her team (mia) or the customer's CSM.
        await goto(pilot, "Send the QBR deck")
        await pilot.press("a")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "AssignModal"
        users = app.screen.query_one("#users")
        assert [o.id for o in users.options] == ["ana@example.com", "mia@example.com"]
        await pilot.press("down", "enter")
        await settle(pilot)
        with engine.connect() as conn:
            mia = conn.scalar(sa.select(User.id).where(User.login == "mia"))
        assert task(engine, deck).assigned_to_user_id == mia
        assert "Send the QBR deck" not in titles(app, W)  # no longer ana's
        assert events(engine, "task.assigned")[-1]["to_user"] == "mia@example.com"

        # n: a new task, the customer taken from the card under the cursor.
        await goto(pilot, "Escalate the outage")
        await pilot.press("n")
        assert app.screen.__class__.__name__ == "NewTaskModal"
        await type_text(pilot, "Plan the QBR")
        await pilot.press("tab", "enter", "down", "down", "enter")  # type: the third (email)
        await pilot.press("tab", "tab")
        await type_text(pilot, "+2d")
        await pilot.press("enter")
        await settle(pilot)
        with engine.connect() as conn:
            new = conn.execute(
                sa.select(CSTask.__table__, Customer.external_id)
                .join(Customer, Customer.id == CSTask.customer_id)
                .where(CSTask.title == "Plan the QBR")
            ).one()
        assert (new.external_id, new.task_type, new.status, new.due_date) == (
            "E-3",
            TaskType.EMAIL,
            P,
            DAY + dt.timedelta(2),
        )
        assert "Plan the QBR" in titles(app, P)
        assert events(engine, "task.created")[-1]["task_id"] == new.id

        # A customer that is not ana's: refused by the service, said in one line.
        await pilot.press("n", "shift+tab", "end", *["backspace"] * 3)
        await type_text(pilot, "W-1")
        await pilot.press("tab")
        await type_text(pilot, "Sneak")
        await pilot.press("enter")
        await settle(pilot)
        assert any("W-1" in n for n in notices(app)), notices(app)
        with engine.connect() as conn:
            assert conn.scalar(sa.select(sa.func.count()).where(CSTask.title == "Sneak")) == 0

        # A click selects a card (it does not open it); enter opens the task, o Customer 360.
        cards = column(app, B).card_list
        await pilot.click(cards, offset=(3, 1))
        await pilot.pause()
        assert app.screen.__class__.__name__ == "BoardScreen"
        assert cards.has_focus
        await pilot.click(column(app, P).card_list, offset=(3, 1))
        await pilot.pause()
        card = app.screen.current_card()
        assert card.title == titles(app, P)[0]
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "TaskDetailScreen"
        assert app.screen.task_id == card.id
        await pilot.press("escape", "o")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "CustomerScreen"
        assert app.screen.customer == card.customer

    _run(app, scenario)


def test_snooze_and_edit_from_the_board(engine, tasks):
    """z snoozes (the card leaves the board until its day), e edits one card
    from its own values (only what changed is written) or a selection (blank
    fields keep), each as `cs tasks snooze` and `cs tasks update` would."""
    app = _app(engine, "ana")
    deck, review, escalate = (
        tasks["Send the QBR deck"],
        tasks["Review adoption"],
        tasks["Escalate the outage"],
    )

    def audit_actions(task_id: int) -> list[str]:
        with engine.connect() as conn:
            rows = conn.scalars(
                sa.select(AuditEntry.action)
                .where(AuditEntry.entity_type == "task", AuditEntry.entity_id == str(task_id))
                .order_by(AuditEntry.id)
            )
            return list(rows)

    async def scenario(pilot) -> None:
        # z: a date that is not after today is refused in the form; +1w hides the card.
        await goto(pilot, "Review adoption")
        await pilot.press("z")
        assert app.screen.__class__.__name__ == "SnoozeModal"
        await type_text(pilot, "today")
        await pilot.press("enter")
        assert "snooze until a day after today" in str(app.screen.query_one(".form-error").render())
        await pilot.press("home", "ctrl+k")
        await type_text(pilot, "+1w")
        await pilot.press("enter")
        await settle(pilot)
        assert task(engine, review).snoozed_until == DAY + dt.timedelta(7)
        assert task(engine, review).status == P
        assert "Review adoption" not in titles(app, P)
        assert events(engine, "task.snoozed")[-1]["task_id"] == review
        assert audit_actions(review)[-1] == "task.snooze"
        assert any(f"snoozed task {review} until {DAY + dt.timedelta(7)}" in n for n in notices(app))

        # e on one card: the form holds its title, type, priority and due date.
        await goto(pilot, "Send the QBR deck")
        await pilot.press("e")
        form = app.screen
        assert form.__class__.__name__ == "EditModal"
        assert form.query_one("#title").value == "Send the QBR deck"
        assert form.query_one("#priority").value == Priority.MEDIUM
        assert form.query_one("#due").value == (DAY + dt.timedelta(3)).isoformat()
        # Unchanged: nothing to write, the form says so and stays.
        await pilot.press("enter")
        assert "nothing changed" in str(form.query_one(".form-error").render())
        await pilot.press("home", "ctrl+k")
        await type_text(pilot, "Send the QBR deck and the agenda")
        await pilot.press("tab", "tab", "enter", "down", "enter")  # priority: medium -> high
        await pilot.press("tab", "home", "ctrl+k")
        await type_text(pilot, "+10d")
        await pilot.press("enter")
        await settle(pilot)
        row = task(engine, deck)
        assert (row.title, row.priority, row.due_date, row.task_type) == (
            "Send the QBR deck and the agenda",
            Priority.HIGH,
            DAY + dt.timedelta(10),
            TaskType.EMAIL,
        )
        assert events(engine, "task.rescheduled")[-1]["task_id"] == deck
        assert audit_actions(deck)[-1] == "task.update"
        assert "Send the QBR deck and the agenda" in titles(app, P)
        assert any(n == f"updated task {deck}" for n in notices(app))

        # e on a selection: no title field; the priority changes, the due dates stay.
        await goto(pilot, "Escalate the outage")
        await pilot.press("space")
        await goto(pilot, "Send the QBR deck and the agenda")
        await pilot.press("space", "e")
        form = app.screen
        assert form.__class__.__name__ == "EditModal" and not form.query("#title")
        await pilot.press("tab", "enter", "down", "enter")  # priority: the first (low)
        await pilot.press("tab", "enter")
        await settle(pilot)
        assert task(engine, deck).priority == Priority.LOW and task(engine, escalate).priority == Priority.LOW
        assert task(engine, deck).due_date == DAY + dt.timedelta(10)
        assert task(engine, escalate).due_date == DAY
        assert app.screen.selected == set()

    _run(app, scenario)


def test_snoozed_tasks_show_on_request_and_a_snooze_can_end_early(engine, tasks):
    """Snoozed cards stay off the board until the filter form's 'Snoozed
    tasks too' is ticked; then they show with the day they come back, and
    z with 'clear' ends the snooze (as `cs tasks snooze --clear`)."""
    app = _app(engine, "ana")
    review = tasks["Review adoption"]

    async def scenario(pilot) -> None:
        await goto(pilot, "Review adoption")
        await pilot.press("z")
        await type_text(pilot, "+1w")
        await pilot.press("enter")
        await settle(pilot)
        assert "Review adoption" not in titles(app, P)

        await pilot.press("f")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "FilterModal"
        app.screen.query_one("#snoozed").focus()
        await pilot.press("space", "tab", "enter")  # tick, then Apply
        await settle(pilot)
        assert app.screen.board_filter.include_snoozed
        assert "Review adoption" in titles(app, P)
        assert "snoozed included" in str(app.screen.query_one("#status-line").render())
        assert "snoozed until" in screen_text(app)

        await goto(pilot, "Review adoption")
        await pilot.press("z")
        await type_text(pilot, "clear")
        await pilot.press("enter")
        await settle(pilot)
        assert task(engine, review).snoozed_until is None
        assert events(engine, "task.snoozed")[-1]["until"] is None
        assert any(n == f"snoozed task {review} (snooze cleared)" for n in notices(app))
        assert "snoozed until" not in screen_text(app)

        await pilot.press("f")
        await settle(pilot)
        await pilot.click("#back")  # clear all: snoozed ones leave again
        await settle(pilot)
        assert not app.screen.board_filter.include_snoozed
        assert "Review adoption" in titles(app, P)  # no longer snoozed

    _run(app, scenario)


@pytest.mark.slow  # long: runs in `-m slow` (README, Development)
def test_scope_search_and_filters_change_what_is_shown(engine, tasks):
    with transaction(engine) as s:
        playbook = Playbook(key="risk_response", name="Risk Response", category=PlaybookCategory.CHURN_RISK)
        s.add(playbook)
        s.flush()
        s.execute(
            sa.update(CSTask).where(CSTask.id == tasks["Bo calls Delta"]).values(playbook_id=playbook.id)
        )
    app = _app(engine, "admin")
    everyone = {"Call Carla about the renewal", "Bo calls Delta", "Mia follows up"}

    def open_titles() -> set[str]:
        return set(titles(app, P)) | set(titles(app, W)) | set(titles(app, B))

    async def scenario(pilot) -> None:
        # An admin starts on all; s cycles mine -> team -> all.
        assert app.screen.board_filter.scope == "all"
        assert everyone <= open_titles()
        await pilot.press("s")
        await settle(pilot)
        assert app.screen.board_filter.scope == "mine" and open_titles() == set()
        assert "nothing here" in str(app.screen.query_one("#status-line").render())
        await pilot.press("s")
        await settle(pilot)
        assert app.screen.board_filter.scope == "team" and open_titles() == set()  # admin has no team
        await pilot.press("s")
        await settle(pilot)
        assert app.scope == "all" and everyone <= open_titles()
        # Cards of others say whose they are.
        assert any(str(o.prompt).endswith("→ Bo") for o in column(app, P).card_list.options)

        # / searches customer id, name and title as you type.
        await pilot.press("slash")
        await type_text(pilot, "delta")
        await settle(pilot, wait=0.5)
        assert open_titles() == {"Bo calls Delta"}
        await pilot.press("home", "ctrl+k")
        await type_text(pilot, "E-3")
        await pilot.press("enter")
        await settle(pilot)
        assert open_titles() == {"Escalate the outage", "Review adoption", "Waiting on legal"}
        assert app.screen.focused.__class__.__name__ == "CardList"
        await pilot.press("escape")  # clears the search
        await settle(pilot)
        assert everyone <= open_titles()

        # d cycles the due window: today, this week, overdue.
        await pilot.press("d")
        await settle(pilot)
        assert open_titles() == {"Escalate the outage", "Bo calls Delta"}
        await pilot.press("d", "d")
        await settle(pilot)
        assert open_titles() == {"Call Carla about the renewal"}
        assert "overdue" in str(app.screen.query_one("#status-line").render())
        await pilot.press("d")
        await settle(pilot)

        # f: the filter form; priority high.
        await pilot.press("f")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "FilterModal"
        await pilot.press("tab", "enter", "down", "down", "down", "enter")
        app.screen.query_one("#snoozed").focus()
        await pilot.press("tab", "enter")  # Apply
        await settle(pilot)
        assert app.screen.board_filter.priority == Priority.HIGH
        assert open_titles() == {"Call Carla about the renewal", "Bo calls Delta"}
        await pilot.press("f")
        await settle(pilot)
        await pilot.click("#back")  # clear all
        await settle(pilot)
        assert app.screen.board_filter.priority is None and everyone <= open_titles()

        # The playbook filter offers the playbooks by name.
        await pilot.press("f")
        await settle(pilot)
        await pilot.press("tab", "tab", "tab", "enter", "down", "enter")
        app.screen.query_one("#snoozed").focus()
        await pilot.press("tab", "enter")  # Apply
        await settle(pilot)
        assert app.screen.board_filter.playbook == "risk_response"
        assert open_titles() == {"Bo calls Delta"}
        assert "playbook risk_response" in str(app.screen.query_one("#status-line").render())

    _run(app, scenario)


def test_a_manager_sees_the_team_and_a_long_column_pages(engine, book):
    """mia's team view holds ana's and her own tasks, not bo's; a column of
    130 cards shows the first page and loads the rest as the cursor goes down."""
    with transaction(engine) as s:
        ana = s.scalar(sa.select(User.id).where(User.login == "ana"))
        e1 = s.scalar(sa.select(Customer.id).where(Customer.external_id == "E-1"))
        w1 = s.scalar(sa.select(Customer.id).where(Customer.external_id == "W-1"))
        s.execute(
            sa.insert(CSTask),
            [
                {
                    "customer_id": e1,
                    "title": f"Task {n:03}",
                    "task_type": TaskType.CALL,
                    "priority": Priority.MEDIUM,
                    "status": TaskStatus.PENDING,
                    "due_date": DAY + dt.timedelta(n // 10),
                    "assigned_to_user_id": ana,
                    "created_at": NOW,
                }
                for n in range(130)
            ]
            + [
                {
                    "customer_id": w1,
                    "title": "Bo's own",
                    "task_type": TaskType.CALL,
                    "priority": Priority.MEDIUM,
                    "status": TaskStatus.PENDING,
                    "created_at": NOW,
                }
            ],
        )
    app = _app(engine, "mia")

    async def scenario(pilot) -> None:
        assert app.screen.board_filter.scope == "team"
        pending = column(app, P)
        assert len(pending.cards) == 50 and pending.total == 130
        assert "50 of 130" in str(pending.query_one(".column-title").render())
        assert "Bo's own" not in titles(app, P)
        await pilot.press("end")
        await settle(pilot)
        assert len(pending.cards) == 130 and not pending.has_more
        assert titles(app, P) == [f"Task {n:03}" for n in range(130)]
        await pilot.press("s")  # mine: mia has none
        await settle(pilot)
        assert titles(app, P) == []

    _run(app, scenario)


def test_an_empty_book_and_a_refused_scope_render(engine, admin):
    app = _app(engine, "admin")

    async def scenario(pilot) -> None:
        for status in (P, W, B, C):
            assert titles(app, status) == []
            assert column(app, status).has_class("-empty")
        assert "nothing here" in str(app.screen.query_one("#status-line").render())
        await pilot.press("c")  # no card: a word, no crash
        assert any("no task here" in n for n in notices(app))
        # ? lists the board's keys, the hidden ones too.
        await pilot.press("question_mark")
        table = app.screen.query_one("DataTable")
        keys = {str(table.get_row_at(i)[1]): str(table.get_row_at(i)[0]) for i in range(table.row_count)}
        assert keys["Complete"] == "c" and keys["Reschedule"] == "r" and keys["Assign to someone"] == "a"
        assert keys["Snooze until a day"] == "z" and keys["Edit title, type, priority, due"] == "e"
        # The board's meaning of a key wins over the card list's own (arrows move columns);
        # the board's own keys come first, then the app's, then moving around.
        assert keys["Column to the left"] == "← h" and "Scroll Left" not in keys
        assert keys["Down"] == "↓ j"
        order = list(keys)
        assert order.index("Complete") < order.index("Quit") < order.index("Down")
        await pilot.press("escape")

        # The database stops answering: a one-line notice, the board stays up.
        def gone(*args, **kwargs):
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))

        app.db.call = gone
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert "database error: server closed the connection unexpectedly" in notices(app)
        assert app.screen.__class__.__name__ == "BoardScreen"

    _run(app, scenario)

    with transaction(engine) as s:
        s.add(User(login="cam", name="Cam", email="cam@example.com"))
    refused = _app(engine, "cam", scope="all")

    async def refused_scenario(pilot) -> None:
        assert any("the all scope is not open to a csm" in n for n in notices(refused))
        assert refused.screen.__class__.__name__ == "BoardScreen"

    _run(refused, refused_scenario)


# -- a snapshot over the demo book

DEMO_DAY = dt.date(2025, 6, 2)


@pytest.fixture
def demo_engine(tmp_path, _sqlite_template):
    """The demo book (30 customers, seed 42) on an SQLite file, scored on DEMO_DAY.
    SQLite only: both dialects draw the same rows, and the actions above run on both."""
    import shutil

    from cs_cli.db.engine import make_engine
    from cs_cli.services.demo import load_demo
    from cs_cli.services.health.recalc import recalc_day, scorecard_groups, target_ids
    from cs_cli.specs.scorecard import load_scorecards

    path = tmp_path / "demo.db"
    shutil.copy(_sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    moment = dt.datetime.combine(DEMO_DAY, dt.time(12), tzinfo=dt.UTC)
    with transaction(engine) as s:
        admin = resolve_actor(s, "admin")
        load_demo(s, admin, customers=30, seed=42, as_of=DEMO_DAY)
    with transaction(engine) as s:
        ids = target_ids(s, admin)
        for group in scorecard_groups(s, admin, load_scorecards(None), ids, as_of=DEMO_DAY, named=False):
            recalc_day(
                s,
                admin,
                group.scorecard,
                ids,
                as_of=DEMO_DAY,
                now=moment,
                named=False,
                only=group.only,
                count=group.count,
            )
    yield engine
    engine.dispose()


def test_snapshot_of_the_board_at_160x48(demo_engine, snap_compare):
    """An admin's board (all tasks) at 160x48: four equal columns, cards with overdue
    dates, health badges, blocked reasons and assignees, the footer."""
    db = Database(demo_engine, "admin", as_of=DEMO_DAY)
    db.connect()

    async def loaded(pilot) -> None:
        await settle(pilot)
        await pilot.press("down", "down")
        # Moving the cursor may scroll a column and load the card's details:
        # the picture is taken once both are over, whatever the machine's load.
        await settle(pilot)
        await pilot.wait_for_scheduled_animations()

    assert snap_compare(BoardApp(db), terminal_size=(160, 48), run_before=loaded)


def test_snapshot_of_the_board_at_80x24(demo_engine, snap_compare):
    """A CSM's board on a small terminal: the column with the cursor wide
    enough to read its cards whole, the other three narrow, ? Help in the footer."""
    db = Database(demo_engine, "hugo.evans", as_of=DEMO_DAY)
    db.connect()

    async def loaded(pilot) -> None:
        await settle(pilot)
        await pilot.press("down")
        # Moving the cursor may scroll a column and load the card's details:
        # the picture is taken once both are over, whatever the machine's load.
        await settle(pilot)
        await pilot.wait_for_scheduled_animations()

    assert snap_compare(BoardApp(db), terminal_size=(80, 24), run_before=loaded)
