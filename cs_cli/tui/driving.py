"""Driving the board headless with Textual's pilot, for the tests and the
benchmarks: run a scenario, wait for a condition, read the screen as text."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from typing import Any

from textual.app import App
from textual.pilot import Pilot

Scenario = Callable[[Pilot], Awaitable[None]]


def run(app: App, scenario: Scenario, size: tuple[int, int] = (120, 40), *, settled: bool = False) -> None:
    """Start `app` headless at `size`, play `scenario`, stop it (`settled`:
    once its first workers have finished, see settle)."""

    async def go() -> None:
        async with app.run_test(size=size) as pilot:
            if settled:
                await settle(pilot)
            await scenario(pilot)

    asyncio.run(go())


async def settle(pilot: Pilot, wait: float = 0.0) -> None:
    """Let workers finish and their messages land."""
    await pilot.pause(wait)
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def notices(app: App) -> list[str]:
    """The notifications on screen, as text."""
    return [n.message for n in app._notifications]


async def until(pilot: Pilot, condition: Callable[[], Any], what: str, seconds: float = 10.0) -> None:
    """Wait until `condition()` holds, then one frame more: layout and paint
    come a frame later than the state they show."""
    for _ in range(int(seconds / 0.02)):
        if condition():
            await pilot.pause()
            await pilot.wait_for_scheduled_animations()
            return
        await pilot.pause(0.02)
    raise AssertionError(f"timed out waiting for {what}; notices: {notices(pilot.app)}")


def screen_text(app: App) -> str:
    """The screen as plain text, line by line, as a person reads it."""
    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True, legacy_windows=False)
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text()
