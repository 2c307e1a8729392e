"""Every listing gives scripts every row: json and csv are not paged, a
table is (50 a page), and whatever --limit or --offset leaves out is said
on stderr."""

from __future__ import annotations

import csv
import io
import json

import pytest

AS_OF = "2026-06-30"

# Listings the demo book fills past one page of 50.
LONG = [
    ("customers", "list"),
    ("tasks", "list"),
    ("touchpoints", "list"),
    ("health", "list"),
]


@pytest.fixture
def demo(run_cli):
    result = run_cli("demo", "--customers", "120", "--months", "4", "--as-of", AS_OF)
    assert result.exit_code == 0, result


def _json(run_cli, *args: str) -> tuple[list, str]:
    result = run_cli(*args, "--format", "json")
    assert result.exit_code == 0, result
    return json.loads(result.stdout), result.stderr


def test_json_and_csv_give_every_row_and_a_table_pages(run_cli, demo):
    for command in LONG:
        everything, _ = _json(run_cli, *command, "--all")
        assert len(everything) > 50, command

        rows, note = _json(run_cli, *command)
        assert rows == everything, command
        assert note == "", command

        result = run_cli(*command, "--format", "csv")
        assert result.exit_code == 0, result
        assert len(list(csv.DictReader(io.StringIO(result.stdout)))) == len(everything), command

        table = run_cli(*command)
        assert table.exit_code == 0, table
        assert f"1-50 of {len(everything):,} " in table.stderr, (command, table.stderr)
        assert "next page: --offset 50 (or --all)" in table.stderr


def test_a_limit_in_a_machine_format_is_said_on_stderr(run_cli, demo):
    everything, _ = _json(run_cli, "customers", "list")
    rows, note = _json(run_cli, "customers", "list", "--limit", "5", "--offset", "10")
    assert rows == everything[10:15]
    assert note == f"rows 11-15 of {len(everything)} customers (--limit/--offset left the rest out)\n"

    last, note = _json(run_cli, "customers", "list", "--offset", str(len(everything) - 3))
    assert last == everything[-3:]
    assert "left the rest out" in note


def test_latest_first_listings_without_a_count_say_there_are_more(run_cli, demo):
    everything, _ = _json(run_cli, "touchpoints", "timeline", "C-00001")
    rows, note = _json(run_cli, "touchpoints", "timeline", "C-00001", "-n", "2")
    assert rows == everything[:2]
    assert note == f"rows 1-2 of {len(everything)} touchpoints (--limit left the rest out)\n"

    events, _ = _json(run_cli, "events", "list")
    assert events, "the demo book has events"
    cut, note = _json(run_cli, "events", "list", "-n", "3")
    assert cut == events[:3]
    assert note == "rows 1-3 of more than 3 events (--limit left the rest out)\n"
    table = run_cli("events", "list", "-n", "3")
    assert table.stderr == "1-3 of more than 3 events; more: --limit N or --all\n"
    whole, note = _json(run_cli, "events", "list", "-n", str(len(events)))
    assert whole == events and note == ""


# --- data is never read as markup ---------------------------------------------------------------------

HOSTILE = "[urgent] Renew [bold]now[/bold] [/] \\[x]"


def test_data_in_brackets_shows_as_it_is(run_cli, book):
    created = run_cli(
        "tasks", "create", "E-1", "--title", HOSTILE, "--due", "2025-01-20", "--as-of", "2025-01-15"
    )
    assert created.exit_code == 0, created
    assert HOSTILE in created.stderr
    task_id = created.stderr.split()[2]

    listed = run_cli("tasks", "list", "--as-of", "2025-01-15")
    assert listed.exit_code == 0, listed
    assert HOSTILE in listed.stdout

    shown = run_cli("tasks", "show", task_id, "--as-of", "2025-01-15")
    assert shown.exit_code == 0, shown
    assert HOSTILE in shown.stdout

    logged = run_cli("touchpoints", "log", "E-1", "--type", "call", "--subject", HOSTILE)
    assert logged.exit_code == 0, logged
    assert HOSTILE in run_cli("touchpoints", "list").stdout
    assert HOSTILE in run_cli("touchpoints", "show", "1").stdout
    assert [r["subject"] for r in json.loads(run_cli("touchpoints", "list", "--format", "json").stdout)] == [
        HOSTILE
    ]
