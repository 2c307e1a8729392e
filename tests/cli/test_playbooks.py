"""`cs playbooks` as a user runs it: exit codes, messages, and what lands in
the database."""

from __future__ import annotations

import json
import shutil

import pytest
import sqlalchemy as sa

from cs_cli import paths
from cs_cli.db.models import CSTask, PlaybookRun

AS_OF = "2025-01-01"


def test_validate_the_shipped_playbooks(run_cli):
    result = run_cli("playbooks", "validate")
    assert result.exit_code == 0, result
    assert result.stdout == "ok: 7 playbooks\n"
    one = run_cli("playbooks", "validate", str(paths.playbooks_dir() / "risk_response.yaml"))
    assert one.stdout == "ok: 1 playbook\n"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_validate_prints_every_error_with_file_line_and_column(run_cli, tmp_path):
    folder = tmp_path / "playbooks"
    shutil.copytree(paths.playbooks_dir(), folder)
    risk = folder / "risk_response.yaml"
    risk.write_text(risk.read_text().replace("    due_days: 2\n", "    due_dayz: 2\n", 1))
    renewal = folder / "renewal_prep.yaml"
    renewal.write_text(renewal.read_text().replace("priority: high", "priority: urgent"))
    broken = folder / "broken.yml"
    broken.write_text("playbook: broken\nsteps: [\n")
    hostile = folder / "hostile.yaml"
    hostile.write_text(
        "steps:\n  - order: 1\n    name: Look\n    type: call\n    talk_track: |\n"
        "      Hello {{ customer.name }}\n      {{ ''.__class__.__mro__ }}\n"
    )
    greedy = folder / "greedy.yaml"
    greedy.write_text(
        "steps:\n  - order: 1\n    name: Look\n    type: call\n    description: |\n"
        "      Hello {{ customer.name }}\n      {{ 'x' * 10**10 }}\n"
    )
    twice = folder / "twice.yaml"
    twice.write_text("playbook: qbr_planning\nsteps:\n  - {order: 1, name: A, type: call}\n")

    result = run_cli("playbooks", "validate", str(folder))
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[:-1] == [
        f"{broken}:3:1: invalid YAML: expected the node content, but found '<stream end>'",
        f"{greedy}:7:7: steps.0.description: not allowed: this repeat would make 10,000,000,000 characters"
        " or items (at most 100,000)",
        f"{hostile}:7:7: steps.0.talk_track: not allowed: access to attribute '__class__' of 'str' object"
        " is unsafe.",
        f"{renewal}:8:1: priority: Input should be 'low', 'medium', 'high' or 'critical'",
        f"{risk}:24:5: steps.1.due_dayz: unknown key",
        f"{twice}:1:1: playbook 'qbr_planning' is also in {folder / 'qbr_planning.yaml'}",
    ]
    assert lines[-1] == f"error: 6 playbook files in {folder} with errors"
    # load refuses the same folder and writes nothing.
    assert run_cli("playbooks", "load", str(folder)).exit_code == 2
    assert json.loads(run_cli("playbooks", "list", "--format", "json").stdout) == []
    missing = run_cli("playbooks", "validate", str(tmp_path / "nope"))
    assert (missing.exit_code, missing.stderr) == (2, f"error: {tmp_path / 'nope'}: no such file or folder\n")


def test_load_list_show_trigger_runs_evaluate_cancel(run_cli, book, engine, tmp_path):
    # A dry run prints the plan and changes nothing; CSMs may not load.
    dry = run_cli("playbooks", "load", "--dry-run")
    assert dry.exit_code == 0, dry
    assert "+ added risk_response (Risk Response)\n" in dry.stdout
    assert "+  name: Weekly Check-in\n+  type: call\n" in dry.stdout
    assert dry.stderr.startswith("would load 7 playbooks from ") and dry.stderr.endswith(": 7 added\n")
    assert json.loads(run_cli("playbooks", "list", "--format", "json").stdout) == []
    denied = run_cli("playbooks", "load", user="ana")
    assert denied.exit_code == 3 and "loading playbooks needs the admin role" in denied.stderr

    loaded = run_cli("playbooks", "load")
    assert loaded.exit_code == 0 and loaded.stderr.endswith(": 7 added\n")
    again = run_cli("playbooks", "load")
    assert again.stdout == "" and again.stderr.endswith(": 7 unchanged\n")

    listed = json.loads(run_cli("playbooks", "list", "--format", "json").stdout)
    assert [p["key"] for p in listed][:2] == ["champion_change", "executive_escalation"]
    risk = next(p for p in listed if p["key"] == "risk_response")
    assert (risk["triggers"], risk["steps"], risk["estimated_hours"], risk["cooldown_days"]) == (
        "health below 50",
        6,
        8.0,
        30,
    )
    shown = run_cli("playbooks", "show", "risk_response")
    assert shown.exit_code == 0
    assert "Weekly Check-in" in shown.stdout and "weekly for 4 weeks" in shown.stdout
    assert "1. Current situation review" in shown.stdout and "health score up 15 points" in shown.stdout
    detail = json.loads(run_cli("playbooks", "show", "risk_response", "--format", "json").stdout)
    assert [s["name"] for s in detail["steps"]][-2:] == ["Weekly Check-in", "Health Review"]
    assert run_cli("playbooks", "show", "nope").exit_code == 4

    # Trigger by hand: a table of the tasks, a message; then refusals.
    started = run_cli("playbooks", "trigger", "risk_response", "E-1", "--as-of", AS_OF, "--format", "csv")
    assert started.exit_code == 0, started
    rows = started.stdout.splitlines()
    assert rows[0] == "id,title,task_type,due_date,assignee,assigned_to_role"
    assert rows[5].split(",")[1:] == [
        "Weekly Check-in (1 of 4)",
        "call",
        "2025-01-08",
        "ana@example.com",
        "csm",
    ]
    assert len(rows) == 10
    assert started.stderr.startswith("started run 1 of risk_response for E-1: 9 tasks")
    twice = run_cli("playbooks", "trigger", "risk_response", "E-1", "--as-of", AS_OF)
    assert twice.exit_code == 2
    assert twice.stderr == (
        "error: E-1 already has an active run of risk_response (run 1, started 2025-01-01)\n"
        "hint: cancel it first with `cs playbooks cancel 1`\n"
    )
    assert run_cli("playbooks", "trigger", "nope", "E-1").exit_code == 4
    assert run_cli("playbooks", "trigger", "risk_response", "NOPE").exit_code == 4
    # bo sees only the West customers.
    assert run_cli("playbooks", "trigger", "qbr_planning", "E-3", user="bo").exit_code == 4

    evaluated = run_cli("playbooks", "evaluate", "--as-of", AS_OF, "--dry-run")
    assert evaluated.exit_code == 0, evaluated
    assert evaluated.stderr.startswith(
        "evaluated as of 2025-01-01: would start 5 runs (renewal_prep 3, risk_response 2), "
        "would create 33 tasks in "
    )
    assert run_cli("playbooks", "evaluate", "--as-of", AS_OF).stderr.startswith(
        "evaluated as of 2025-01-01: started 5 runs (renewal_prep 3, risk_response 2), created 33 tasks in "
    )
    assert "started 0 runs" in run_cli("playbooks", "evaluate", "--as-of", AS_OF).stderr
    assert run_cli("playbooks", "evaluate", user="ana").exit_code == 3

    listing = json.loads(run_cli("playbooks", "runs", "risk_response", "--format", "json").stdout)
    assert {(r["customer"], r["triggered_by"], r["tasks_open"]) for r in listing} == {
        ("E-1", "manual", 9),
        ("M-1", "health", 9),
        ("W-1", "health", 9),
    }
    mine = json.loads(run_cli("playbooks", "runs", "--format", "json", user="bo").stdout)
    assert {r["customer"] for r in mine} == {"W-1"}
    table = run_cli("playbooks", "runs", "--customer", "M-1")
    assert "renewal_prep" in table.stdout and table.stderr == "2 runs\n"

    cancelled = run_cli("playbooks", "cancel", "1", "--reason", "paused")
    assert cancelled.exit_code == 0 and cancelled.stderr == "cancelled run 1 and its 9 open tasks\n"
    assert run_cli("playbooks", "cancel", "1").exit_code == 2
    assert run_cli("playbooks", "cancel", "999").exit_code == 4
    cooling = run_cli("playbooks", "trigger", "risk_response", "E-1")
    assert cooling.exit_code == 2 and "cooldown of 30 days" in cooling.stderr
    assert "--force starts it anyway" in cooling.stderr
    assert run_cli("playbooks", "trigger", "risk_response", "E-1", "--force").exit_code == 0
    ended = json.loads(run_cli("playbooks", "runs", "--status", "cancelled", "--format", "json").stdout)
    assert [r["id"] for r in ended] == [1]

    # Working the tasks through `cs tasks` completes the run; its playbook counts it.
    done = run_cli(
        "tasks", "complete", "--playbook", "risk_response", "-c", "E-1", "--outcome", "successful", "--yes"
    )
    assert done.exit_code == 0, done
    runs = json.loads(run_cli("playbooks", "runs", "-c", "E-1", "--format", "json").stdout)
    latest = next(r for r in runs if r["playbook"] == "risk_response" and r["id"] != 1)
    assert (latest["status"], latest["tasks_open"], latest["success"]) == ("completed", 0, None)
    risk = next(
        p
        for p in json.loads(run_cli("playbooks", "list", "--format", "json").stdout)
        if p["key"] == "risk_response"
    )
    assert (risk["times_triggered"], risk["times_completed"], risk["active_runs"]) == (4, 1, 2)


def test_missing_segment_and_hostile_template_change_nothing(run_cli, book, engine, tmp_path):
    folder = tmp_path / "playbooks"
    folder.mkdir()
    path = folder / "big.yaml"
    path.write_text(
        "name: Big accounts\ntriggers:\n  segment: Whales\n"
        "steps:\n  - order: 1\n    name: Call\n    type: call\n"
        "    talk_track: |\n      Hi {{ customer.name }}\n"
        "      {% if customer.seats > 1000 %}{{ customer.name.__class__.__mro__ }}{% endif %}\n"
    )
    result = run_cli("playbooks", "load", str(folder))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {path}:3:3: triggers.segment: there is no segment named 'Whales'\n"
        "hint: create it first with `cs segments create`, or fix the name (`cs segments list`)\n"
    )
    path.write_text(path.read_text().replace("triggers:\n  segment: Whales\n", ""))
    # The sample customer has 250 seats, so validation renders the harmless branch.
    assert run_cli("playbooks", "load", str(folder)).exit_code == 0
    assert run_cli("playbooks", "trigger", "big", "W-1").exit_code == 0  # 40 seats
    hostile = run_cli("playbooks", "trigger", "big", "W-2")  # 2000 seats
    assert hostile.exit_code == 2
    assert hostile.stderr == (
        "error: template big step 1 talk_track, line 2: not allowed: "
        "access to attribute '__class__' of 'str' object is unsafe.\n"
    )
    with engine.connect() as c:
        assert c.scalar(sa.select(sa.func.count()).select_from(PlaybookRun)) == 1
        assert c.scalar(sa.select(sa.func.count()).select_from(CSTask)) == 1
