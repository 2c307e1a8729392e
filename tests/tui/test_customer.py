"""Customer 360 driven with the pilot: a demo customer's health explained,
its contacts and timeline; a touchpoint logged through the form lands in
the database with its event; the timeline pages in; a customer with no data
and one out of reach; a snapshot over the fixed demo book."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from textual.widgets import Select

from cs_cli.db import migrate
from cs_cli.db.engine import make_engine, transaction
from cs_cli.db.models import AuditEntry, Customer, DomainEvent, Touchpoint, User
from cs_cli.domain import Actor, Role, Sentiment, TouchpointType
from cs_cli.services.demo import load_demo
from cs_cli.services.health.recalc import recalc_day, target_ids
from cs_cli.services.tasks.lifecycle import create_task
from cs_cli.specs.scorecard import load_scorecard
from cs_cli.tui.app import BoardApp
from cs_cli.tui.data import Database
from cs_cli.tui.driving import notices, run, screen_text, until
from cs_cli.tui.screens.customer import CustomerScreen

AS_OF = dt.date(2025, 3, 14)
NOON = dt.datetime(2025, 3, 14, 12, tzinfo=dt.UTC)


def demo_book(engine, admin: Actor, *, weeks: int = 4) -> str:
    """The 30-customer demo (seed 42), scored weekly up to AS_OF; returns
    the largest account at risk."""
    with transaction(engine) as session:
        summary = load_demo(session, admin, customers=30, months=6, seed=42, as_of=AS_OF)
    card = load_scorecard()
    with transaction(engine) as session:
        ids = target_ids(session, admin)
        for k in range(weeks, -1, -1):
            day = AS_OF - dt.timedelta(days=7 * k)
            recalc_day(
                session, admin, card, ids, as_of=day, now=dt.datetime.combine(day, dt.time(12), dt.UTC)
            )
    assert summary.largest_at_risk
    return summary.largest_at_risk


async def type_text(pilot, text: str) -> None:
    await pilot.press(*("space" if ch == " " else ch for ch in text))


def _open(engine, user: str, customer: str) -> BoardApp:
    """The board opened on a customer's 360, as `user` on the book's day."""
    db = Database(engine, user, as_of=AS_OF)
    db.connect()
    return BoardApp(db, customer=customer)


def loaded(app) -> bool:
    """Customer 360 on top, painted with its data and its footer."""
    screen = app.screen
    return isinstance(screen, CustomerScreen) and screen.footer_at is not None


def test_a_demo_customer_explained_and_a_touchpoint_logged_through_the_form(engine, admin):
    ref = demo_book(engine, admin)
    with transaction(engine) as session:
        customer = session.scalars(sa.select(Customer).where(Customer.external_id == ref)).one()
        name, customer_id = customer.name, customer.id
    app = _open(engine, "admin", ref)

    async def scenario(pilot) -> None:
        await until(pilot, lambda: loaded(app), "Customer 360")
        # The data is in; the compositor may paint it a frame later.
        await until(pilot, lambda: name in screen_text(app), "Customer 360 painted")
        screen = app.screen
        view = screen.view
        text = screen_text(app)
        assert name in text and ref in text
        assert str(view.health.overall_score) in text
        for component in ("adoption", "engagement", "relationship", "financial"):
            assert component in text
        # The last component is a scroll of the left column away, under the health chart.
        screen.query_one("#components-panel").scroll_visible(animate=False)
        await until(pilot, lambda: "support" in screen_text(app), "the last component")
        assert "feature breadth" in text and "active days" in text  # the measures behind them
        assert view.contacts[0].name in text
        assert "Why at risk" in text and view.risks[0].text[:30] in text
        assert "not predicted yet" in text  # no churn model has run
        assert f"of {view.touchpoints.total}, newest first" in text

        await pilot.press("l")
        await until(pilot, lambda: app.screen.__class__.__name__ == "LogTouchpointScreen", "the form")
        form = app.screen
        await type_text(pilot, "Renewal check-in")
        form.query_one("#tp-type", Select).value = TouchpointType.MEETING
        form.query_one("#tp-notes").focus()
        await type_text(pilot, "Agreed a success plan")
        form.query_one("#tp-minutes").focus()
        await type_text(pilot, "45")
        form.query_one("#tp-sentiment", Select).value = Sentiment.POSITIVE
        await pilot.press("ctrl+s")
        await until(pilot, lambda: any("Renewal check-in" in n for n in notices(app)), "the touchpoint")
        await until(
            pilot, lambda: loaded(app) and screen.touchpoints[0].subject == "Renewal check-in", "reload"
        )
        assert app.screen is screen
        await pilot.press("escape")
        assert app.screen.__class__.__name__ == "BoardScreen"

    run(app, scenario)
    with transaction(engine) as session:
        tp = session.scalars(sa.select(Touchpoint).where(Touchpoint.subject == "Renewal check-in")).one()
        admin_id = session.scalar(sa.select(User.id).where(User.login == "admin"))
        event = session.scalars(
            sa.select(DomainEvent).where(DomainEvent.event_type == "touchpoint.logged")
        ).one()
    assert (tp.customer_id, tp.touchpoint_type, tp.description, tp.duration_minutes) == (
        customer_id,
        TouchpointType.MEETING,
        "Agreed a success plan",
        45,
    )
    assert (tp.sentiment_label, tp.user_id, tp.occurred_at) == (Sentiment.POSITIVE, admin_id, NOON)
    assert event.customer_id == customer_id and event.data["touchpoint_id"] == tp.id


def test_the_form_refuses_an_empty_subject_and_escape_cancels(engine, book):
    app = _open(engine, "ana", "E-1")

    async def scenario(pilot) -> None:
        await until(pilot, lambda: loaded(app), "Customer 360")
        await pilot.press("l")
        await until(pilot, lambda: app.screen.__class__.__name__ == "LogTouchpointScreen", "the form")
        await pilot.press("ctrl+s")
        assert "needs a subject" in str(app.screen.query_one("#tp-error").render())
        await pilot.press("escape")
        assert isinstance(app.screen, CustomerScreen)

    run(app, scenario)
    with transaction(engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Touchpoint)) == 0
        # Opening the 360 is a read on the audit trail; its reloads are not.
        reads = session.execute(
            sa.select(AuditEntry.actor_name, AuditEntry.action).where(AuditEntry.action.startswith("read."))
        ).all()
        assert reads == [("ana", "read.customer_360")]


def test_on_an_80x24_terminal_the_panels_stack_health_and_risks_first(engine, book):
    """Too narrow for two columns: one column, health and why at risk at
    the top (not scrolled away to the focused timeline), full width."""
    app = _open(engine, "ana", "E-1")

    async def scenario(pilot) -> None:
        await until(pilot, lambda: loaded(app), "Customer 360")
        screen = app.screen
        assert screen.has_class("-narrow")
        health, risks, timeline = (
            screen.query_one(s).region for s in ("#health-panel", "#risks", "#timeline")
        )
        assert health.width >= 76 and risks.x == health.x and risks.y > health.y
        assert risks.bottom <= 23 and timeline.y > risks.y
        lines = screen_text(app).splitlines()
        assert any("Health" in line for line in lines[:6]) and any("Why at risk" in line for line in lines)

    run(app, scenario, size=(80, 24))


def test_the_stacked_panels_scroll_from_the_keyboard(engine, book):
    """80x24: the page has the focus, so page down brings the lower panels
    (open tasks last) into view and home goes back to the top; tab still
    reaches the tables. Side by side, the page itself takes no focus."""
    app = _open(engine, "ana", "E-1")

    async def scenario(pilot) -> None:
        await until(pilot, lambda: loaded(app), "Customer 360")
        screen = app.screen
        body = screen.query_one("#c360-body")
        await until(pilot, lambda: app.focused is body, "the page focused")
        assert body.scroll_y == 0
        tasks = screen.query_one("#tasks-panel")
        assert tasks.region.y >= 24 or tasks.region.height == 0  # below the fold
        await pilot.press("end")
        await until(pilot, lambda: body.scroll_y > 0 and 0 < tasks.region.bottom <= 24, "tasks in view")
        assert "Open tasks" in screen_text(app)
        await pilot.press("home")
        await until(pilot, lambda: body.scroll_y == 0, "back at the top")
        await pilot.press("tab")
        await pilot.pause()
        assert app.focused is not None and app.focused.id in ("components", "timeline", "tasks")

    run(app, scenario, size=(80, 24))

    wide = _open(engine, "ana", "E-1")

    async def side_by_side(pilot) -> None:
        await until(pilot, lambda: loaded(wide), "Customer 360")
        body = wide.screen.query_one("#c360-body")
        assert not body.can_focus and wide.focused is wide.screen.query_one("#timeline")

    run(wide, side_by_side)


def test_a_long_timeline_pages_in_and_a_customer_with_no_data_renders(engine, book):
    with transaction(engine) as session:
        e1 = session.scalar(sa.select(Customer.id).where(Customer.external_id == "E-1"))
        session.add_all(
            Touchpoint(
                customer_id=e1,
                touchpoint_type=TouchpointType.CALL,
                subject=f"call {i:03d}",
                occurred_at=NOON - dt.timedelta(hours=i + 1),
            )
            for i in range(120)
        )
    app = _open(engine, "admin", "E-1")

    async def scenario(pilot) -> None:
        await until(pilot, lambda: loaded(app), "Customer 360")
        screen = app.screen
        table = screen.query_one("#timeline")
        assert table.row_count == CustomerScreen.PAGE and screen.touchpoint_total == 120
        await pilot.press("m")
        await until(pilot, lambda: table.row_count == 2 * CustomerScreen.PAGE, "the second page")
        # Moving to the end of what is loaded brings in the rest.
        table.focus()
        await pilot.press("ctrl+end")
        await until(pilot, lambda: table.row_count == 120, "the last page")
        assert [t.subject for t in screen.touchpoints[:2]] == ["call 000", "call 001"]
        assert screen.touchpoints[-1].subject == "call 119"
        assert "120 of 120" in screen_text(app)

        # No score, contacts, touchpoints or tasks: every panel says so.
        app.open_customer("U-1")
        await until(pilot, lambda: loaded(app) and app.screen.customer == "U-1", "the empty customer")
        text = screen_text(app)
        assert "Orphan Org" in text and "No health score yet" in text
        assert "no score yet" in text and "none yet" in text and "journeys none" in text
        assert "no touchpoint yet" in text
        assert not [n for n in app._notifications if n.severity == "error"]

    run(app, scenario)


def test_a_touchpoint_logged_elsewhere_shows_without_a_key_and_the_cursor_stays(engine, book):
    with transaction(engine) as session:
        e1 = session.scalar(sa.select(Customer.id).where(Customer.external_id == "E-1"))
        session.add_all(
            Touchpoint(
                customer_id=e1,
                touchpoint_type=TouchpointType.CALL,
                subject=f"call {i}",
                occurred_at=NOON - dt.timedelta(days=i + 1),
            )
            for i in range(3)
        )
    db = Database(engine, "admin", as_of=AS_OF)
    db.connect()
    app = BoardApp(db, customer="E-1", poll=0.1)

    async def scenario(pilot) -> None:
        await until(pilot, lambda: loaded(app), "Customer 360")
        screen = app.screen
        timeline = screen.query_one("#timeline")
        timeline.focus()
        await pilot.press("down")  # on "call 1"
        assert screen.touchpoints[timeline.cursor_row].subject == "call 1"
        risks = screen.query_one("#risks")
        drawn = risks.render()

        # Another connection logs a touchpoint: it shows with no key pressed.
        with transaction(engine) as session:
            session.add(
                Touchpoint(
                    customer_id=e1,
                    touchpoint_type=TouchpointType.MEETING,
                    subject="Logged elsewhere",
                    occurred_at=NOON,
                )
            )
        await until(
            pilot, lambda: "Logged elsewhere" in [t.subject for t in screen.touchpoints], "the live reload"
        )
        await until(pilot, lambda: "Logged elsewhere" in screen_text(app), "the new row painted")
        # The cursor stayed on its touchpoint, a row further down now.
        assert screen.touchpoints[timeline.cursor_row].subject == "call 1"
        # Why at risk did not change: it was not drawn again.
        assert risks.render() is drawn

        # Nothing changes: the stamp stays, no reload.
        view = screen.view
        await pilot.pause(0.5)
        assert screen.view is view

    run(app, scenario)


def test_journeys_runs_and_alert_assignments_made_elsewhere_show_without_a_key(engine, book):
    """The journeys and playbooks panel and the why list follow changes made
    elsewhere with no key pressed: an enrollment and its next step (the
    journey tick), a playbook run (a rule, the automation run) and an alert
    assigned from the alerts screen of another board."""
    from cs_cli.db.models import Alert, Journey, JourneyEnrollment, JourneyStep, Playbook, PlaybookRun
    from cs_cli.domain import AlertSeverity, JourneyStepType, JourneyType, PlaybookCategory
    from cs_cli.services.access import resolve_actor
    from cs_cli.services.alert_actions import assign_alert

    with transaction(engine) as session:
        e1 = session.scalar(sa.select(Customer.id).where(Customer.external_id == "E-1"))
        alert = Alert(
            customer_id=e1,
            alert_type="escalation",
            severity=AlertSeverity.WARNING,
            title="Escalated tickets",
            raised_at=NOON,
        )
        journey = Journey(key="onboarding", name="Onboarding", journey_type=JourneyType.ONBOARDING)
        playbook = Playbook(key="risk", name="Risk Response", category=PlaybookCategory.CHURN_RISK)
        session.add_all([alert, journey, playbook])
        session.flush()
        steps = [
            JourneyStep(journey_id=journey.id, key=k, step_order=i, name=n, step_type=JourneyStepType.TASK)
            for i, (k, n) in enumerate((("kickoff", "Kickoff call"), ("training", "Admin training")), 1)
        ]
        session.add_all(steps)
        session.flush()
        alert_id, journey_id, playbook_id = alert.id, journey.id, playbook.id
        kickoff, training = steps[0].id, steps[1].id
    db = Database(engine, "admin", as_of=AS_OF)
    db.connect()
    app = BoardApp(db, customer="E-1", poll=0.1)

    async def shows(pilot, text: str) -> None:
        await until(pilot, lambda: text in screen_text(app), text)

    async def scenario(pilot) -> None:
        await until(pilot, lambda: loaded(app), "Customer 360")
        await shows(pilot, "alert: Escalated tickets")
        assert "Onboarding" not in screen_text(app)

        with transaction(engine) as session:
            session.add(
                JourneyEnrollment(
                    journey_id=journey_id, customer_id=e1, current_step_id=kickoff, enrolled_at=NOON
                )
            )
        await shows(pilot, "step 1 of 2: Kickoff call")
        with transaction(engine) as session:
            session.execute(sa.update(JourneyEnrollment).values(current_step_id=training))
        await shows(pilot, "step 2 of 2: Admin training")

        with transaction(engine) as session:
            session.add(PlaybookRun(playbook_id=playbook_id, customer_id=e1, started_at=NOON))
        await shows(pilot, "Risk Response")

        with transaction(engine) as session:
            assign_alert(session, resolve_actor(session, "admin"), alert_id, to="ana", now=NOON)
        await shows(pilot, "alert: Escalated tickets → ana")

    run(app, scenario, (160, 48))


def test_a_customer_out_of_reach_says_so_and_goes_back(engine, book):
    app = _open(engine, "ana", "W-1")  # Bo's customer

    async def scenario(pilot) -> None:
        await until(pilot, lambda: any("W-1" in n for n in notices(app)), "the refusal")
        await until(pilot, lambda: not isinstance(app.screen, CustomerScreen), "going back")
        assert app.screen.__class__.__name__ == "BoardScreen"
        assert any("no customer 'W-1' that you can see" in n for n in notices(app))

    run(app, scenario)


# -- snapshot over the fixed demo book (SQLite)


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("c360") / "demo.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with transaction(engine) as session:
        user = User(login="admin", name="Admin", email="admin@example.com", role=Role.ADMIN)
        session.add(user)
        session.flush()
        admin = Actor(name="admin", role=Role.ADMIN, user_id=user.id)
    demo_book(engine, admin, weeks=12)
    engine.dispose()
    return f"sqlite:///{path}"


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_snapshot_of_customer_360(demo_url, snap_compare, size):
    engine = make_engine(demo_url)
    app = _open(engine, "admin", "C-00015")

    async def loaded_view(pilot) -> None:
        await until(pilot, lambda: loaded(app), "Customer 360")
        await pilot.pause()

    try:
        assert snap_compare(app, terminal_size=size, run_before=loaded_view)
    finally:
        engine.dispose()


def test_data_in_brackets_shows_as_it_is(engine, book):
    hostile = "[urgent] ask [b]x[/b]"
    with transaction(engine) as session:
        e1 = session.scalar(sa.select(Customer.id).where(Customer.external_id == "E-1"))
        session.add(
            Touchpoint(customer_id=e1, touchpoint_type=TouchpointType.CALL, subject=hostile, occurred_at=NOON)
        )
        create_task(session, Actor("root", Role.ADMIN), "E-1", title=hostile, today=AS_OF, now=NOON)
    app = _open(engine, "admin", "E-1")

    async def scenario(pilot) -> None:
        await until(pilot, lambda: loaded(app), "Customer 360")
        await until(pilot, lambda: screen_text(app).count(hostile) == 2, "the task and the touchpoint")

    run(app, scenario)


def test_subjects_and_titles_take_the_width_the_terminal_gives(engine, book):
    """No fixed cut: on a wide terminal a long subject and a long task title
    read whole; on a narrow one they are cut to fit, the other columns kept."""
    subject = "Quarterly business review with the whole procurement committee"
    title = "Send the signed renewal order form back to procurement today"
    with transaction(engine) as session:
        e1 = session.scalar(sa.select(Customer.id).where(Customer.external_id == "E-1"))
        session.add(
            Touchpoint(customer_id=e1, touchpoint_type=TouchpointType.QBR, subject=subject, occurred_at=NOON)
        )
        create_task(session, Actor("root", Role.ADMIN), "E-1", title=title, today=AS_OF, now=NOON)

    for size, whole in (((160, 48), True), ((80, 24), False)):
        app = _open(engine, "admin", "E-1")

        async def scenario(pilot, whole=whole, app=app) -> None:
            await until(pilot, lambda: loaded(app), "Customer 360")
            await pilot.pause()
            timeline = app.screen.query_one("#timeline")
            assert timeline.size.width <= app.size.width
            text = screen_text(app) if whole else ""
            if whole:
                assert subject in text and title in text
            else:
                # Stacked: the table fits the screen, the sentiment column kept.
                widths = sum(c.get_render_width(timeline) for c in timeline.columns.values())
                assert widths <= timeline.size.width
                assert "sentiment" in [str(c.label) for c in timeline.columns.values()]

        run(app, scenario, size=size)
