"""The task forms on their own: each takes every form of a day its label
offers, and refuses what it does not, saying so under the fields."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from textual.app import App
from textual.widgets import Input, Label, Static

from cs_cli.tui.screens.task_modals import SnoozeForm, SnoozeModal

TODAY = dt.date(2025, 1, 10)  # a Friday


def _submit(text: str) -> tuple[str, object, str]:
    """Type `text` into a snooze form and press enter: (its label, what it
    returned, the error under the fields)."""
    results: list[object] = []

    class Host(App[None]):
        def on_mount(self) -> None:
            self.push_screen(SnoozeModal("'Call Carla'", TODAY), results.append)

    async def go() -> tuple[str, object, str]:
        app = Host()
        async with app.run_test() as pilot:
            await pilot.pause()
            modal = app.screen
            label = str(modal.query_one(Label).render())
            modal.query_one("#until", Input).value = text
            await pilot.press("enter")
            await pilot.pause()
            if results:  # taken: the form closed
                return label, results[0], ""
            return label, "open", str(modal.query_one(".form-error", Static).render())

    return asyncio.run(go())


@pytest.mark.parametrize(
    ("text", "until"),
    [
        ("+3d", dt.date(2025, 1, 13)),
        ("+2w", dt.date(2025, 1, 24)),
        ("2025-02-01", dt.date(2025, 2, 1)),
        ("tomorrow", dt.date(2025, 1, 11)),
        ("+1w", dt.date(2025, 1, 17)),  # the placeholder
        ("clear", None),
    ],
)
def test_the_snooze_form_takes_every_form_its_label_offers(text, until):
    label, result, error = _submit(text)
    assert "YYYY-MM-DD, +3d, +2w or tomorrow" in label and "'clear'" in label
    assert result == SnoozeForm(until), error


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("today", "snooze until a day after today"),
        ("2025-01-01", "snooze until a day after today"),
        ("someday", "'someday' is not a day to come back (YYYY-MM-DD, +3d, +2w or tomorrow), or 'clear'"),
        ("", "give the day it comes back"),
    ],
)
def test_the_snooze_form_refuses_what_it_does_not_offer(text, says):
    label, result, error = _submit(text)
    # The label does not offer today: a snooze ends on a day to come.
    assert "today" not in label.replace("after today", "")
    assert result == "open" and says in error
