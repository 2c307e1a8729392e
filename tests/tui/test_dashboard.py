"""The dashboard driven with the pilot: its counts are the database's,
the scope switch narrows them, enter opens a customer at risk, an empty
book renders; a snapshot over the fixed demo book."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from cs_cli.db import migrate
from cs_cli.db.engine import make_engine, transaction
from cs_cli.db.models import CSTask, Customer, HealthScore, User
from cs_cli.domain import Actor, HealthStatus, Role, TaskStatus
from cs_cli.services.demo import load_demo
from cs_cli.services.health.recalc import recalc_day, target_ids
from cs_cli.specs.scorecard import load_scorecard
from cs_cli.tui.app import BoardApp
from cs_cli.tui.data import Database
from cs_cli.tui.driving import notices, run, screen_text, until
from cs_cli.tui.screens.customer import CustomerScreen
from cs_cli.tui.screens.dashboard import DashboardScreen

AS_OF = dt.date(2025, 1, 15)
OPEN = (TaskStatus.PENDING, TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED)


def dashboard_of(app) -> DashboardScreen:
    screen = app.screen
    assert isinstance(screen, DashboardScreen)
    return screen


def test_the_counts_are_the_databases_and_enter_opens_a_customer(engine, book):
    with transaction(engine) as session:
        ids = dict(session.execute(sa.select(Customer.external_id, Customer.id)).all())
        users = dict(session.execute(sa.select(User.login, User.id)).all())
        for customer, login, days in (
            ("E-1", "ana", 0),
            ("E-3", "ana", -3),
            ("W-1", "bo", 2),
            ("M-1", "mia", 0),
        ):
            session.add(
                CSTask(
                    customer_id=ids[customer],
                    title=f"{customer} task",
                    assigned_to_user_id=users[login],
                    due_date=AS_OF + dt.timedelta(days=days),
                )
            )
    db = Database(engine, "admin", as_of=AS_OF)
    db.connect()
    app = BoardApp(db)

    async def scenario(pilot) -> None:
        await pilot.press("2")
        await until(pilot, lambda: dashboard_of(app).board is not None, "the dashboard")
        board = dashboard_of(app).board
        with transaction(engine) as session:
            by_status = dict(
                session.execute(
                    sa.select(HealthScore.health_status, sa.func.count()).group_by(HealthScore.health_status)
                ).all()
            )
            due = lambda *cond: session.scalar(  # noqa: E731
                sa.select(sa.func.count()).where(CSTask.status.in_(OPEN), *cond)
            )
            today = due(CSTask.due_date == AS_OF)
            week = due(CSTask.due_date.between(AS_OF, AS_OF + dt.timedelta(days=6)))
            overdue = due(CSTask.due_date < AS_OF)
            customers = session.scalar(sa.select(sa.func.count()).select_from(Customer))
        assert {c.status: c.customers for c in board.health} == {s: by_status.get(s, 0) for s in HealthStatus}
        assert (board.tasks_due_today, board.tasks_due_week, board.tasks_overdue) == (today, week, overdue)
        assert (today, week, overdue) == (2, 3, 1)
        text = screen_text(app)
        assert f"{customers} customers" in text
        assert (
            "today     2 tasks due" in text
            and "this week 3 tasks due" in text
            and "overdue   1 tasks" in text
        )
        assert "critical" in text and "Delta Dynamics (W-1)" in text and "Mia Media (M-1)" in text
        assert "churn rate" in text and "time to value n/a" in text

        # An admin's own book is empty: the scope switch says so.
        await pilot.press("s")
        await until(pilot, lambda: dashboard_of(app).board.scope == "mine", "the scope switch")
        assert dashboard_of(app).board.customers == 0 and "no customer at risk" in screen_text(app)
        await pilot.press("s", "s")
        await until(pilot, lambda: dashboard_of(app).board.scope == "all", "the whole book again")

        await pilot.press("enter")  # the first at risk: W-1, the lowest score
        await until(pilot, lambda: isinstance(app.screen, CustomerScreen), "Customer 360")
        assert app.screen.customer == "W-1"

    run(app, scenario)


def test_a_failed_load_is_tried_again_on_coming_back(engine, book):
    db = Database(engine, "admin", as_of=AS_OF)
    db.connect()
    app = BoardApp(db)

    async def scenario(pilot) -> None:
        # The database does not answer when the dashboard first looks.
        dead = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
        app.db.engine = dead
        await pilot.press("2")
        await until(pilot, lambda: any("database" in n for n in notices(app)), "the failure notice")
        assert dashboard_of(app).board is None and not dashboard_of(app).busy
        app.db.engine = engine
        dead.dispose()
        # Away and back: it looks again, and this time shows the book.
        await pilot.press("1")
        await pilot.press("2")
        await until(pilot, lambda: dashboard_of(app).board is not None, "the dashboard on return")
        assert "customers" in screen_text(app)

    run(app, scenario)


def test_an_empty_book_renders(engine, admin):
    db = Database(engine, "admin", as_of=AS_OF)
    db.connect()
    app = BoardApp(db)

    async def scenario(pilot) -> None:
        await pilot.press("2")
        await until(pilot, lambda: dashboard_of(app).board is not None, "the dashboard")
        text = screen_text(app)
        assert "0 customers" in text and "no customer at risk" in text and "no alerts" in text
        assert "NPS           n/a" in text
        await pilot.press("enter")  # nothing to open: stays
        assert isinstance(app.screen, DashboardScreen)
        assert not [n for n in app._notifications if n.severity == "error"]

    run(app, scenario)


# -- snapshot over the fixed demo book (SQLite)


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory) -> str:
    as_of = dt.date(2025, 3, 14)
    path = tmp_path_factory.mktemp("dashboard") / "demo.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with transaction(engine) as session:
        user = User(login="admin", name="Admin", email="admin@example.com", role=Role.ADMIN)
        session.add(user)
        session.flush()
        admin = Actor(name="admin", role=Role.ADMIN, user_id=user.id)
    with transaction(engine) as session:
        load_demo(session, admin, customers=30, months=6, seed=42, as_of=as_of)
    card = load_scorecard()
    with transaction(engine) as session:
        ids = target_ids(session, admin)
        for day in (as_of - dt.timedelta(days=30), as_of):
            recalc_day(
                session, admin, card, ids, as_of=day, now=dt.datetime.combine(day, dt.time(12), dt.UTC)
            )
    engine.dispose()
    return f"sqlite:///{path}"


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_snapshot_of_the_dashboard(demo_url, snap_compare, size):
    engine = make_engine(demo_url)
    db = Database(engine, "admin", as_of=dt.date(2025, 3, 14))
    db.connect()
    app = BoardApp(db)

    async def loaded(pilot) -> None:
        await pilot.press("2")
        await until(
            pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.board is not None, "it"
        )
        await pilot.pause()

    try:
        assert snap_compare(app, terminal_size=size, run_before=loaded)
    finally:
        engine.dispose()


def test_at_80x24_the_panels_stack_and_every_one_is_reachable(demo_url):
    """A small terminal stacks the panels in one column, the customers at
    risk first; ctrl+down scrolls the rest into view, each panel in turn."""
    engine = make_engine(demo_url)
    db = Database(engine, "admin", as_of=dt.date(2025, 3, 14))
    db.connect()
    app = BoardApp(db)

    async def scenario(pilot) -> None:
        await pilot.press("2")
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.board, "loaded")
        await pilot.pause()
        screen = dashboard_of(app)
        assert screen.has_class("-narrow")
        first = screen_text(app)
        assert "Top at-risk customers" in first and "Key metrics" not in first
        seen = {t for t in ("Health distribution", "Work", "Key metrics", "Recent alerts") if t in first}
        for _ in range(12):
            await pilot.press("ctrl+down")
            await pilot.pause()
            text = screen_text(app)
            seen |= {t for t in ("Health distribution", "Work", "Key metrics", "Recent alerts") if t in text}
        assert seen == {"Health distribution", "Work", "Key metrics", "Recent alerts"}

    try:
        run(app, scenario, size=(80, 24))
    finally:
        engine.dispose()
