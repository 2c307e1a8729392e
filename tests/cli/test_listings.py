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


# --- readable at 80 columns -------------------------------------------------------------------------------

WIDTHS = ("80", "160")


@pytest.mark.parametrize("width", WIDTHS)
def test_listings_fit_the_terminal_most_important_columns_first(run_cli, demo, width, snapshot):
    views = {
        "customers": ("customers", "list", "-n", "8", "--as-of", AS_OF),
        "health": ("health", "list", "-n", "8", "--sort", "name"),
        "tasks my": ("--user", "lena.silva@demo.example", "tasks", "my", "-n", "8", "--as-of", AS_OF),
    }
    for name, args in views.items():
        result = run_cli(*args, env={"COLUMNS": width})
        assert result.exit_code == 0, result
        lines = result.stdout.splitlines()
        assert max(len(line) for line in lines) <= int(width), (name, lines[0])
        header = lines[0]
        for column in {
            "customers": ("name", "health"),
            "health": ("score", "status"),
            "tasks my": ("title",),
        }[name]:
            assert column in header, (name, header)
        if width == "80":
            assert "left out at 80 columns:" in result.stderr, name
            assert "(--columns picks, or widen)" in result.stderr, name
        assert result.stdout == snapshot(name=name)
    # Statuses in words and amounts grouped in the table; json keeps the values.
    rows, _ = _json(run_cli, "customers", "list", "--as-of", AS_OF, "--all")
    at_risk = next(r for r in rows if r["health_status"] == "at_risk" and float(r["arr"]) >= 10_000)
    table = run_cli(
        "customers", "list", "--columns", "external_id,arr,health_status", "--as-of", AS_OF, "--all"
    )
    line = next(line for line in table.stdout.splitlines() if line.startswith(at_risk["external_id"]))
    arr = float(at_risk["arr"])
    amount = f"{arr:,.0f}" if arr.is_integer() else f"{arr:,.2f}"
    assert line.split("│")[1:] == [f" {amount} ".ljust(len(line.split("│")[1])), line.split("│")[2]]
    assert line.split("│")[2].strip() == "at risk"


def test_columns_picks_the_columns_in_every_format(run_cli, demo):
    rows, _ = _json(run_cli, "customers", "list", "--columns", "external_id,arr", "-n", "2")
    assert [set(r) for r in rows] == [{"external_id", "arr"}] * 2
    result = run_cli("customers", "list", "--columns", "arr,external_id", "--format", "csv", "-n", "1")
    assert result.stdout.splitlines()[0] == "arr,external_id"
    bad = run_cli("customers", "list", "--columns", "name,revenue")
    assert bad.exit_code == 2
    assert bad.stderr.startswith(
        "error: --columns: no column 'revenue' (choose from: external_id, name, arr,"
    )
