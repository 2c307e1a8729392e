"""Tasks and renewals as iCalendar files: `cs tasks export --ical` and `cs
calendar DIR`, read back with the icalendar library; UIDs stay the same
from one export to the next."""

from __future__ import annotations

import datetime as dt

import icalendar
import sqlalchemy as sa

from cs_cli.db.models import CSTask, Customer
from cs_cli.domain import TaskStatus


def _tasks(engine, users):
    with engine.begin() as conn:
        ids = dict(conn.execute(sa.select(Customer.external_id, Customer.id)).all())
        rows = [
            # customer, assignee, title, due, status
            ("E-1", "ana", "Call the sponsor [urgent]", dt.date(2025, 1, 20), TaskStatus.PENDING),
            ("E-3", "ana", "QBR deck", dt.date(2025, 2, 3), TaskStatus.IN_PROGRESS),
            ("E-3", "ana", "Done already", dt.date(2025, 1, 10), TaskStatus.COMPLETED),
            ("E-3", "ana", "No date", None, TaskStatus.PENDING),
            ("W-1", "bo", "Bo's call", dt.date(2025, 1, 21), TaskStatus.PENDING),
        ]
        for customer, login, title, due, status in rows:
            conn.execute(
                sa.insert(CSTask).values(
                    customer_id=ids[customer],
                    assigned_to_user_id=users[login],
                    title=title,
                    due_date=due,
                    status=status,
                    created_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
                )
            )


def _events(path) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(path.read_bytes())
    return {str(e["uid"]): e for e in calendar.walk("VEVENT")}


def test_your_open_tasks_and_renewals_as_a_calendar(run_cli, book, engine, tmp_path):
    _tasks(engine, book)
    path = tmp_path / "ana.ics"
    result = run_cli("tasks", "export", "--ical", path, user="ana")
    assert result.exit_code == 0, result.stderr
    assert "wrote 2 tasks and 2 renewals" in result.stderr
    events = _events(path)
    tasks = sorted(e["summary"] for uid, e in events.items() if uid.startswith("task-"))
    # Open tasks with a due date only; ana's, not bo's.
    assert tasks == ["Call the sponsor [urgent] (Alpha Analytics)", "QBR deck (Gamma Goods)"]
    call = next(e for e in events.values() if str(e["summary"]).startswith("Call"))
    assert call.decoded("dtstart") == dt.date(2025, 1, 20)
    assert call.decoded("dtend") == dt.date(2025, 1, 21)
    assert "task" in str(call["description"]) and "cs tasks show" in str(call["description"])
    # Renewals of ana's active customers (E-2 churned).
    renewals = {
        str(e["summary"]): e.decoded("dtstart") for uid, e in events.items() if uid.startswith("renewal-")
    }
    assert renewals == {
        "Renewal: Alpha Analytics": dt.date(2025, 2, 1),
        "Renewal: Gamma Goods": dt.date(2025, 8, 1),
    }

    # A second export keeps every UID; a task done since leaves the file.
    with engine.begin() as conn:
        conn.execute(sa.update(CSTask).where(CSTask.title == "QBR deck").values(status=TaskStatus.COMPLETED))
    again = tmp_path / "ana-again.ics"
    assert run_cli("tasks", "export", "--ical", again, user="ana").exit_code == 0
    later = _events(again)
    assert set(later) == set(events) - {uid for uid, e in events.items() if "QBR" in str(e["summary"])}
    assert len(later) == 3


def test_a_feed_per_user_for_admins_only(run_cli, book, engine, tmp_path):
    _tasks(engine, book)
    folder = tmp_path / "feeds"
    folder.mkdir()
    refused = run_cli("calendar", folder, user="ana")
    assert refused.exit_code == 3
    assert "admins only" in refused.stderr
    assert list(folder.iterdir()) == []
    result = run_cli("calendar", folder, "--no-renewals")
    assert result.exit_code == 0, result.stderr
    assert {p.name for p in folder.iterdir()} == {"admin.ics", "ana.ics", "bo.ics", "mia.ics"}
    assert [str(e["summary"]) for e in _events(folder / "bo.ics").values()] == ["Bo's call (Delta Dynamics)"]
    assert _events(folder / "mia.ics") == {}


def test_bad_places_to_write(run_cli, book, tmp_path):
    missing = run_cli("tasks", "export", "--ical", tmp_path / "no" / "x.ics", user="ana")
    assert missing.exit_code == 2
    assert "no directory" in missing.stderr
    folder = run_cli("tasks", "export", "--ical", tmp_path, user="ana")
    assert folder.exit_code == 2
    assert "is a directory" in folder.stderr
    stdout = run_cli("tasks", "export", "--ical", "-", user="ana")
    assert stdout.exit_code == 0
    assert stdout.stdout.startswith("BEGIN:VCALENDAR")
