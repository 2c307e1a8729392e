"""`cs board` before anything is drawn: a wrong customer or scope, a
database without the schema (or behind it), an unreachable server and a
missing terminal are each one line on stderr with their exit code."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from cs_cli.db import migrate
from cs_cli.db.engine import make_engine

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
UNREACHABLE = "postgresql+psycopg://u:secretpw@127.0.0.1:1/nodb"


def _one_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    return lines[0]


def test_an_unknown_customer_is_not_found(run_cli, book):
    result = run_cli("board", "--customer", "NOPE", user="ana")
    assert result.exit_code == 4, result
    assert _one_line(result) == "error: no customer 'NOPE' that you can see"
    # Another CSM's customer is as unknown to ana as one that does not exist.
    result = run_cli("board", "--customer", "W-1", user="ana")
    assert result.exit_code == 4, result
    assert "W-1" in _one_line(result)


def test_a_scope_above_the_role_is_not_permitted(run_cli, book):
    result = run_cli("board", "--scope", "all", user="ana")
    assert result.exit_code == 3, result
    assert _one_line(result) == "error: --scope all is not open to a csm"


def test_without_a_terminal_it_says_what_to_use_instead(run_cli, book):
    # A known customer and scope: only the missing terminal stops it.
    result = run_cli("board", "--customer", "E-1", user="ana")
    assert result.exit_code == 2, result
    assert "needs a terminal" in _one_line(result) and "cs tasks list" in result.stderr


@SQLITE_ONLY
def test_a_database_without_the_schema_says_to_upgrade(run_cli, tmp_path: Path):
    result = run_cli("board", env={"CS_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"})
    assert result.exit_code == 1, result
    assert "no cs schema" in result.stderr and "cs db upgrade" in result.stderr
    assert "Traceback" not in result.stderr


@SQLITE_ONLY
def test_a_database_behind_this_cs_says_to_upgrade(run_cli, db_url):
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0001'"))
    engine.dispose()
    result = run_cli("board")
    assert result.exit_code == 1, result
    assert f"at revision 0001, this cs needs {migrate.SCHEMA_REVISION}" in result.stderr
    assert "cs db upgrade" in result.stderr and "Traceback" not in result.stderr


@SQLITE_ONLY
def test_an_unreachable_server_is_one_line_without_the_password(run_cli):
    result = run_cli("board", env={"CS_DATABASE_URL": UNREACHABLE})
    assert result.exit_code == 1, result
    line = _one_line(result)
    assert line.startswith("error: cannot reach") and "'nodb'" in line
    assert "secretpw" not in result.stderr
