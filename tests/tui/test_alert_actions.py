"""Acting on an alert from the risk alerts screen, driven with the pilot: a
task made from it (n), a playbook started for its customer (p), an
assignment (o); each checked in the database (the task, the run and its
tasks, the alert's assignee, acknowledgement, events and audit entries),
and a refusal said in one line."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from textual.widgets import Input, OptionList

from cs_cli import paths
from cs_cli.db.engine import transaction
from cs_cli.db.models import Alert, AuditEntry, CSTask, Customer, DomainEvent, PlaybookRun, User
from cs_cli.domain import AlertSeverity, AlertStatus, Priority, TaskType
from cs_cli.services.access import resolve_actor
from cs_cli.services.playbooks import catalog
from cs_cli.tui.app import BoardApp
from cs_cli.tui.data import Database
from cs_cli.tui.driving import notices, run, screen_text, until
from cs_cli.tui.screens.alert_modals import PlaybookModal
from cs_cli.tui.screens.alerts import AlertsScreen
from cs_cli.tui.screens.task_modals import AssignModal, NewTaskModal

AS_OF = dt.date(2025, 1, 15)
NOON = dt.datetime(2025, 1, 15, 12, tzinfo=dt.UTC)


@pytest.fixture
def alerts(engine, book) -> dict[str, int]:
    """The shipped playbooks, and two alerts of Mia's team: M-1's (critical,
    Mia's own account, the newest) and E-1's (warning, Ana's)."""
    with transaction(engine) as s:
        admin = resolve_actor(s, "admin")
        catalog.sync(s, admin, catalog.read(paths.playbooks_dir()), full=True, now=NOON)
        # A name with Rich markup in it: the assign form shows it as typed.
        s.execute(sa.update(User).where(User.login == "ana").values(name="Ana [b]Bold[/b]"))
        ids = dict(s.execute(sa.select(Customer.external_id, Customer.id)).all())
        made = {}
        for ext, title, severity, hours in (
            ("E-1", "Usage down 40%", AlertSeverity.WARNING, 5),
            ("M-1", "Renewal in 5 days and health at risk", AlertSeverity.CRITICAL, 2),
        ):
            alert = Alert(
                customer_id=ids[ext],
                alert_type="health_drop",
                severity=severity,
                title=title,
                reason=f"{title}, in detail",
                raised_at=NOON - dt.timedelta(hours=hours),
            )
            s.add(alert)
            s.flush()
            made[ext] = alert.id
        return made


def pick(app, option_id: str) -> None:
    options = app.screen.query_one(OptionList)
    options.highlighted = next(
        i for i in range(options.option_count) if options.get_option_at_index(i).id == option_id
    )


def test_a_task_a_playbook_and_an_assignment_from_alerts(engine, alerts):
    db = Database(engine, "mia", as_of=AS_OF)
    db.connect()
    app = BoardApp(db)

    async def scenario(pilot) -> None:
        await pilot.press("3")
        await until(pilot, lambda: isinstance(app.screen, AlertsScreen) and app.screen.loads == 1, "the feed")

        # n: a task from M-1's alert, its title and priority offered, due in two days.
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, NewTaskModal), "the task form")
        assert (
            app.screen.query_one("#title", Input).value == "Follow up: Renewal in 5 days and health at risk"
        )
        assert "A task from the alert on Mia Media (M-1)" in screen_text(app)
        app.screen.query_one("#due", Input).value = "+2d"
        app.screen.query_one("#due", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: any("created task" in n for n in notices(app)), "the task")

        # p: a playbook for M-1.
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, PlaybookModal), "the playbook pick")
        pick(app, "renewal_prep")
        await pilot.press("enter")
        await until(pilot, lambda: any("started renewal_prep" in n for n in notices(app)), "the run")
        # Again: refused, as `cs playbooks trigger` refuses it, in one line.
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, PlaybookModal), "the playbook pick")
        pick(app, "renewal_prep")
        await pilot.press("enter")
        await until(pilot, lambda: any("already has an active run" in n for n in notices(app)), "the refusal")

        # o: E-1's alert to Ana, the account's CSM.
        await pilot.press("down", "o")
        await until(pilot, lambda: isinstance(app.screen, AssignModal), "the assign form")
        assert "Ana [b]Bold[/b] <ana@example.com> (csm)" in screen_text(app)
        pick(app, "ana@example.com")
        await pilot.press("enter")
        await until(pilot, lambda: "→ ana" in screen_text(app), "the assignee in the feed")
        assert "assigned to ana@example.com" in screen_text(app)

    run(app, scenario, size=(120, 40))
    with transaction(engine) as s:
        users = dict(s.execute(sa.select(User.login, User.id)).all())
        m1 = s.scalar(sa.select(Customer.id).where(Customer.external_id == "M-1"))
        task = s.scalars(
            sa.select(CSTask).where(CSTask.customer_id == m1, CSTask.playbook_run_id.is_(None))
        ).one()
        assert (task.title, task.task_type, task.priority, task.due_date) == (
            "Follow up: Renewal in 5 days and health at risk",
            TaskType.FOLLOW_UP,
            Priority.CRITICAL,
            AS_OF + dt.timedelta(days=2),
        )
        assert task.description.startswith(f"From alert {alerts['M-1']}: Renewal in 5 days")
        assert task.assigned_to_user_id == users["mia"]
        run_row = s.scalars(sa.select(PlaybookRun).where(PlaybookRun.customer_id == m1)).one()
        assert run_row.trigger_reason == f"alert {alerts['M-1']}: Renewal in 5 days and health at risk"
        assert s.scalar(sa.select(sa.func.count()).where(CSTask.playbook_run_id == run_row.id)) > 0
        rows = {a.id: a for a in s.scalars(sa.select(Alert))}
        assert rows[alerts["M-1"]].status == AlertStatus.ACKNOWLEDGED
        assert rows[alerts["E-1"]].assigned_to_user_id == users["ana"]
        assert rows[alerts["E-1"]].status == AlertStatus.OPEN
        events = [
            t
            for (t,) in s.execute(
                sa.select(DomainEvent.event_type).where(DomainEvent.event_type.like("alert.%"))
            )
        ]
        assert sorted(events) == ["alert.acknowledged", "alert.assigned"]
        audited = {
            a for (a,) in s.execute(sa.select(AuditEntry.action).where(AuditEntry.entity_type == "alert"))
        }
        assert {"alert.task", "alert.playbook", "alert.assign", "alert.acknowledge"} <= audited
