"""The charts of Customer 360 (health over 90 days on its status bands,
usage events a week) and of the dashboard (the book's mean health over 90
days), driven with the pilot: each point is a row made here, at 160x48
and at 80x24."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import Customer, HealthScoreHistory, UsageEvent
from cs_cli.domain import HealthStatus
from cs_cli.tui.app import BoardApp
from cs_cli.tui.data import Database
from cs_cli.tui.driving import run, screen_text, until
from cs_cli.tui.screens.customer import CustomerScreen
from cs_cli.tui.screens.dashboard import DashboardScreen
from cs_cli.tui.widgets.charts import BarChart, LineChart

AS_OF = dt.date(2025, 3, 14)
NOON = dt.datetime(2025, 3, 14, 12, tzinfo=dt.UTC)
# E-1's scores by days before AS_OF; the first is older than the 90 days charted.
E1 = {100: 90, 80: 85, 60: 78, 40: 70, 20: 55, 7: 50, 0: 62}
M1 = {20: 40, 7: 45, 0: 50}
SIZES = [(160, 48), (80, 24)]


def _status(score: int) -> HealthStatus:
    return (
        HealthStatus.HEALTHY
        if score >= 80
        else HealthStatus.AT_RISK
        if score >= 60
        else HealthStatus.CRITICAL
    )


def chart_rows(engine) -> None:
    with transaction(engine) as session:
        ids = dict(session.execute(sa.select(Customer.external_id, Customer.id)).all())
        for ext, scores in (("E-1", E1), ("M-1", M1)):
            session.add_all(
                HealthScoreHistory(
                    customer_id=ids[ext],
                    as_of=AS_OF - dt.timedelta(days=days),
                    overall_score=score,
                    health_status=_status(score),
                )
                for days, score in scores.items()
            )
        # Three events in the last week (one on AS_OF's last minute), a row
        # standing for five two weeks back, and one too old to chart.
        events = [
            (NOON, 1.0),
            (dt.datetime(2025, 3, 14, 23, 59, tzinfo=dt.UTC), 1.0),
            (NOON - dt.timedelta(days=6), 1.0),
            (NOON - dt.timedelta(days=15), 5.0),
            (NOON - dt.timedelta(weeks=14), 1.0),
            (dt.datetime(2025, 3, 15, 0, 0, tzinfo=dt.UTC), 1.0),  # the day after: not yet
        ]
        session.execute(
            sa.insert(UsageEvent),
            [
                {"customer_id": ids["E-1"], "event_name": f"login {i}", "occurred_at": at, "quantity": q}
                for i, (at, q) in enumerate(events)
            ],
        )


def _has_braille(text: str) -> bool:
    return any("\u2801" <= ch <= "\u28ff" for ch in text)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_360_charts_health_on_its_bands_and_usage_by_week(engine, book, size):
    chart_rows(engine)
    db = Database(engine, "admin", as_of=AS_OF)
    db.connect()
    app = BoardApp(db, customer="E-1")

    async def scenario(pilot) -> None:
        await until(
            pilot, lambda: isinstance(app.screen, CustomerScreen) and app.screen.footer_at, "Customer 360"
        )
        screen = app.screen
        trend = screen.query_one("#trend", LineChart)
        # One point a day scored within the 90 days, at its day, oldest first.
        assert trend.values == [85, 78, 70, 55, 50, 62]
        assert trend.xs == [10, 30, 50, 70, 83, 90]
        assert trend.thresholds == (60, 80)
        usage = screen.query_one("#usage", BarChart)
        assert len(usage.values) == 13 and usage.values[-1] == 3 and usage.values[-3] == 5
        assert sum(usage.values) == 8
        # Drawn where a person looks first: in the Health panel, on screen.
        region = trend.region
        assert region.height >= 3 and region.bottom <= size[1]
        lines = screen_text(app).splitlines()
        assert _has_braille("\n".join(lines[region.y : region.bottom]))
        assert " 80┤" in "\n".join(lines[region.y : region.bottom])
        assert any("→ 2025-03-14 62 (low 50, high 85)" in line for line in lines)
        screen.query_one("#usage-panel").scroll_visible(animate=False)
        await until(pilot, lambda: "8 events in 13 weeks" in screen_text(app), "the usage panel")
        assert "last week 3" in screen_text(app)

    run(app, scenario, size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_dashboard_charts_the_books_mean_health(engine, book, size):
    chart_rows(engine)
    db = Database(engine, "admin", as_of=AS_OF)
    db.connect()
    app = BoardApp(db)

    async def scenario(pilot) -> None:
        await pilot.press("2")
        await until(
            pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.board, "the dashboard"
        )
        screen = app.screen
        trend = screen.board.score_trend
        # Days with scores in the 90: E-1 alone, then E-1 and M-1 together.
        assert [(p.customers, p.mean_score, p.at_risk) for p in trend] == [
            (1, 85, 0),
            (1, 78, 1),
            (1, 70, 1),
            (2, 47.5, 2),
            (2, 47.5, 2),
            (2, 56, 2),
        ]
        chart = screen.query_one("#dash-trend", LineChart)
        assert chart.values == [85, 78, 70, 47.5, 47.5, 56]
        # The axis spans the means, with the status thresholds inside it.
        assert chart.y_range == (30, 100) and chart.thresholds == (60, 80)
        # Stacked at 80x24: the dashboard scrolls it into view.
        screen.query_one("#dash-trend-panel").scroll_visible(animate=False)
        await until(pilot, lambda: "mean 85 → 56" in screen_text(app), "the trend in view")
        text = screen_text(app)
        assert "Mean health, 90 days" in text
        assert "at risk or critical 0%" in text  # → 100%, wrapped at 80
        assert _has_braille(text)

    run(app, scenario, size=size)


def test_the_scope_narrows_the_trend(engine, book):
    """Ana's book is E-1's: the trend of scope mine leaves M-1 out."""
    chart_rows(engine)
    db = Database(engine, "ana", as_of=AS_OF)
    db.connect()
    app = BoardApp(db)

    async def scenario(pilot) -> None:
        await pilot.press("2")
        await until(
            pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.board, "the dashboard"
        )
        assert [p.mean_score for p in app.screen.board.score_trend] == [85, 78, 70, 55, 50, 62]

    run(app, scenario)


def test_a_chart_too_small_to_draw_says_its_summary():
    import asyncio

    from textual.app import App

    class Tiny(App[None]):
        CSS = "LineChart { width: 12; height: 3; } BarChart { width: 40; height: 1; }"

        def compose(self):
            yield LineChart()
            yield BarChart()

    async def go() -> None:
        app = Tiny()
        async with app.run_test(size=(40, 10)) as pilot:
            line, bars = app.query_one(LineChart), app.query_one(BarChart)
            line.plot([(0, 50), (1, 70)], x_range=(0, 1), summary="50 → 70")
            bars.plot([1, 2, 3], summary="6 events")
            await pilot.pause()
            text = screen_text(app)
            assert "50 → 70" in text and "6 events" in text and not _has_braille(text)

    asyncio.run(go())
