"""Colours and contrast of the board's default theme: every text colour the
board uses, on the background it is drawn on, reads at the WCAG AA ratio
(4.5:1), computed from the theme's own values."""

from __future__ import annotations

import asyncio
import datetime as dt
import io

import pytest
from textual.app import App
from textual.color import Color

from cs_cli.db.engine import transaction
from cs_cli.domain import Priority
from cs_cli.services.access import resolve_actor
from cs_cli.services.tasks import lifecycle
from cs_cli.services.tasks.bulk import Target
from cs_cli.tui.app import BoardApp
from cs_cli.tui.data import Database
from cs_cli.tui.driving import run, screen_text, until
from cs_cli.tui.screens.customer import CustomerScreen

# (what, text colour variable, background variable, tint of primary over it)
PAIRS = [
    ("text", "text", "background", 0),
    ("foreground", "foreground", "background", 0),
    ("muted text", "text-muted", "background", 0),
    ("muted text on a panel", "text-muted", "surface", 0),
    ("healthy, success", "success", "background", 0),
    ("at risk, warning", "warning", "background", 0),
    ("critical, overdue, error", "error", "background", 0),
    ("onboarding, accent", "accent", "background", 0),
    ("the highlighted card", "text", "surface", 25),
    ("an overdue date on the highlighted card", "error", "surface", 25),
    ("a warning on the highlighted card", "warning", "surface", 25),
    ("the focused column's title", "text", "primary", 0),
]


def _luminance(c: Color) -> float:
    def channel(v: int) -> float:
        s = v / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b)


def contrast(a: Color, b: Color) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _colour(value: str, under: Color) -> Color:
    """A theme value as the terminal shows it over `under`: 'auto 87%' is the
    readable text colour at that alpha; a colour with alpha is blended."""
    if value.startswith("auto"):
        alpha = float(value.split()[1].rstrip("%")) / 100 if " " in value else 1.0
        return under.get_contrast_text(alpha)
    parts = value.split()
    colour = Color.parse(parts[0])
    if len(parts) > 1:
        colour = colour.with_alpha(float(parts[1].rstrip("%")) / 100)
    return under + colour if colour.a < 1 else colour


def _variables() -> dict[str, str]:
    found: dict[str, str] = {}

    from cs_cli.tui.app import board_theme

    class Probe(App[None]):
        # The theme the board starts with.
        def on_mount(self) -> None:
            self.register_theme(board_theme())
            self.theme = BoardApp.DEFAULT_THEME
            found.update(self.get_css_variables())
            found["_theme"] = self.theme
            self.exit()

    asyncio.run(Probe().run_async(headless=True))
    return found


@pytest.mark.parametrize(("what", "fg", "bg", "tint"), PAIRS, ids=[p[0] for p in PAIRS])
def test_text_reads_at_4_5_to_1_on_its_background(what, fg, bg, tint):
    v = _variables()
    background = _colour(v[bg], _colour(v["background"], Color(0, 0, 0)))
    if tint:
        background = background + _colour(v["primary"], background).with_alpha(tint / 100)
    text = _colour(v[fg], background)
    ratio = contrast(text, background)
    assert ratio >= 4.5, f"{what}: {v[fg]} on {v[bg]} is {ratio:.2f}:1 in theme {v['_theme']}"


# -- on the board: urgency without colour, and one highlighted card in 256 colours

DAY = dt.date(2025, 1, 15)
NOW = dt.datetime(2025, 1, 15, 12, tzinfo=dt.UTC)


def _tasks(engine) -> None:
    with transaction(engine) as s:
        admin = resolve_actor(s, "admin")
        for title, priority, due in (
            ("Escalate the outage", Priority.CRITICAL, DAY - dt.timedelta(days=3)),
            ("Send the deck", Priority.MEDIUM, DAY + dt.timedelta(days=3)),
            ("Review adoption", Priority.LOW, DAY + dt.timedelta(days=4)),
        ):
            row = lifecycle.create_task(
                s,
                admin,
                "E-1",
                title=title,
                priority=priority,
                due_date=due,
                assignee="ana",
                today=DAY - dt.timedelta(days=5),
                now=NOW - dt.timedelta(days=5),
            ).row
            if title == "Review adoption":
                lifecycle.start(s, admin, Target(ids=(row.id,)), today=DAY, now=NOW)


def _segments(app) -> list:
    """The screen as Rich segments, in 256 colours."""
    from rich.console import Console

    width, height = app.size
    console = Console(
        width=width, height=height, file=io.StringIO(), record=True, color_system="256", legacy_windows=False
    )
    console.print(app.screen._compositor.render_update(full=True))
    return list(console._record_buffer)


def test_without_colour_urgency_is_bold_and_only_the_focused_card_is_highlighted(engine, book, monkeypatch):
    from rich.color import ColorSystem

    from cs_cli.tui.widgets.tasks.column import CardList

    _tasks(engine)
    monkeypatch.setenv("NO_COLOR", "1")
    db = Database(engine, "ana", as_of=DAY)
    db.connect()
    app = BoardApp(db)
    assert app.no_color

    async def scenario(pilot) -> None:
        await until(pilot, lambda: "overdue" in screen_text(app), "the cards")
        segments = _segments(app)
        urgent = [s for s in segments if "overdue" in s.text or s.text.strip() == "critical"]
        assert urgent and all(s.style and s.style.bold and not s.style.dim for s in urgent)
        # The focused column's card stands out; the others' cursors do not show,
        # even once colours are rounded to the 256 of the terminal.
        # Over to the next column: the first keeps its cursor, out of focus.
        await pilot.press("right")
        await pilot.pause()
        lists = list(app.screen.query(CardList))
        focused = [cl for cl in lists if cl.has_focus]
        assert len(focused) == 1 and any(cl.highlighted is not None for cl in lists if not cl.has_focus)

        def bg(cl: CardList, component: str) -> object:
            style = cl.get_component_rich_style(component)
            base = cl.rich_style.bgcolor if style.bgcolor is None else style.bgcolor
            return base.downgrade(ColorSystem.EIGHT_BIT) if base else None

        for cl in lists:
            plain = cl.rich_style.bgcolor.downgrade(ColorSystem.EIGHT_BIT)
            lit = bg(cl, "option-list--option-highlighted")
            assert (lit != plain) == cl.has_focus, cl.id

        # The 360 of the card's customer: its overdue task is bold there too.
        await pilot.press("o")
        await until(
            pilot,
            lambda: isinstance(app.screen, CustomerScreen) and app.screen.footer_at is not None,
            "Customer 360",
        )
        app.screen.query_one("#tasks-panel").scroll_visible(animate=False)
        await until(pilot, lambda: "12 Jan" in screen_text(app), "the open tasks")
        overdue = [s for s in _segments(app) if s.text.strip() == "12 Jan"]
        assert overdue and all(s.style and s.style.bold and not s.style.dim for s in overdue)

    run(app, scenario, size=(120, 40))
