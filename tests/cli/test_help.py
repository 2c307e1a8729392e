"""Every command has help; `cs --help` and `cs --version` work; and asking for
help loads none of the heavy libraries."""

from __future__ import annotations

import ast
import itertools
import json
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

import cs_cli
from cs_cli.cli.app import app

HEAVY = ("sqlalchemy", "sklearn", "textual", "jinja2", "httpx", "alembic", "pydantic", "yaml")
GROUPS = ("customers", "users", "db", "config")


def _walk(command, path: tuple[str, ...] = ()):
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _walk(sub, (*path, name))


COMMANDS = list(_walk(typer.main.get_command(app)))
IDS = [" ".join(path) or "cs" for path, _ in COMMANDS]


def _invoke(*args: str):
    env = {"NO_COLOR": "1", "COLUMNS": "200", "CS_CONFIG": None, "CS_DATABASE_URL": None, "CS_USER": None}
    return CliRunner().invoke(app, list(args), env=env)


def test_the_tree_has_the_groups_and_their_commands():
    paths = {" ".join(path) for path, _ in COMMANDS}
    assert set(GROUPS) <= paths
    for expected in (
        "customers list",
        "customers show",
        "users add",
        "users list",
        "db upgrade",
        "db downgrade",
        "db current",
        "config show",
    ):
        assert expected in paths


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_every_command_and_option_has_help(path, command):
    text = (command.help or command.short_help or "").strip()
    assert text, f"cs {' '.join(path)} has no help text"
    for param in command.params:
        if getattr(param, "hidden", False):
            continue
        assert (getattr(param, "help", None) or "").strip(), f"cs {' '.join(path)}: {param.name} has no help"


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=IDS)
def test_every_help_page_renders(path):
    result = _invoke(*path, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=IDS)
def test_help_reads_well_at_80_columns(path):
    """Values named in words (a flag takes none), and prose and examples that
    wrap to the terminal, never one word left alone on a line."""
    command = dict(COMMANDS)[path]
    env = {"NO_COLOR": "1", "COLUMNS": "80", "CS_CONFIG": None, "CS_DATABASE_URL": None, "CS_USER": None}
    result = CliRunner().invoke(app, [*path, "--help"], env=env)
    assert result.exit_code == 0, result.output
    for python_type in ("<bool>", "<str>", "<int", "<float", "<Decimal>", "<Path>", "<list"):
        assert python_type not in result.output, (path, python_type)
    rendered = [" ".join(line.strip("│ ").split()) for line in result.output.splitlines()]
    for line in (command.help or "").splitlines():
        words = " ".join(line.split())
        if words.startswith(("cs ", "Example: cs ", "Examples: cs ")):
            assert any(words in r for r in rendered), f"cs {' '.join(path)}: example wraps: {words}"
    # Within a paragraph, a line ends only where the next word would not fit.
    description = result.output.split("╭")[0].splitlines()
    for before, after in itertools.pairwise(description):
        if before.strip() and after.strip() and len(after) - len(after.lstrip()) == 1:
            room = 79 - len(before.rstrip()) - 1
            assert len(after.split()[0]) > room, f"cs {' '.join(path)}: a line breaks early: {before.strip()}"


GROUP_PATHS = [path for path, command in COMMANDS if getattr(command, "commands", None)]


@pytest.mark.parametrize("path", GROUP_PATHS, ids=[" ".join(p) or "cs" for p in GROUP_PATHS])
def test_command_listings_wrap_to_the_terminal(path):
    """A command's line in a group's listing continues on the next line only
    where the next word would not fit (not where its docstring broke)."""
    env = {"NO_COLOR": "1", "COLUMNS": "80", "CS_CONFIG": None, "CS_DATABASE_URL": None, "CS_USER": None}
    result = CliRunner().invoke(app, [*path, "--help"], env=env)
    assert result.exit_code == 0, result.output
    listing = result.output.split("─ Commands ")[1].split("╰")[0].splitlines()[1:]
    for before, after in itertools.pairwise(listing):
        text = after.strip("│").rstrip()
        if text.strip() and text.startswith(" " * 3):  # a continuation of the entry above
            room = 78 - len(before.strip("│").rstrip()) - 1
            assert len(text.split()[0]) >= room, f"cs {' '.join(path)}: breaks early: {before.strip()}"


def test_root_help_lists_the_groups_and_env_vars():
    result = _invoke("--help")
    assert result.exit_code == 0
    for group in GROUPS:
        assert f" {group} " in result.stdout, group
    # Options that mirror a setting show their environment variable.
    assert "CS_DATABASE_URL" in result.stdout
    assert "CS_USER" in result.stdout
    assert "Exit codes" in result.stdout


def test_no_arguments_shows_help():
    result = _invoke()
    assert "Usage:" in result.stdout + result.stderr
    assert "customers" in result.stdout + result.stderr


def test_version():
    result = _invoke("--version")
    assert result.exit_code == 0
    assert result.stdout == f"cs {cs_cli.__version__}\n"


def test_unknown_command_is_usage_error():
    result = _invoke("frobnicate")
    assert result.exit_code == 2
    assert "frobnicate" in result.stderr


_SCRIPT = """
import json, sys
sys.argv = ["cs", "--help"]
from cs_cli.cli.app import main
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
heavy = sorted(m for m in {heavy!r} if m in sys.modules)
sys.stderr.write("HEAVY=" + json.dumps({{"code": code, "heavy": heavy}}) + "\\n")
"""


def test_help_loads_no_heavy_library():
    proc = subprocess.run(
        [sys.executable, "-c", _SCRIPT.format(heavy=HEAVY)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "HOME": "/nonexistent"},
    )
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("HEAVY=")]
    assert line, proc.stderr
    report = json.loads(line[-1].removeprefix("HEAVY="))
    assert report["code"] in (0, None)
    assert report["heavy"] == [], f"`cs --help` imported {report['heavy']} (see python -X importtime)"
    assert "customers" in proc.stdout


def test_python_dash_m_cs_cli():
    proc = subprocess.run(
        [sys.executable, "-m", "cs_cli", "--version"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"cs {cs_cli.__version__}"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["customers", "list", "--limit", "0"], "error: Invalid value for '--limit'"),
        (["nope"], "error: No such command 'nope'."),
        (["import"], "error: Missing argument 'ENTITY'. Choose from: customers, contacts,"),
        (["customers", "show", "C-1", "--format", "xml"], "error: Invalid value for '--format'"),
    ],
)
def test_usage_errors_are_one_line_and_a_hint(run_cli, args, expected):
    result = run_cli(*args)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith(expected), result.stderr
    assert lines[1].startswith("hint: see 'cs") and len(lines) == 2
    assert "╭" not in result.stderr and result.stdout == ""


def test_a_bad_choice_is_one_plain_line():
    result = _invoke("health", "list", "--status", "bogus")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "error: Invalid value for '--status': "
        "'bogus' is not one of 'healthy', 'at_risk', 'critical', 'churned', "
        "'onboarding', 'insufficient_data'."
    )


_BUILT = """
import sys
sys.argv = ["cs", *{argv!r}]
from cs_cli.cli import app as root
try:
    root.main()
except SystemExit:
    pass
groups = sorted(g.name for g in root.app.registered_groups)
commands = sorted(c.name for c in root.app.registered_commands)
sys.stderr.write("BUILT=" + repr((groups, commands)) + "\\n")
"""


@pytest.mark.parametrize(
    ("argv", "groups", "commands"),
    [
        (["--user", "customers", "customers", "--help"], ["customers"], []),
        (["recalc", "--help"], [], ["recalc"]),
        (["--help"], None, None),
        (["customerz"], None, None),
    ],
)
def test_the_entry_point_builds_only_the_group_that_runs(argv, groups, commands):
    """Typer builds every command before it runs one; `cs` keeps only the
    group (or command) the line names, and the whole tree otherwise."""
    proc = subprocess.run(
        [sys.executable, "-c", _BUILT.format(argv=argv)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "HOME": "/nonexistent", "COLUMNS": "100"},
    )
    built = [ln for ln in proc.stderr.splitlines() if ln.startswith("BUILT=")]
    assert built, proc.stderr
    got_groups, got_commands = ast.literal_eval(built[-1].removeprefix("BUILT="))
    if groups is None:
        assert {"customers", "tasks", "health"} <= set(got_groups) and "recalc" in got_commands
    else:
        assert (got_groups, got_commands) == (groups, commands)
    if argv == ["customerz"]:
        assert "Did you mean 'customers'?" in proc.stderr
    if argv[-1] == "--help":
        assert "Usage: cs " in proc.stdout
