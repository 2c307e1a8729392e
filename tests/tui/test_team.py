"""The team view driven with the pilot: each person's load is the board's
count of their open cards, a manager sees their team only and a CSM only
themselves, enter shows that person's tasks on the board and escape there
shows everyone's again."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import Customer, HealthScoreHistory, User
from cs_cli.domain import Priority, TaskStatus, TaskType
from cs_cli.services.access import resolve_actor
from cs_cli.services.tasks import lifecycle
from cs_cli.services.tasks.bulk import Target
from cs_cli.services.tasks.workload import team_workload
from cs_cli.tui.app import BoardApp
from cs_cli.tui.data import Database
from cs_cli.tui.driving import run, screen_text, until
from cs_cli.tui.screens.board import BoardScreen
from cs_cli.tui.screens.team import TeamScreen
from cs_cli.tui.widgets.tasks.column import TaskColumn

DAY = dt.date(2025, 1, 10)
NOW = dt.datetime(2025, 1, 10, 12, tzinfo=dt.UTC)
# Mia's name carries Rich markup: it must show as typed.
MIA = "Mia [b]Boss[/b]"


@pytest.fixture
def team_book(engine, book) -> None:
    """Ana: one overdue task, one due this week, one later, one snoozed;
    Mia one due tomorrow; Bo (the other team) one. E-3 critical on DAY."""
    with transaction(engine) as s:
        s.execute(sa.update(User).where(User.login == "mia").values(name=MIA))
        e3 = s.scalar(sa.select(Customer.id).where(Customer.external_id == "E-3"))
        s.add(HealthScoreHistory(customer_id=e3, as_of=DAY, overall_score=30, health_status="critical"))
        admin = resolve_actor(s, "admin")
        ids = {}
        for customer, title, due, who in (
            ("E-1", "Ana overdue call", DAY - dt.timedelta(2), "ana"),
            ("E-3", "Ana deck this week", DAY + dt.timedelta(3), "ana"),
            ("E-3", "Ana later review", DAY + dt.timedelta(20), "ana"),
            ("E-3", "Ana snoozed", DAY, "ana"),
            ("M-1", "Mia follows up", DAY + dt.timedelta(1), "mia"),
            ("W-1", "Bo calls Delta", DAY, "bo"),
        ):
            ids[title] = lifecycle.create_task(
                s,
                admin,
                customer,
                title=title,
                task_type=TaskType.CALL,
                priority=Priority.MEDIUM,
                due_date=due,
                assignee=who,
                today=DAY - dt.timedelta(5),
                now=NOW - dt.timedelta(5),
            ).row.id
        lifecycle.snooze(
            s, admin, Target(ids=(ids["Ana snoozed"],)), until=DAY + dt.timedelta(5), today=DAY, now=NOW
        )


def _app(engine, user: str) -> BoardApp:
    db = Database(engine, user, as_of=DAY)
    db.connect()
    return BoardApp(db)


def titles(app, status: TaskStatus) -> list[str]:
    return [c.title for c in app.screen.query_one(f"#col-{status.value}", TaskColumn).cards]


def test_a_manager_sees_the_team_and_opens_one_persons_tasks(engine, team_book):
    app = _app(engine, "mia")

    async def scenario(pilot) -> None:
        await pilot.press("5")
        await until(pilot, lambda: isinstance(app.screen, TeamScreen) and app.screen.rows is not None, "team")
        rows = {r.login: r for r in app.screen.rows}
        assert set(rows) == {"ana", "mia"}  # Bo is of the other team
        ana = rows["ana"]
        assert (ana.open, ana.overdue, ana.due_week) == (3, 1, 1)
        assert (ana.accounts, ana.arr, ana.at_risk_arr) == (2, 420_000, 300_000)
        assert rows["mia"].accounts is None and rows["mia"].open == 1
        text = screen_text(app)
        assert "2 people · 4 open · 1 overdue · ARR at risk $300K" in text
        assert "Ana (ana)" in text and f"{MIA} (mia)" in text and "(bo)" not in text

        await pilot.press("enter")  # the first: Ana, the one with overdue work
        await until(
            pilot,
            lambda: isinstance(app.screen, BoardScreen) and app.screen.board_filter.owner == "ana",
            "the board on Ana's tasks",
        )
        await until(pilot, lambda: "Mia follows up" not in titles(app, TaskStatus.PENDING), "the reload")
        assert sorted(titles(app, TaskStatus.PENDING)) == [
            "Ana deck this week",
            "Ana later review",
            "Ana overdue call",
        ]
        assert "owner ana" in screen_text(app)
        await pilot.press("escape")  # everyone's again
        await until(pilot, lambda: "Mia follows up" in titles(app, TaskStatus.PENDING), "everyone's tasks")
        assert app.screen.board_filter.owner is None

    run(app, scenario, size=(160, 48))


def test_a_csm_sees_only_themselves(engine, team_book):
    app = _app(engine, "ana")

    async def scenario(pilot) -> None:
        await pilot.press("5")
        await until(pilot, lambda: isinstance(app.screen, TeamScreen) and app.screen.rows is not None, "team")
        assert [r.login for r in app.screen.rows] == ["ana"]
        text = screen_text(app)
        assert "1 person · 3 open" in text and "Mia" not in text and "q Quit" in text

    run(app, scenario, size=(80, 24))
    with transaction(engine) as s:
        everyone = team_workload(s, resolve_actor(s, "admin"), scope="all", today=DAY)
        assert {r.login for r in everyone} == {"ana", "mia", "bo"}
        with pytest.raises(Exception, match="not open to a csm"):
            team_workload(s, resolve_actor(s, "ana"), scope="team", today=DAY)


def test_snapshot_of_the_team_at_160x48(engine, team_book, snap_compare):
    app = _app(engine, "mia")

    async def loaded(pilot) -> None:
        await pilot.press("5")
        await until(pilot, lambda: isinstance(app.screen, TeamScreen) and app.screen.rows is not None, "team")

    assert snap_compare(app, terminal_size=(160, 48), run_before=loaded)
