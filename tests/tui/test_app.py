"""The board's frame, driven with Textual's pilot: it opens as the right
user on the right scope, switches screens by key, and shows its keys on ?."""

from __future__ import annotations

import datetime as dt

from cs_cli.domain import Role
from cs_cli.tui.app import BoardApp, allowed_scopes, default_scope
from cs_cli.tui.data import Database
from cs_cli.tui.driving import run

DAY = dt.date(2025, 1, 10)


def test_the_board_opens_switches_screens_and_shows_its_keys(engine, book):
    db = Database(engine, "mia", as_of=DAY)
    db.connect()
    app = BoardApp(db)
    assert app.scope == "team"  # a manager starts on the team's work

    async def scenario(pilot) -> None:
        assert app.current_mode == "board"
        await pilot.press("2")
        assert app.current_mode == "dashboard"
        await pilot.press("3")
        assert app.current_mode == "alerts"
        await pilot.press("question_mark")
        assert app.screen.__class__.__name__ == "HelpScreen"
        table = app.screen.query_one("DataTable")
        rows = [tuple(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]
        assert ("1", "Tasks") in rows and ("q", "Quit") in rows
        await pilot.press("escape")
        assert app.screen.__class__.__name__ == "AlertsScreen"
        await pilot.press("1")
        assert app.current_mode == "board"

    run(app, scenario)


def test_scopes_follow_the_role():
    assert default_scope(Role.CSM) == "mine" and allowed_scopes(Role.CSM) == ("mine",)
    assert default_scope(Role.MANAGER) == "team" and allowed_scopes(Role.MANAGER) == ("mine", "team")
    assert default_scope(Role.ADMIN) == "all" and allowed_scopes(Role.ADMIN) == ("mine", "team", "all")
