"""Hostile YAML and JSON through the real commands: alias bombs, deep
nesting, keys given twice, control characters. Each is one line on stderr
naming file:line:column (or the option), exit code 2, and nothing written."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from cs_cli import paths
from cs_cli.db.models import Customer, DomainEvent, HealthScore, Segment
from cs_cli.specs.documents import MAX_VALUES
from cs_cli.specs.scorecard import DEFAULT_PATH

# Each level lists the one above ten times: 10^8 conditions in 1.2 KB.
_LEVELS = "".join(f"  - &a{i} {{any: [{', '.join([f'*a{i - 1}'] * 10)}]}}\n" for i in range(1, 9))
BOMB_RULES = "any:\n  - &a0 {plan: Enterprise}\n" + _LEVELS
TOO_MANY = f"the document holds more than {MAX_VALUES:,} values (an alias counts all it stands for)"
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def one_error(result, exit_code: int = 2) -> str:
    """The single line a failing command prints."""
    assert result.exit_code == exit_code, result
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0].removeprefix("error: ")


def count(engine, model) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def test_an_alias_bomb_in_a_rules_file_is_refused_at_once(run_cli, engine, book, tmp_path):
    rules = tmp_path / "bomb.yaml"
    rules.write_text(BOMB_RULES)
    started = time.monotonic()
    result = run_cli("segments", "create", "Bomb", "--rules-file", rules)
    assert time.monotonic() - started < 10
    # Said where the count passes the bound: the list of level 5.
    assert one_error(result) == f"{rules}:7:15: {TOO_MANY}"
    assert count(engine, Segment) == 0


def test_an_alias_bomb_given_as_rules_text_is_refused(run_cli, engine, book):
    flow = "{any: [&a0 {plan: x}, " + ", ".join(
        f"&a{i} {{any: [{', '.join([f'*a{i - 1}'] * 10)}]}}" for i in range(1, 9)
    )
    result = run_cli("segments", "preview", "--rules", "x: " + flow + "]}")
    assert one_error(result).startswith("--rules:1:")
    assert TOO_MANY in result.stderr


def test_deep_json_rules_are_a_clear_error(run_cli, engine, book):
    result = run_cli("segments", "preview", "--rules", '{"not": ' * 5000 + "{}" + "}" * 5000)
    assert one_error(result) == "--rules: nested deeper than 64 levels"


@SQLITE_ONLY
def test_an_alias_bomb_in_a_journey_does_not_hang_validate(run_cli, tmp_path):
    journey = tmp_path / "bomb.yaml"
    shipped = (paths.journeys_dir() / "adoption.yaml").read_text()
    journey.write_text(
        shipped.replace(
            "  rules:\n    status: active\n    adoption_score: {lt: 40}\n",
            "  rules:\n" + BOMB_RULES.replace("any:\n", "    any:\n").replace("\n  - ", "\n      - "),
            1,
        )
    )
    started = time.monotonic()
    result = run_cli("journeys", "validate", journey)
    assert time.monotonic() - started < 10
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == f"{journey}:20:19: {TOO_MANY}"


@SQLITE_ONLY
def test_a_control_character_in_a_playbook_names_its_line_and_column(run_cli, tmp_path):
    playbook = tmp_path / "ctl.yaml"
    playbook.write_text("steps:\n  - order: 1\n    name: Lo\x01ok\n    type: call\n")
    result = run_cli("playbooks", "validate", playbook)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        f"{playbook}:3:13: invalid YAML: control character U+0001 is not allowed"
    )


def test_a_scorecard_with_weights_twice_is_refused_naming_both_lines(run_cli, engine, book, tmp_path):
    shipped = DEFAULT_PATH.read_text()
    card = tmp_path / "card.yaml"
    card.write_text(shipped + "\nweights: {adoption: 100, engagement: 0, relationship: 0, financial: 0}\n")
    lines = shipped.splitlines()
    first = 1 + next(i for i, line in enumerate(lines) if line.startswith("weights:"))
    result = run_cli("recalc", "--scorecard", card, "--as-of", "2025-01-10")
    second = len(lines) + 2
    assert one_error(result) == f"{card}:{second}:1: key 'weights' given twice (first on line {first})"
    assert count(engine, HealthScore) == 3  # the book's own, nothing new


def test_a_map_file_with_a_key_twice_is_refused_before_reading(run_cli, engine, admin, tmp_path):
    data = tmp_path / "accounts.csv"
    data.write_text("id,name\nC1,Acme\n")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns:\n  id: external_id\n  id: name\n")
    result = run_cli("import", "customers", data, "--map", mapping)
    assert one_error(result) == f"{mapping}:3:3: key 'id' given twice (first on line 2)"
    assert count(engine, Customer) == 0


def test_event_data_nested_too_deep_or_not_finite_is_refused(run_cli, engine, book):
    deep = run_cli("events", "emit", "invoice.paid", "-c", "W-1", "--data", "[" * 5000 + "]" * 5000)
    assert one_error(deep) == "--data: nested deeper than 64 levels"
    inf = run_cli("events", "emit", "invoice.paid", "-c", "W-1", "--data", '{"days": 1e999}')
    assert one_error(inf) == "--data: days: inf is not a finite number"
    assert count(engine, DomainEvent) == 0


@SQLITE_ONLY
def test_a_config_file_nested_too_deep_or_not_utf8_is_a_config_error(run_cli, tmp_path):
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 3000 + "1" + "]" * 3000 + "\n")
    result = run_cli("users", "list", env={"CS_CONFIG": str(deep)})
    assert one_error(result) == f"{deep}: nested deeper than the config file allows"
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b"user = 'Jos\xe9'\n")
    result = run_cli("users", "list", env={"CS_CONFIG": str(latin)})
    assert one_error(result) == f"{latin}: not UTF-8 text (invalid continuation byte at byte 11)"


@pytest.mark.parametrize(
    ("expression", "column", "reason"),
    [
        ("m" + " + m" * 20_000, None, "longer than 1,000 characters"),
        ("-" * 900 + "m", None, "nested deeper than 50 levels"),
        ("m" + " + m" * 200, None, "nested deeper than 50 levels"),
    ],
    ids=["long", "deep-unary", "deep-sum"],
)
def test_a_computed_expression_too_long_or_deep_is_refused(
    run_cli, engine, admin, tmp_path, expression, column, reason
):
    data = tmp_path / "accounts.csv"
    data.write_text("id,m\nC1,1\n")
    mapping = tmp_path / "map.yaml"
    mapping.write_text(f"columns:\n  id: external_id\ncomputed:\n  tier: {expression}\n")
    result = run_cli("import", "customers", data, "--map", mapping)
    assert one_error(result) == f"{mapping}:4: computed.tier: {reason}"
    assert count(engine, Customer) == 0
