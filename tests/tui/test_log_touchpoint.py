"""Logging a touchpoint from Customer 360 with the pilot: a day gone by, two
attendees of the customer's people, notes of several lines and a follow-up
task land in the database (the touchpoint, its attendees, the task, their
events); a day to come is refused with the form still open; the form fits
80x24."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from textual.widgets import Input, TextArea

from cs_cli.db.engine import transaction
from cs_cli.db.models import Contact, CSTask, Customer, DomainEvent, Touchpoint, TouchpointAttendee, User
from cs_cli.domain import TaskType, TouchpointType
from cs_cli.tui.app import BoardApp
from cs_cli.tui.data import Database
from cs_cli.tui.driving import notices, run, screen_text, until
from cs_cli.tui.screens.customer import CustomerScreen
from cs_cli.tui.widgets.customer.log_touchpoint import AttendeePicker, LogTouchpointScreen

DAY = dt.date(2025, 1, 15)
NOON = dt.datetime(2025, 1, 15, 12, tzinfo=dt.UTC)


def _open(engine, user: str, customer: str) -> BoardApp:
    db = Database(engine, user, as_of=DAY)
    db.connect()
    return BoardApp(db, customer=customer)


def test_a_touchpoint_with_its_day_attendees_notes_and_follow_up(engine, book):
    app = _open(engine, "ana", "E-1")

    async def scenario(pilot) -> None:
        await until(pilot, lambda: isinstance(app.screen, CustomerScreen) and app.screen.view, "Customer 360")
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, LogTouchpointScreen), "the form")
        form = app.screen
        text = screen_text(app)
        assert "[ ] Carla Champion · Ops lead" in text and "[ ] Ed Sponsor · CTO" in text
        assert "Follow-up task" in text and "Log it" in text  # the whole form at 80x24
        form.query_one("#tp-subject", Input).value = "Success plan workshop"
        form.query_one("#tp-day", Input).value = "+2d"
        await pilot.press("ctrl+s")  # a day to come: refused, the form stays
        assert "today or a day gone by" in str(form.query_one("#tp-error").render())
        assert app.screen is form

        form.query_one("#tp-day", Input).value = "yesterday"
        form.query_one("#tp-notes", TextArea).insert("Agreed the plan.\nCarla owns the rollout.")
        picker = form.query_one("#tp-attendees", AttendeePicker)
        picker.focus()
        await pilot.press("space", "down", "space")  # both
        assert "[x] Carla Champion" in screen_text(app)
        form.query_one("#tp-follow-up", Input).value = "Send the success plan"
        form.query_one("#tp-follow-up-due", Input).value = "+3d"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: any("follow-up task" in n for n in notices(app)), "the touchpoint")
        assert isinstance(app.screen, CustomerScreen)

    run(app, scenario, size=(80, 24))
    with transaction(engine) as s:
        e1 = s.scalar(sa.select(Customer.id).where(Customer.external_id == "E-1"))
        ana = s.scalar(sa.select(User.id).where(User.login == "ana"))
        contacts = dict(s.execute(sa.select(Contact.name, Contact.id).where(Contact.customer_id == e1)).all())
        tp = s.scalars(sa.select(Touchpoint)).one()
        assert (tp.customer_id, tp.touchpoint_type, tp.subject, tp.description) == (
            e1,
            TouchpointType.CALL,
            "Success plan workshop",
            "Agreed the plan.\nCarla owns the rollout.",
        )
        assert tp.occurred_at == dt.datetime(2025, 1, 14, 12, tzinfo=dt.UTC) and tp.user_id == ana
        attendees = set(
            s.scalars(
                sa.select(TouchpointAttendee.contact_id).where(TouchpointAttendee.touchpoint_id == tp.id)
            )
        )
        assert attendees == {contacts["Carla Champion"], contacts["Ed Sponsor"]}
        assert tp.contact_id == contacts["Carla Champion"]  # the first listed: the champion
        task = s.scalars(sa.select(CSTask)).one()
        assert (task.customer_id, task.title, task.task_type, task.due_date, task.assigned_to_user_id) == (
            e1,
            "Send the success plan",
            TaskType.FOLLOW_UP,
            DAY + dt.timedelta(days=3),
            ana,
        )
        assert task.description == f"Follow-up to touchpoint {tp.id} (2025-01-14): Success plan workshop"
        events = dict(s.execute(sa.select(DomainEvent.event_type, DomainEvent.data)).all())
        assert sorted(events["touchpoint.logged"]["attendees"]) == sorted(attendees)
        assert events["task.created"]["task_id"] == task.id
