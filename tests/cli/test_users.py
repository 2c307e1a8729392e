"""`cs users`: adding and listing users, and who may act at all."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import Team, User
from cs_cli.domain import Role

# For tests that fail before any row is read or written, one dialect is enough.
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _user(engine: sa.Engine, email: str) -> User | None:
    with transaction(engine) as sess:
        return sess.scalar(sa.select(User).where(User.email == email))


def _add_row(engine: sa.Engine, **fields) -> int:
    with transaction(engine) as sess:
        user = User(**fields)
        sess.add(user)
        sess.flush()
        return user.id


def _count_users(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(User))


def test_admin_adds_a_user_with_team_and_manager(run_cli, engine, admin):
    manager_id = _add_row(engine, login="mia", name="Mia", email="mia@example.com", role=Role.MANAGER)

    args = ["ana@example.com", "--name", "Ana Ruiz", "--team", "East", "--manager", "mia@example.com"]
    result = run_cli("users", "add", *args, "--format", "json")
    assert result.exit_code == 0, result
    assert "added csm ana@example.com" in result.stderr

    ana = _user(engine, "ana@example.com")
    assert ana is not None
    assert (ana.login, ana.name, ana.role, ana.is_active) == ("ana", "Ana Ruiz", Role.CSM, True)
    assert ana.manager_id == manager_id
    with engine.connect() as conn:
        team_name = conn.scalar(sa.select(Team.name).where(Team.id == ana.team_id))
    assert team_name == "East"

    [printed] = json.loads(result.stdout)
    assert printed == {
        "id": ana.id,
        "name": "Ana Ruiz",
        "email": "ana@example.com",
        "role": "csm",
        "team": "East",
        "manager_email": "mia@example.com",
        "is_active": True,
        "db_role": None,
    }


def test_existing_team_is_reused_and_manager_team_inherited(run_cli, engine, admin):
    assert run_cli("users", "add", "mia@example.com", "--role", "manager", "--team", "East").exit_code == 0
    assert run_cli("users", "add", "ana@example.com", "--team", "East").exit_code == 0
    # No --team: the user joins their manager's team.
    result = run_cli("users", "add", "bo@example.com", "--manager", "mia", "--login", "bo.z")
    assert result.exit_code == 0, result

    with engine.connect() as conn:
        teams = conn.execute(sa.select(Team.name)).scalars().all()
    assert teams == ["East"]
    mia, ana, bo = (_user(engine, f"{n}@example.com") for n in ("mia", "ana", "bo"))
    assert mia.role == Role.MANAGER
    assert mia.team_id == ana.team_id == bo.team_id is not None
    assert bo.manager_id == mia.id
    assert bo.login == "bo.z"


def test_csm_may_not_add_users(run_cli, engine, admin):
    _add_row(engine, login="ana", name="Ana", email="ana@example.com", role=Role.CSM)
    before = _count_users(engine)

    result = run_cli("users", "add", "eve@example.com", user="ana")
    assert result.exit_code == 3, result
    assert "adding users needs the admin role" in result.stderr
    assert "ana is a csm" in result.stderr
    assert result.stdout == ""
    assert _count_users(engine) == before


@SQLITE_ONLY
def test_manager_may_not_add_users(run_cli, engine, admin):
    _add_row(engine, login="mia", name="Mia", email="mia@example.com", role=Role.MANAGER)
    result = run_cli("users", "add", "eve@example.com", user="mia@example.com")
    assert result.exit_code == 3, result
    assert "admin role" in result.stderr
    assert _user(engine, "eve@example.com") is None


def test_duplicate_email_is_bad_input(run_cli, engine, admin):
    _add_row(engine, login="ana", name="Ana", email="ana@example.com", role=Role.CSM)
    for email in ("ana@example.com", "ANA@Example.com"):
        result = run_cli("users", "add", email, "--login", "ana2")
        assert result.exit_code == 2, result
        assert "already exists" in result.stderr
        assert _count_users(engine) == 2


def test_duplicate_login_is_bad_input(run_cli, engine, admin):
    _add_row(engine, login="ana", name="Ana", email="ana@example.com", role=Role.CSM)
    result = run_cli("users", "add", "ana@other.example")
    assert result.exit_code == 2, result
    assert "login ana already exists" in result.stderr
    assert _user(engine, "ana@other.example") is None


@SQLITE_ONLY
def test_email_without_at_is_bad_input(run_cli, engine, admin):
    result = run_cli("users", "add", "not-an-email")
    assert result.exit_code == 2, result
    assert "'not-an-email' is not an email address" in result.stderr
    assert _count_users(engine) == 1


def test_unknown_manager_is_not_found(run_cli, engine, admin):
    result = run_cli("users", "add", "ana@example.com", "--manager", "ghost@example.com", "--team", "East")
    assert result.exit_code == 4, result
    assert "no user 'ghost@example.com'" in result.stderr
    assert _user(engine, "ana@example.com") is None
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(Team)) == 0


def test_unknown_acting_user_on_a_database_with_users(run_cli, engine, admin):
    result = run_cli("users", "list", user="stranger")
    assert result.exit_code == 3, result
    assert "'stranger' is not a user of this database" in result.stderr
    assert "cs users add" in result.stderr
    assert result.stdout == ""
    # Only an empty database makes its first user an admin.
    assert _user(engine, "stranger@localhost") is None
    assert _count_users(engine) == 1


def test_first_user_of_an_empty_database_becomes_admin(run_cli, engine):
    assert _count_users(engine) == 0
    result = run_cli("users", "list", "--format", "json", user="founder")
    assert result.exit_code == 0, result
    [row] = json.loads(result.stdout)
    assert (row["name"], row["email"], row["role"]) == ("founder", "founder@localhost", "admin")
    founder = _user(engine, "founder@localhost")
    assert founder is not None and founder.login == "founder" and founder.role == Role.ADMIN


def test_deactivated_user_may_not_act(run_cli, engine, admin):
    _add_row(engine, login="gone", name="Gone", email="gone@example.com", role=Role.ADMIN, is_active=False)
    for name in ("gone", "gone@example.com"):
        result = run_cli("users", "list", user=name)
        assert result.exit_code == 3, result
        assert "deactivated" in result.stderr
        assert result.stdout == ""


def test_acting_user_by_email_any_case(run_cli, engine, admin):
    _add_row(engine, login="ana", name="Ana", email="ana@example.com", role=Role.CSM)
    result = run_cli("users", "add", "eve@example.com", user="ANA@example.com")
    # Identified (as a CSM), hence refused for lack of role rather than as a stranger.
    assert result.exit_code == 3, result
    assert "ana is a csm" in result.stderr


def test_users_list_json(run_cli, engine, admin):
    mia_id = _add_row(engine, login="mia", name="Mia", email="mia@example.com", role=Role.MANAGER)
    assert (
        run_cli(
            "users", "add", "bo@example.com", "--name", "Bo", "--team", "West", "--manager", "mia"
        ).exit_code
        == 0
    )

    result = run_cli("users", "list", "--format", "json")
    assert result.exit_code == 0, result
    rows = json.loads(result.stdout)
    # Ordered by name.
    assert [r["name"] for r in rows] == ["Admin", "Bo", "Mia"]
    by_email = {r["email"]: r for r in rows}
    assert by_email["mia@example.com"] == {
        "id": mia_id,
        "name": "Mia",
        "email": "mia@example.com",
        "role": "manager",
        "team": None,
        "manager_email": None,
        "is_active": True,
        "db_role": None,
    }
    assert by_email["bo@example.com"]["team"] == "West"
    assert by_email["bo@example.com"]["manager_email"] == "mia@example.com"
    assert by_email["admin@example.com"]["role"] == "admin"


def test_users_list_csv(run_cli, engine, admin):
    result = run_cli("users", "list", "--format", "csv")
    assert result.exit_code == 0, result
    assert result.stdout.splitlines() == [
        "id,name,email,role,team,manager_email,is_active,db_role",
        f"{admin.user_id},Admin,admin@example.com,admin,,,true,",
    ]


@SQLITE_ONLY
def test_bad_role_is_usage_error(run_cli, engine, admin):
    result = run_cli("users", "add", "ana@example.com", "--role", "overlord")
    assert result.exit_code == 2, result
    assert _user(engine, "ana@example.com") is None
