"""Jump to a customer from any screen: `g` opens the finder, typing narrows
it to the customers the user may see, enter opens Customer 360."""

from __future__ import annotations

import datetime as dt

from textual.command import CommandPalette

from cs_cli.db.engine import transaction
from cs_cli.services.access import resolve_actor
from cs_cli.services.customers import customer_matches
from cs_cli.tui.app import BoardApp
from cs_cli.tui.data import Database
from cs_cli.tui.driving import run, screen_text, until
from cs_cli.tui.screens.customer import CustomerScreen

AS_OF = dt.date(2025, 1, 15)


def test_matches_are_fuzzy_scoped_and_plain_ones_first(engine, book):
    with transaction(engine) as session:
        ana = resolve_actor(session, "ana")
        admin = resolve_actor(session, "admin")
        # "gg" is in "Gamma Goods" scattered; "alpha" in "Alpha Analytics" whole.
        assert customer_matches(session, ana, "gg") == [("E-3", "Gamma Goods")]
        assert customer_matches(session, ana, "ALPHA") == [("E-1", "Alpha Analytics")]
        # Bo's customer is not ana's to find; the admin finds it by external id.
        assert customer_matches(session, ana, "w-1") == []
        assert customer_matches(session, admin, "w-1") == [("W-1", "Delta Dynamics")]
        # A whole match ranks before a scattered one; LIKE's wildcards are plain text.
        # ("Gamma Goods" holds "ma"; the shorter "Mia Media" only m...a.)
        assert [e for e, _ in customer_matches(session, admin, "ma")][:2] == ["E-3", "M-1"]
        assert customer_matches(session, admin, "%") == []
        assert customer_matches(session, admin, "  ") == []


def test_g_finds_and_opens_a_customer(engine, book):
    db = Database(engine, "ana", as_of=AS_OF)
    db.connect()
    app = BoardApp(db)

    async def scenario(pilot) -> None:
        await until(pilot, lambda: app.screen.__class__.__name__ == "BoardScreen", "the board")
        await pilot.press("g")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette), "the finder")
        await pilot.press(*"gamma")
        await until(pilot, lambda: "Gamma Goods (E-3)" in screen_text(app), "the match")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, CustomerScreen), "Customer 360")
        await until(pilot, lambda: "Gamma Goods" in screen_text(app), "its name")

    run(app, scenario)
