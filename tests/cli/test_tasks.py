"""`cs tasks` as a user runs it: exit codes, messages, rows, json and csv,
bulk changes with --yes, and hostile input."""

from __future__ import annotations

import csv
import io
import json

import pytest
import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import CSTask, DomainEvent, Touchpoint

AS_OF = ("--as-of", "2025-01-15")


def _create(run_cli, customer: str, title: str, *extra: str, user: str = "admin") -> int:
    result = run_cli(
        "tasks", "create", customer, "--title", title, *extra, *AS_OF, "--format", "json", user=user
    )
    assert result.exit_code == 0, result
    return json.loads(result.stdout)["id"]


def test_create_list_show_and_work_a_task(run_cli, book, engine):
    created = run_cli(
        "tasks",
        "create",
        "E-1",
        "--title",
        "Renewal call with Carla",
        "--type",
        "call",
        "--priority",
        "high",
        "--due",
        "+3d",
        *AS_OF,
    )
    assert created.exit_code == 0, created
    assert created.stdout == ""
    assert created.stderr == (
        "created task 1 for E-1: Renewal call with Carla (assigned to ana@example.com, due 2025-01-18)\n"
    )
    other = _create(run_cli, "E-3", "QBR prep", "--due", "2025-01-16", "--type", "meeting", user="ana")

    listed = run_cli("tasks", "list", *AS_OF, user="ana")
    assert listed.exit_code == 0, listed
    assert listed.stderr == "2 tasks\n"
    lines = listed.stdout.splitlines()
    assert "QBR prep" in lines[2] and "Renewal call with Carla" in lines[3]  # soonest due first
    rows = json.loads(run_cli("tasks", "list", "--format", "json", *AS_OF).stdout)
    assert [(r["id"], r["status"], r["due_date"], r["assignee"]) for r in rows] == [
        (other, "pending", "2025-01-16", "ana@example.com"),
        (1, "pending", "2025-01-18", "ana@example.com"),
    ]
    table = list(csv.DictReader(io.StringIO(run_cli("tasks", "list", "--format", "csv", *AS_OF).stdout)))
    assert [r["title"] for r in table] == ["QBR prep", "Renewal call with Carla"]
    assert table[0]["overdue"] == "false" and table[0]["customer"] == "E-3"

    assert run_cli("tasks", "start", "1", *AS_OF).stderr == "started task 1\n"
    done = run_cli(
        "tasks", "complete", "1", "--outcome", "successful", "--notes", "Renewing", "--minutes", "30", *AS_OF
    )
    assert done.exit_code == 0, done
    assert done.stderr == "completed task 1 (successful); logged 1 touchpoint\n"
    shown = json.loads(run_cli("tasks", "show", "1", "--format", "json").stdout)
    assert shown["status"] == "completed" and shown["outcome"] == "successful"
    assert shown["outcome_notes"] == "Renewing" and shown["time_spent_minutes"] == 30
    assert len(shown["touchpoint_ids"]) == 1
    card = run_cli("tasks", "show", "1")
    assert card.exit_code == 0 and "successful: Renewing" in card.stdout and "30 min" in card.stdout

    assert run_cli("tasks", "block", str(other), "--reason", "waiting on legal", *AS_OF).stderr == (
        f"blocked task {other}: waiting on legal\n"
    )
    assert run_cli("tasks", "unblock", str(other), *AS_OF).stderr == f"unblocked task {other}\n"
    assert run_cli("tasks", "assign", str(other), "--to", "mia", *AS_OF, user="ana").stderr == (
        f"assigned task {other} to mia\n"
    )
    assert run_cli("tasks", "reschedule", str(other), "--to", "2025-02-01", *AS_OF).stderr == (
        f"rescheduled task {other} to 2025-02-01\n"
    )
    assert run_cli(
        "tasks", "update", str(other), "--priority", "critical", "--title", "QBR deck", *AS_OF
    ).stderr == (f"updated task {other}\n")
    assert run_cli("tasks", "snooze", str(other), "--until", "+1w", *AS_OF).stderr == (
        f"snoozed task {other} until 2025-01-22\n"
    )
    assert run_cli("tasks", "list", *AS_OF).stderr == "0 tasks\n"
    assert "QBR deck" in run_cli("tasks", "list", "--include-snoozed", *AS_OF).stdout
    assert "QBR deck" in run_cli("tasks", "list", "--as-of", "2025-01-22").stdout
    assert (
        run_cli("tasks", "cancel", str(other), "--reason", "deal lost", *AS_OF).stderr
        == f"cancelled task {other}\n"
    )

    with transaction(engine) as s:
        task = s.get(CSTask, other)
        assert (task.status, task.priority, task.title, task.outcome_notes) == (
            "cancelled",
            "critical",
            "QBR deck",
            "deal lost",
        )
        kinds = list(s.scalars(sa.select(DomainEvent.event_type).order_by(DomainEvent.id)))
        # update --priority --title is audited but no event; update --due would be task.rescheduled.
        assert kinds == [
            "task.created",
            "task.created",
            "task.started",
            "touchpoint.logged",
            "task.completed",
            "task.blocked",
            "task.unblocked",
            "task.assigned",
            "task.rescheduled",
            "task.snoozed",
            "task.cancelled",
        ]
        assert s.scalar(sa.select(Touchpoint.touchpoint_type)) == "call"


def test_show_says_the_history_as_the_board_does(run_cli, book):
    """`cs tasks show` lists who changed what, oldest first, in the words of
    the board's task detail (the same service), in the table and in JSON."""
    task = _create(run_cli, "E-1", "Renewal call", "--type", "call", "--due", "2025-01-18")
    assert run_cli("tasks", "reschedule", str(task), "--to", "2025-01-20", *AS_OF).exit_code == 0
    assert run_cli("tasks", "block", str(task), "--reason", "waiting on legal", *AS_OF).exit_code == 0

    shown = json.loads(run_cli("tasks", "show", str(task), "--format", "json").stdout)
    assert [(h["action"], h["words"]) for h in shown["history"]] == [
        ("task.create", "created: call, medium, due 2025-01-18, for Ana"),
        ("task.reschedule", "rescheduled from 2025-01-18 to 2025-01-20"),
        ("task.block", "blocked: waiting on legal"),
    ]
    assert {h["actor"] for h in shown["history"]} == {"admin"}
    card = run_cli("tasks", "show", str(task), env={"COLUMNS": "80"})
    assert card.exit_code == 0, card
    lines = [line for line in card.stdout.splitlines() if "admin" in line]
    assert "history" in lines[0] and "created: call, medium" in lines[0]
    assert "rescheduled from 2025-01-18 to 2025-01-20" in lines[1]
    assert "blocked: waiting on legal" in lines[2]
    assert all(len(line) <= 80 for line in card.stdout.splitlines())


def test_my_marks_overdue_tasks_first(run_cli, book):
    late = _create(run_cli, "E-1", "Late follow-up", "--due", "2025-01-15")
    _create(run_cli, "E-3", "Later", "--due", "2025-01-30")
    _create(run_cli, "W-1", "Not Ana's", "--due", "2025-01-15")
    mine = run_cli("tasks", "my", "--as-of", "2025-01-20", user="ana")
    assert mine.exit_code == 0, mine
    first = mine.stdout.splitlines()[2]
    assert first.startswith(str(late)) and "2025-01-15 (overdue)" in first
    assert "Not Ana's" not in mine.stdout and "assignee" not in mine.stdout
    assert mine.stderr == "2 tasks (1 overdue on this page)\n"
    rows = json.loads(run_cli("tasks", "my", "--as-of", "2025-01-20", "--format", "json", user="ana").stdout)
    assert [r["overdue"] for r in rows] == [True, False]
    overdue = run_cli("tasks", "list", "--due", "overdue", "--as-of", "2025-01-20", "--format", "json")
    assert {r["title"] for r in json.loads(overdue.stdout)} == {"Late follow-up", "Not Ana's"}
    paged = run_cli("tasks", "list", "-n", "1", *AS_OF)
    assert paged.stderr == "1-1 of 3 tasks; next page: --offset 1 (or --all)\n"


def test_bulk_changes_ask_first_and_act_on_the_filter(run_cli, book, engine):
    for title in ("One", "Two", "Three"):
        _create(run_cli, "E-3", title, "--type", "email")
    blocked = _create(run_cli, "E-3", "Stuck")
    run_cli("tasks", "block", str(blocked), "--reason", "no budget", *AS_OF)
    spared = _create(run_cli, "E-1", "Other customer")

    refused = run_cli("tasks", "complete", "--customer", "E-3", "--outcome", "no_response", *AS_OF)
    assert refused.exit_code == 2
    assert refused.stderr.splitlines()[0] == (
        "error: this would complete 3 tasks (1 skipped: 1 blocked);"
        " pass --yes to confirm when not at a terminal"
    )
    with transaction(engine) as s:
        assert s.scalar(sa.select(sa.func.count()).where(CSTask.status == "completed")) == 0

    done = run_cli(
        "tasks",
        "complete",
        "--customer",
        "E-3",
        "--outcome",
        "no_response",
        "--yes",
        "--format",
        "json",
        *AS_OF,
    )
    assert done.exit_code == 0, done
    assert (
        done.stderr == "completed 3 tasks (no_response); logged 3 touchpoints;"
        " skipped 1 that cannot be completed (1 blocked)\n"
    )
    assert sorted(r["title"] for r in json.loads(done.stdout)) == ["One", "Three", "Two"]
    again = run_cli("tasks", "complete", "--customer", "E-3", "--outcome", "successful", "--yes", *AS_OF)
    assert again.exit_code == 0 and again.stderr == (
        "none of the matching tasks can be completed; skipped 1 that cannot be completed (1 blocked)\n"
    )
    none = run_cli("tasks", "cancel", "--customer", "W-2", "--yes", *AS_OF)
    assert none.exit_code == 0 and none.stderr == "no tasks match the filter\n"
    moved = run_cli("tasks", "assign", "--assignee", "ana", "--to", "mia", "--yes", *AS_OF)
    assert moved.stderr == "assigned 2 tasks to mia\n"
    with transaction(engine) as s:
        assert s.get(CSTask, spared).status == "pending"
        assert s.scalar(sa.select(sa.func.count()).select_from(Touchpoint)) == 3
        assert {
            t.assigned_to_user_id
            for t in s.scalars(sa.select(CSTask).where(CSTask.id.in_([blocked, spared])))
        } == {book["mia"]}


def test_hostile_and_mistaken_input(run_cli, book, engine):
    task = _create(run_cli, "E-1", "Call")
    run_cli("tasks", "cancel", str(task), *AS_OF)
    _create(run_cli, "E-1", "Open one")
    done = _create(run_cli, "E-1", "Done one")
    assert run_cli("tasks", "complete", str(done), "--outcome", "successful", *AS_OF).exit_code == 0

    def fails(code: int, first_line: str, *args: str, user: str = "admin") -> None:
        result = run_cli(*args, user=user)
        assert result.exit_code == code, result
        assert result.stderr.splitlines()[0] == first_line, result.stderr
        assert result.stdout == ""

    fails(4, "error: task 424242 not found", "tasks", "show", "424242")
    fails(4, "error: task 424242 not found", "tasks", "start", "424242")
    fails(4, f"error: task {task} not found", "tasks", "show", str(task), user="bo")
    fails(
        2,
        f"error: cannot complete task {task}: cancelled -> completed is not allowed (cancelled is final)",
        "tasks",
        "complete",
        str(task),
        "--outcome",
        "successful",
    )
    again = run_cli("tasks", "complete", str(done), "--outcome", "successful", *AS_OF)
    assert (again.exit_code, again.stdout, again.stderr) == (
        2,
        "",
        f"error: task {done} is already completed\n",
    )
    fails(
        2,
        "error: completing a task needs --outcome (successful, unsuccessful, rescheduled, no_response)",
        "tasks",
        "complete",
        str(task),
    )
    bad_outcome = run_cli("tasks", "complete", str(task), "--outcome", "great")
    assert bad_outcome.exit_code == 2 and "Invalid value for '--outcome'" in bad_outcome.stderr
    fails(
        2,
        "error: --due: 'next tuesday' is not a date (use YYYY-MM-DD, +3d, +2w, today or tomorrow)",
        "tasks",
        "create",
        "E-1",
        "--title",
        "x",
        "--due",
        "next tuesday",
    )
    fails(
        2,
        "error: --to: '2025-13-01' is not a date (use YYYY-MM-DD, +3d, +2w, today or tomorrow)",
        "tasks",
        "reschedule",
        "1",
        "--to",
        "2025-13-01",
    )
    fails(
        2,
        "error: the due date 2025-01-01 is in the past (today is 2025-01-15)",
        "tasks",
        "create",
        "E-1",
        "--title",
        "x",
        "--due",
        "2025-01-01",
        *AS_OF,
    )
    fails(4, "error: no customer 'NOPE'", "tasks", "create", "NOPE", "--title", "x")
    fails(2, "error: a task needs a title (--title)", "tasks", "create", "E-1", "--title", "   ")
    fails(
        2,
        "error: name task IDs, or filter options for a bulk change (e.g. --customer C-001 or --mine)",
        "tasks",
        "cancel",
        "--yes",
    )
    fails(
        2,
        "error: name task IDs or give filter options, not both",
        "tasks",
        "cancel",
        str(task),
        "--customer",
        "E-1",
    )
    fails(
        2,
        "error: unknown status 'done' (choose from: pending, in_progress, completed, cancelled, blocked,"
        " open, closed, all)",
        "tasks",
        "list",
        "--status",
        "done",
    )
    fails(
        2,
        "error: cannot sort by 'size' (choose from: due, priority, customer, created)",
        "tasks",
        "list",
        "--sort",
        "size",
    )
    fails(
        3,
        "error: you can assign tasks to yourself, your team or the customer's CSM",
        "tasks",
        "assign",
        "--mine",
        "--to",
        "bo",
        "--yes",
        user="ana",
    )
    not_a_number = run_cli("tasks", "show", "1; DROP TABLE cs_tasks")
    assert not_a_number.exit_code == 2
    # Hostile text is stored as data.
    title = "Robert'); DROP TABLE cs_tasks;--"
    hostile = _create(run_cli, "E-1", title)
    assert json.loads(run_cli("tasks", "show", str(hostile), "--format", "json").stdout)["title"] == title
    with transaction(engine) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(CSTask)) == 4
        assert s.scalar(sa.select(sa.func.count()).where(CSTask.status == "cancelled")) == 1


def test_every_tasks_and_touchpoints_command_is_documented():
    from pathlib import Path

    import typer

    from cs_cli.cli.app import app

    docs = (Path(__file__).parent.parent.parent / "docs" / "tasks.md").read_text()
    root = typer.main.get_command(app)
    for group in ("tasks", "touchpoints"):
        for name in root.commands[group].commands:
            assert f"cs {group} {name}" in docs, f"docs/tasks.md does not show `cs {group} {name}`"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_garbage_collection_is_back_on_once_a_command_opens_its_database(run_cli):
    """`main()` turns collection off for start-up; opening the database turns it on."""
    import gc

    from cs_cli.cli import _runtime

    gc.disable()
    _runtime.collect_garbage_later()
    try:
        assert not gc.isenabled()
        result = run_cli("tasks", "list")
        assert result.exit_code == 0, result
        assert gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()


def test_a_completed_call_is_read_like_a_touchpoint_logged_by_hand(run_cli, book, engine, tmp_path):
    """The touchpoint a completed call becomes gets its sentiment and key
    topics at once, with the text_lexicon of the settings."""
    calm = _create(run_cli, "E-1", "Quarterly check-in", "--type", "call")
    angry = _create(run_cli, "E-3", "Outage follow-up", "--type", "call")
    notes = "Furious about the outage; the CFO threatens to cancel the contract."
    completed = run_cli("tasks", "complete", str(angry), "--outcome", "successful", "--notes", notes)
    assert completed.exit_code == 0, completed.stderr
    lexicon = tmp_path / "lexicon.yaml"
    lexicon.write_text("words:\n  check-in: -3.5\n", encoding="utf-8")
    done = run_cli(
        "tasks", "complete", str(calm), "--outcome", "successful", env={"CS_TEXT_LEXICON": str(lexicon)}
    )
    assert done.exit_code == 0, done.stderr
    with transaction(engine) as s:
        read = {
            t.task_id: (t.sentiment_label, t.sentiment_source, t.key_topics)
            for t in s.scalars(sa.select(Touchpoint))
        }
        logged = s.scalars(
            sa.select(DomainEvent.data).where(DomainEvent.event_type == "touchpoint.logged")
        ).all()
    label, source, topics = read[angry]
    assert (str(label), str(source)) == ("negative", "cs") and "outage" in " ".join(topics)
    # Your lexicon, not only the shipped one: a check-in reads as bad news here.
    assert str(read[calm][0]) == "negative"
    assert sorted(e["sentiment"] for e in logged) == ["negative", "negative"]
