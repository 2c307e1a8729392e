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


def _save(engine, login: str, name: str, filters: dict) -> None:
    import datetime as dt

    from cs_cli.db.engine import transaction
    from cs_cli.services.access import resolve_actor
    from cs_cli.services.tasks.board import BoardFilter
    from cs_cli.services.tasks.saved_views import save_view

    with transaction(engine) as s:
        actor = resolve_actor(s, login)
        save_view(s, actor, name, BoardFilter.from_json(filters), now=dt.datetime(2025, 1, 10, tzinfo=dt.UTC))


def test_an_unknown_view_is_one_line_before_anything_is_drawn(run_cli, book, engine):
    result = run_cli("board", "--view", "NOPE", user="ana")
    assert result.exit_code == 4, result
    assert _one_line(result) == "error: no saved view 'NOPE' (you have none)"
    _save(engine, "ana", "Renewals", {"renewal_within": 30})
    _save(engine, "bo", "Bo's", {})
    # Another user's view is as unknown as one that does not exist.
    result = run_cli("board", "--view", "Bo's", user="ana")
    assert result.exit_code == 4, result
    assert _one_line(result) == "error: no saved view 'Bo's' (yours: Renewals)"
    # A known view: only the missing terminal stops it.
    result = run_cli("board", "--view", "Renewals", user="ana")
    assert result.exit_code == 2 and "needs a terminal" in _one_line(result)


def test_views_are_listed_and_deleted_from_the_shell(run_cli, book, engine):
    import json

    _save(engine, "ana", "Top", {"segment": "Top", "arr_min": 100000, "scope": "mine"})
    _save(engine, "ana", "At risk", {"health": "at_risk"})
    _save(engine, "bo", "Bo's", {"owner": "bo"})
    listed = run_cli("board", "views", "list", "--format", "json", user="ana")
    assert listed.exit_code == 0, listed
    rows = json.loads(listed.stdout)
    assert [(r["name"], r["filters"]) for r in rows] == [
        ("At risk", {"health": "at_risk"}),
        ("Top", {"arr_min": 100000, "segment": "Top"}),
    ]
    assert rows[1]["described"] == "scope: mine · ARR 100k+ · segment Top"
    csv = run_cli("board", "views", "list", "--format", "csv", user="ana")
    assert csv.stdout.splitlines()[0] == "name,filters,described,created_at,updated_at"
    table = run_cli("board", "views", "list", user="ana")
    assert "health at risk" in table.stdout and "Bo's" not in table.stdout

    deleted = run_cli("board", "views", "delete", "Top", user="ana")
    assert deleted.exit_code == 0 and deleted.stderr == "deleted view 'Top'\n"
    assert [
        r["name"] for r in json.loads(run_cli("board", "views", "list", "-f", "json", user="ana").stdout)
    ] == ["At risk"]
    refused = run_cli("board", "views", "delete", "Bo's", user="ana")
    assert refused.exit_code == 4 and "no saved view 'Bo's'" in refused.stderr
    with engine.connect() as conn:
        audit = conn.execute(
            sa.text("SELECT action, details FROM cs_audit_log WHERE entity_type = 'board_view' ORDER BY seq")
        ).all()
    assert [a.action for a in audit] == ["board_view.save"] * 3 + ["board_view.delete"]
    last = audit[-1].details if isinstance(audit[-1].details, dict) else json.loads(audit[-1].details)
    assert last["name"] == "Top"
