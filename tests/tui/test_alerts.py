"""The risk alerts screen driven with the pilot: acknowledge (a) and resolve
with a note (r) by key land in the database with their events, enter opens the customer,
the interval refresh picks up an alert raised meanwhile, an empty book and
a database that stops answering render without a traceback; a snapshot
over the fixed demo book."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from textual.widgets import TextArea

from cs_cli.db import migrate
from cs_cli.db.engine import make_engine, transaction
from cs_cli.db.models import Alert, Customer, DomainEvent, User
from cs_cli.domain import Actor, AlertSeverity, AlertStatus, Role
from cs_cli.services.demo import load_demo
from cs_cli.services.health.recalc import recalc_day, target_ids
from cs_cli.specs.scorecard import load_scorecard
from cs_cli.tui.app import BoardApp
from cs_cli.tui.data import Database
from cs_cli.tui.driving import notices, run, screen_text, until
from cs_cli.tui.screens.alert_modals import ResolveModal
from cs_cli.tui.screens.alerts import AlertsScreen
from cs_cli.tui.screens.customer import CustomerScreen

AS_OF = dt.date(2025, 1, 15)
NOON = dt.datetime(2025, 1, 15, 12, tzinfo=dt.UTC)


def raise_alert(engine, customer: str, title: str, severity: AlertSeverity, hours_ago: int) -> int:
    with transaction(engine) as session:
        alert = Alert(
            customer_id=session.scalar(sa.select(Customer.id).where(Customer.external_id == customer)),
            alert_type="health_drop",
            severity=severity,
            title=title,
            reason=f"{title}, in detail",
            raised_at=NOON - dt.timedelta(hours=hours_ago),
        )
        session.add(alert)
        session.flush()
        return alert.id


def alerts_screen(app) -> AlertsScreen:
    screen = app.screen
    assert isinstance(screen, AlertsScreen)
    return screen


def test_acknowledge_resolve_and_open_the_customer_by_key(engine, book):
    e1 = raise_alert(engine, "E-1", "Usage down 40%", AlertSeverity.WARNING, 5)
    m1 = raise_alert(engine, "M-1", "Renewal in 5 days and health at risk", AlertSeverity.CRITICAL, 2)
    raise_alert(engine, "W-1", "Champion left", AlertSeverity.CRITICAL, 1)  # West: not Mia's team
    db = Database(engine, "mia", as_of=AS_OF)
    db.connect()
    app = BoardApp(db)

    async def scenario(pilot) -> None:
        await pilot.press("3")
        await until(pilot, lambda: alerts_screen(app).loads == 1, "the feed")
        screen = alerts_screen(app)
        assert [r.id for r in screen.rows] == [m1, e1]  # newest first, the team's only
        text = screen_text(app)
        assert "2 unresolved: 1 critical · 1 warning" in text
        assert "Mia Media (M-1)" in text and "45 at risk" in text and "Champion left" not in text
        # home and end: the first and the last row.
        table = screen.query_one("#alerts-table")
        await pilot.press("end")
        assert table.cursor_row == 1
        await pilot.press("home")
        assert table.cursor_row == 0

        await pilot.press("a")  # the cursor is on the newest: M-1's
        await until(pilot, lambda: any("acknowledged" in r for r in _statuses(engine)), "the acknowledgement")
        await until(pilot, lambda: "ack mia" in screen_text(app), "the row to change")
        await pilot.press("down", "r")  # E-1's: resolve with a note of two lines
        await until(pilot, lambda: isinstance(app.screen, ResolveModal), "the note form")
        app.screen.query_one(TextArea).insert("Called Carla.\nUsage is back.")
        await pilot.press("ctrl+s")
        await until(
            pilot, lambda: [r.id for r in screen.rows] == [m1], "the resolved alert to leave the feed"
        )
        await pilot.press("h")  # resolved ones too
        await until(pilot, lambda: [r.id for r in screen.rows] == [m1, e1], "the history")
        assert "resolved" in screen_text(app)

        await pilot.press("up", "enter")
        await until(pilot, lambda: isinstance(app.screen, CustomerScreen), "Customer 360")
        assert app.screen.customer == "M-1"
        await pilot.press("escape")
        assert isinstance(app.screen, AlertsScreen)

    run(app, scenario)
    with transaction(engine) as session:
        mia = session.scalar(sa.select(User.id).where(User.login == "mia"))
        rows = {a.id: a for a in session.scalars(sa.select(Alert))}
        events = session.execute(
            sa.select(DomainEvent.event_type, DomainEvent.data).order_by(DomainEvent.id)
        ).all()
    assert (rows[m1].status, rows[m1].acknowledged_by_user_id, rows[m1].acknowledged_at) == (
        AlertStatus.ACKNOWLEDGED,
        mia,
        NOON,
    )
    assert (rows[e1].status, rows[e1].resolved_by_user_id, rows[e1].resolved_at) == (
        AlertStatus.RESOLVED,
        mia,
        NOON,
    )
    assert [(t, d["alert_id"]) for t, d in events] == [("alert.acknowledged", m1), ("alert.resolved", e1)]
    assert events[1][1]["note"] == "Called Carla.\nUsage is back."


def _statuses(engine) -> list[str]:
    with transaction(engine) as session:
        return [s.value for s in session.scalars(sa.select(Alert.status))]


def test_the_feed_picks_up_new_alerts_and_survives_a_database_that_stops_answering(
    engine, admin, monkeypatch
):
    monkeypatch.setattr(AlertsScreen, "refresh_seconds", 0.2)
    db = Database(engine, "admin", as_of=AS_OF)
    db.connect()
    app = BoardApp(db)

    async def scenario(pilot) -> None:
        await pilot.press("3")
        await until(pilot, lambda: alerts_screen(app).loads >= 1, "the feed")
        # An empty book: nothing to show, and says so.
        text = screen_text(app)
        assert "0 unresolved" in text and "No alerts here" in text

        with transaction(engine) as session:
            session.add(Customer(external_id="N-1", name="Nimbus Networks"))
        raise_alert(engine, "N-1", "Health dropped 18 points in 30 days", AlertSeverity.CRITICAL, 1)
        screen = alerts_screen(app)
        await until(pilot, lambda: len(screen.rows) == 1, "the next refresh")
        # Painted and announced a frame or two after the rows arrive.
        await until(pilot, lambda: "Health dropped 18 points in 30 days" in screen_text(app), "the new row")
        await until(
            pilot,
            lambda: "Nimbus Networks: Health dropped 18 points in 30 days" in notices(app),
            "the new-alert notice",
        )

        # The database stops answering: one line, the screen stays.
        dead = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
        app.db.engine = dead
        await until(pilot, lambda: any("database" in n for n in notices(app)), "the failure notice")
        assert isinstance(app.screen, AlertsScreen) and len(screen.rows) == 1
        assert not any("Traceback" in n for n in notices(app))
        app.db.engine = engine
        dead.dispose()

    run(app, scenario)


# -- snapshot over the fixed demo book (SQLite)


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory) -> str:
    as_of = dt.date(2025, 3, 14)
    path = tmp_path_factory.mktemp("alerts") / "demo.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with transaction(engine) as session:
        user = User(login="admin", name="Admin", email="admin@example.com", role=Role.ADMIN)
        session.add(user)
        session.flush()
        admin = Actor(name="admin", role=Role.ADMIN, user_id=user.id)
    with transaction(engine) as session:
        load_demo(session, admin, customers=30, months=6, seed=42, as_of=as_of)
    with transaction(engine) as session:
        recalc_day(
            session,
            admin,
            load_scorecard(),
            target_ids(session, admin),
            as_of=as_of,
            now=dt.datetime.combine(as_of, dt.time(12), dt.UTC),
        )
    engine.dispose()
    return f"sqlite:///{path}"


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_snapshot_of_risk_alerts(demo_url, snap_compare, size):
    engine = make_engine(demo_url)
    db = Database(engine, "admin", as_of=dt.date(2025, 3, 14))
    db.connect()
    app = BoardApp(db)

    async def loaded(pilot) -> None:
        await pilot.press("3")
        await until(pilot, lambda: isinstance(app.screen, AlertsScreen) and app.screen.loads >= 1, "the feed")
        await pilot.pause()

    try:
        assert snap_compare(app, terminal_size=size, run_before=loaded)
    finally:
        engine.dispose()
