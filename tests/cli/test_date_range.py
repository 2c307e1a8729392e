"""Dates outside 1900-01-01..2200-12-31 are refused wherever a date is read:
rules (given inline or in a file), and the command-line options --as-of,
--from, --to, --at, --due. Near year 1 or 9999 they used to overflow deep
in a command (OverflowError) or be stored as year 10000."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cs_cli.db.models import CSTask, HealthScore, Segment, Touchpoint

RANGE = "is outside the dates cs accepts (1900-01-01 to 2200-12-31)"


def first_line(result, exit_code: int = 2) -> str:
    assert result.exit_code == exit_code, result
    assert result.stdout == ""
    return result.stderr.splitlines()[0].removeprefix("error: ")


def count(engine, model) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


@pytest.mark.parametrize(
    ("rules", "reason"),
    [
        ('{"churned_at": {"lte": "9999-12-31"}}', f"churned_at.lte: '9999-12-31' {RANGE}"),
        (
            '{"churned_at": {"gt": "9999-12-31T23:30:00-05:00"}}',
            f"churned_at.gt: '9999-12-31T23:30:00-05:00' {RANGE}",
        ),
        ('{"renewal_date": {"lt": "0001-01-01"}}', f"renewal_date.lt: '0001-01-01' {RANGE}"),
        (
            '{"renewal_date": {"between": ["2025-01-01", "2201-01-01"]}}',
            f"renewal_date.between[1]: '2201-01-01' {RANGE}",
        ),
    ],
)
def test_rule_dates_out_of_range_are_refused(run_cli, engine, book, rules, reason):
    result = run_cli("segments", "create", "Far", "--rules", rules)
    assert first_line(result) == f"--rules: {reason}"
    assert count(engine, Segment) == 0


def test_a_rule_date_out_of_range_in_a_file_names_its_line(run_cli, engine, book, tmp_path):
    rules = tmp_path / "rules.json"
    rules.write_text('{\n  "all": [\n    {"churned_at": {"lte": "9999-12-31"}}\n  ]\n}\n')
    assert first_line(run_cli("segments", "create", "Far", "--rules-file", rules)) == (
        f"{rules}:3:21: all[0].churned_at.lte: '9999-12-31' {RANGE}"
    )
    assert count(engine, Segment) == 0


@pytest.mark.parametrize(
    ("args", "option", "value"),
    [
        (("recalc", "--as-of", "9999-12-31"), "--as-of", "9999-12-31"),
        (("recalc", "--from", "1899-12-30", "--to", "1899-12-31"), "--from", "1899-12-30"),
        (("health", "history", "E-1", "--to", "9999-12-31"), "--to", "9999-12-31"),
        (("outbox", "deliver", "--as-of", "9999-12-31T23:30-05:00"), "--as-of", "9999-12-31T23:30-05:00"),
        (("run", "health-refresh", "--as-of", "0001-01-01"), "--as-of", "0001-01-01"),
    ],
)
def test_command_line_dates_out_of_range_name_the_option(run_cli, engine, book, args, option, value):
    assert first_line(run_cli(*args)) == f"Invalid value for '{option}': '{value}' {RANGE}"
    assert count(engine, HealthScore) == 3  # the book's own


def test_a_touchpoint_or_task_date_out_of_range_is_refused(run_cli, engine, book):
    logged = run_cli(
        "touchpoints", "log", "E-1", "--type", "call", "--subject", "far", "--at", "9999-12-31T23:30-05:00"
    )
    assert first_line(logged) == f"Invalid value for '--at': '9999-12-31T23:30-05:00' {RANGE}"
    assert count(engine, Touchpoint) == 0
    for due in ("9999-12-31", "+9999w"):
        created = run_cli("tasks", "create", "E-1", "--title", "far", "--due", due)
        assert first_line(created).startswith(f"--due: '{due}' {RANGE}")
    assert count(engine, CSTask) == 0
