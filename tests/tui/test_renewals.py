"""The renewals screen and the dashboard's renewal panel, driven with the
pilot: the windows count what `cs analytics renewals` counts, each user sees
only their scope, enter opens a customer, names are shown as typed."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import Customer, HealthScoreHistory
from cs_cli.domain import Priority, TaskOutcome, TaskType
from cs_cli.services.access import resolve_actor
from cs_cli.services.metrics.filters import Filters
from cs_cli.services.metrics.standing import renewal_pipeline, renewals
from cs_cli.services.tasks import lifecycle
from cs_cli.services.tasks.bulk import Target
from cs_cli.tui.app import BoardApp
from cs_cli.tui.data import Database
from cs_cli.tui.driving import run, screen_text, until
from cs_cli.tui.screens.customer import CustomerScreen
from cs_cli.tui.screens.dashboard import DashboardScreen
from cs_cli.tui.screens.renewals import RenewalsScreen

DAY = dt.date(2025, 1, 10)
NOW = dt.datetime(2025, 1, 10, 12, tzinfo=dt.UTC)
# W-1's name carries Rich markup: it must show as typed.
TRICKY = "Delta [bold]Dynamics[/bold]"


@pytest.fixture
def pipeline_book(engine, book) -> None:
    """The small book scored on DAY (E-1 healthy, M-1 at risk, W-1 critical;
    churn predicted for E-1 and M-1), an open renewal task for M-1, a
    completed one for E-1 and an open task of another kind for W-1."""
    with transaction(engine) as s:
        ids = dict(s.execute(sa.select(Customer.external_id, Customer.id)).all())
        s.execute(sa.update(Customer).where(Customer.id == ids["W-1"]).values(name=TRICKY))
        for ext, score, status, p in (
            ("E-1", 82, "healthy", 0.1),
            ("M-1", 45, "at_risk", 0.4),
            ("W-1", 30, "critical", None),
        ):
            s.add(
                HealthScoreHistory(
                    customer_id=ids[ext],
                    as_of=DAY,
                    overall_score=score,
                    health_status=status,
                    churn_probability=p,
                )
            )
        admin = resolve_actor(s, "admin")
        made = {}
        for ext, title in (("M-1", "Renewal call with Mia"), ("E-1", "Renewal deck"), ("W-1", "Check usage")):
            made[ext] = lifecycle.create_task(
                s,
                admin,
                ext,
                title=title,
                task_type=TaskType.CALL,
                priority=Priority.HIGH,
                due_date=DAY,
                today=DAY,
                now=NOW,
            ).row.id
        lifecycle.complete(
            s, admin, Target(ids=(made["E-1"],)), outcome=TaskOutcome.SUCCESSFUL, today=DAY, now=NOW
        )


def renewals_of(app) -> RenewalsScreen:
    screen = app.screen
    assert isinstance(screen, RenewalsScreen)
    return screen


def _app(engine, user: str) -> BoardApp:
    db = Database(engine, user, as_of=DAY)
    db.connect()
    return BoardApp(db)


def test_the_windows_count_what_analytics_renewals_counts(engine, pipeline_book):
    with transaction(engine) as s:
        admin = resolve_actor(s, "admin")
        pipeline = renewal_pipeline(s, admin, Filters(), as_of=DAY)
        # Two months from 10 Jan: up to the end of February, as the 180 days hold.
        months = renewals(s, admin, Filters(), as_of=DAY, months=2)
    widest = pipeline.windows[-1]
    assert [w.days for w in pipeline.windows] == [30, 60, 90, 180]
    assert (widest.customers, widest.arr) == (sum(m.customers for m in months), sum(m.arr for m in months))
    assert widest.at_risk_arr == sum(m.at_risk_arr + m.critical_arr for m in months) == 125_000
    # E-1 (22 days), M-1 (10), W-1 (15); E-3 renews in 203 days, E-2 churned.
    assert [c.external_id for c in pipeline.customers] == ["M-1", "W-1", "E-1"]
    assert widest.churn_probability == pytest.approx(0.25)
    # M-1's open renewal call; E-1's is done and W-1's task is not a renewal one.
    assert widest.renewal_tasks == 1
    assert [c.renewal_tasks for c in pipeline.customers] == [1, 0, 0]


def test_the_screen_lists_the_pipeline_and_opens_a_customer(engine, pipeline_book):
    app = _app(engine, "admin")

    async def scenario(pilot) -> None:
        await pilot.press("2")
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.board, "dashboard")
        text = screen_text(app)
        assert "Renewals (r)" in text
        assert "30 days      3   $245K   $125K at risk" in text

        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RenewalsScreen) and app.screen.pipeline, "renewals")
        text = screen_text(app)
        assert "3 renew within 180 days · ARR $245K" in text
        assert "▸ 180 days         3    $245K    $125K      25%      1" in text
        assert "M-1 Mia Media" in text and "10d · 20 Jan" in text and "45 at risk" in text
        assert "W-1 Delta [bold]Dynamics[/bold]" in text and "Bo@Example.com" in text
        assert "E-1 Alpha Analytics" in text and "Gamma Goods" not in text

        await pilot.press("w")  # 30 days: the same three
        assert renewals_of(app).window == 30 and "3 renewing within 30 days" in screen_text(app)
        await pilot.press("enter")  # the soonest: M-1
        await until(pilot, lambda: isinstance(app.screen, CustomerScreen), "Customer 360")
        assert app.screen.customer == "M-1"

    run(app, scenario, size=(160, 48))


def test_a_csm_sees_only_their_renewals(engine, pipeline_book):
    app = _app(engine, "ana")

    async def scenario(pilot) -> None:
        await pilot.press("4")
        await until(pilot, lambda: isinstance(app.screen, RenewalsScreen) and app.screen.pipeline, "renewals")
        assert [c.external_id for c in renewals_of(app).pipeline.customers] == ["E-1"]
        text = screen_text(app)
        assert "E-1 Alpha Analytics" in text and "Mia Media" not in text and "Delta" not in text
        assert "1 renewing within 180 days" in text and "q Quit" in text
        await pilot.press("s")  # a CSM has one scope
        assert app.scope == "mine"
        await pilot.press("question_mark")
        await until(pilot, lambda: "Window" in screen_text(app), "the help")
        text = screen_text(app)
        assert "Renewals: keys" in text and "Open customer" in text and "Scope" not in text

    run(app, scenario, size=(80, 24))


def test_snapshot_of_renewals_at_80x24(engine, pipeline_book, snap_compare):
    app = _app(engine, "mia")

    async def loaded(pilot) -> None:
        await pilot.press("4")
        await until(pilot, lambda: isinstance(app.screen, RenewalsScreen) and app.screen.pipeline, "renewals")

    assert snap_compare(app, terminal_size=(80, 24), run_before=loaded)
