"""`cs db` and `cs config`: creating and migrating the schema, reaching the
database, and where each setting came from."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from cs_cli.db import migrate
from cs_cli.db.base import Base
from cs_cli.db.engine import make_engine

# For commands that never reach the test database (the URL is overridden or
# not used), one run is enough.
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

UNREACHABLE = "postgresql+psycopg://u:secretpw@127.0.0.1:1/nodb"


def _tables(url: str) -> set[str]:
    eng = make_engine(url)
    try:
        with eng.connect() as conn:
            return set(sa.inspect(conn).get_table_names())
    finally:
        eng.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A brand-new, empty database other than the shared test database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    return request.getfixturevalue("empty_pg_url")


@pytest.fixture
def unknown_revision(db_url: str) -> Iterator[str]:
    """The test database stamped with a revision no cs knows; restored afterwards."""
    eng = make_engine(db_url)
    with eng.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'ffff'"))
    yield db_url
    with eng.begin() as conn:
        conn.execute(
            sa.text("UPDATE alembic_version SET version_num = :rev"), {"rev": migrate.SCHEMA_REVISION}
        )
    eng.dispose()


# --- current / upgrade on the test database ---------------------------------------------------------


def test_db_current_prints_the_revision_on_stdout(run_cli):
    result = run_cli("db", "current")
    assert result.exit_code == 0, result
    assert result.stdout == f"{migrate.SCHEMA_REVISION}\n"
    assert ": current" in result.stderr


def test_db_upgrade_on_a_current_database_says_so(run_cli):
    result = run_cli("db", "upgrade")
    assert result.exit_code == 0, result
    assert result.stdout == ""
    assert f"already at revision {migrate.SCHEMA_REVISION}" in result.stderr


def test_db_current_on_an_unknown_revision_does_not_advise_db_upgrade(run_cli, unknown_revision):
    result = run_cli("db", "current")
    assert result.exit_code == 0, result
    assert result.stdout == "ffff\n"
    # `cs db upgrade` cannot help here (it does not know ffff); say what ensure_schema says.
    assert "cs db upgrade" not in result.stderr
    assert "does not know" in result.stderr


def test_db_upgrade_on_an_unknown_revision_is_a_clean_error(run_cli, unknown_revision):
    result = run_cli("db", "upgrade")
    assert result.exit_code == 1, result
    assert "ffff" in result.stderr
    assert "unexpected" not in result.stderr
    assert "--debug" not in result.stderr


def test_commands_refuse_an_unknown_revision(run_cli, unknown_revision, admin):
    result = run_cli("customers", "list")
    assert result.exit_code == 1, result
    assert "revision ffff, which this version of cs does not know" in result.stderr
    assert "hint: upgrade cs" in result.stderr
    assert result.stdout == ""


def test_db_upgrade_to_an_unknown_target_is_bad_input(run_cli):
    result = run_cli("db", "upgrade", "9999")
    assert result.exit_code == 2, result
    assert "9999" in result.stderr
    assert "unexpected" not in result.stderr


# --- a new Postgres database --------------------------------------------------------------------------


@SQLITE_ONLY
def test_new_postgres_database_needs_db_upgrade_then_works(run_cli, empty_pg_url):
    env = {"CS_DATABASE_URL": empty_pg_url}

    result = run_cli("customers", "list", user="alice", env=env)
    assert result.exit_code == 1, result
    assert "no cs schema" in result.stderr
    assert "cs db upgrade" in result.stderr
    assert result.stdout == ""
    assert _tables(empty_pg_url) == set(), "a non-default database must never be created implicitly"

    result = run_cli("db", "upgrade", user="alice", env=env)
    assert result.exit_code == 0, result
    assert "created the cs schema" in result.stderr
    assert "alice is its first admin" in result.stderr
    assert "secret" not in result.stderr

    eng = make_engine(empty_pg_url)
    with eng.connect() as conn:
        users = conn.execute(sa.text("SELECT login, role, is_active FROM api_users")).all()
        revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    eng.dispose()
    assert users == [("alice", "admin", True)]
    assert revision == migrate.SCHEMA_REVISION

    result = run_cli("customers", "list", "--format", "json", user="alice", env=env)
    assert result.exit_code == 0, result
    assert json.loads(result.stdout) == []

    result = run_cli("db", "current", user="alice", env=env)
    assert result.stdout == f"{migrate.SCHEMA_REVISION}\n"


# --- unreachable and malformed URLs -------------------------------------------------------------------


@SQLITE_ONLY
@pytest.mark.parametrize(
    "args", [("customers", "list"), ("db", "current"), ("db", "upgrade"), ("users", "list")]
)
def test_unreachable_database_is_one_line_without_the_password(run_cli, args):
    result = run_cli(*args, env={"CS_DATABASE_URL": UNREACHABLE})
    assert result.exit_code == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: cannot reach")
    assert "127.0.0.1" in lines[0]
    assert "'nodb'" in lines[0]
    assert "secretpw" not in result.stdout + result.stderr
    assert result.stdout == ""


@SQLITE_ONLY
def test_unreachable_database_given_as_a_flag_hides_the_password(run_cli):
    result = run_cli("--database-url", UNREACHABLE, "customers", "list")
    assert result.exit_code == 1, result
    assert "nodb" in result.stderr
    assert "secretpw" not in result.stdout + result.stderr


@SQLITE_ONLY
def test_not_a_url_is_bad_usage(run_cli):
    result = run_cli("customers", "list", env={"CS_DATABASE_URL": "just some words"})
    assert result.exit_code == 2, result
    assert "not a database URL" in result.stderr
    assert result.stdout == ""


@SQLITE_ONLY
def test_not_a_url_never_echoes_the_password(run_cli):
    # A typo (no ':' after the scheme) must not print the password back.
    result = run_cli(
        "customers", "list", env={"CS_DATABASE_URL": "postgresql+psycopg//u:secretpw@127.0.0.1/nodb"}
    )
    assert result.exit_code == 2, result
    assert "not a database URL" in result.stderr
    assert "secretpw" not in result.stdout + result.stderr


@SQLITE_ONLY
def test_url_with_a_bad_port_is_bad_usage(run_cli):
    result = run_cli(
        "customers", "list", env={"CS_DATABASE_URL": "postgresql+psycopg://u:secretpw@127.0.0.1:pg/nodb"}
    )
    assert result.exit_code == 2, result
    assert "unexpected" not in result.stderr
    assert "secretpw" not in result.stdout + result.stderr


@SQLITE_ONLY
def test_unsupported_database_is_bad_usage(run_cli):
    result = run_cli("db", "current", env={"CS_DATABASE_URL": "mysql://u@localhost/cs"})
    assert result.exit_code == 2, result
    assert "unsupported database 'mysql'" in result.stderr


# --- downgrade ----------------------------------------------------------------------------------------


def test_downgrade_without_yes_off_a_terminal_is_refused(run_cli, db_url):
    result = run_cli("db", "downgrade", "base")
    assert result.exit_code == 2, result
    assert "--yes" in result.stderr
    # Nothing was dropped.
    assert {t.name for t in Base.metadata.sorted_tables} <= _tables(db_url)
    assert run_cli("db", "current").stdout == f"{migrate.SCHEMA_REVISION}\n"


@SQLITE_ONLY
def test_downgrade_base_with_yes_removes_the_tables(run_cli, fresh_url):
    env = {"CS_DATABASE_URL": fresh_url}
    assert run_cli("db", "upgrade", env=env).exit_code == 0
    assert "customers" in _tables(fresh_url)

    result = run_cli("db", "downgrade", "base", "--yes", env=env)
    assert result.exit_code == 0, result
    assert f"from revision {migrate.SCHEMA_REVISION}" in result.stderr
    assert _tables(fresh_url) <= {"alembic_version"}

    result = run_cli("db", "current", env=env)
    assert result.stdout == "none\n"
    assert "cs db upgrade" in result.stderr


# --- config show --------------------------------------------------------------------------------------


def _config_rows(result) -> dict[str, dict]:
    assert result.exit_code == 0, result
    return {row["setting"]: row for row in json.loads(result.stdout)}


@SQLITE_ONLY
def test_config_show_masks_the_password_and_names_the_env_var(run_cli):
    rows = _config_rows(run_cli("config", "show", "--format", "json", env={"CS_DATABASE_URL": UNREACHABLE}))
    assert rows["database_url"]["value"] == "postgresql+psycopg://u:***@127.0.0.1:1/nodb"
    assert rows["database_url"]["source"] == "env CS_DATABASE_URL"
    assert rows["database_url"]["env"] == "CS_DATABASE_URL"
    assert rows["user"] == {"setting": "user", "value": "admin", "source": "env CS_USER", "env": "CS_USER"}
    assert rows["batch_size"]["source"] == "default"
    assert rows["config_file"]["source"] == "not present"


@SQLITE_ONLY
def test_config_show_prints_values_as_the_config_takes_them(run_cli, tmp_path: Path):
    rows = _config_rows(
        run_cli(
            "config",
            "show",
            "--format",
            "json",
            env={"CS_SMTP_SECURITY": "starttls", "CS_OUTBOX_BACKOFF": "90s", "CS_RETENTION_EVENTS": "off"},
        )
    )
    assert rows["smtp_port"]["value"] == 587
    assert rows["smtp_port"]["source"] == "default (the usual port for smtp_security starttls)"
    assert rows["outbox_backoff"]["value"] == "90s"
    assert rows["outbox_backoff_cap"]["value"] == "6h"
    assert rows["email_cap_period"]["value"] == "7d"
    assert rows["retention_events"]["value"] == "off"
    # What it prints, the config reads back to the same value.
    config = tmp_path / "cs.toml"
    config.write_text(
        "".join(
            f'{k} = "{rows[k]["value"]}"\n' for k in ("outbox_backoff_cap", "email_cap_period", "job_lease")
        )
    )
    again = _config_rows(run_cli("config", "show", "--format", "json", env={"CS_CONFIG": str(config)}))
    assert {k: again[k]["value"] for k in ("outbox_backoff_cap", "email_cap_period", "job_lease")} == {
        "outbox_backoff_cap": "6h",
        "email_cap_period": "7d",
        "job_lease": "1m",
    }
    assert again["job_lease"]["source"].startswith("file")


@SQLITE_ONLY
def test_config_show_sources_flag_and_file(run_cli, tmp_path: Path):
    config = tmp_path / "cs.toml"
    config.write_text("batch_size = 123\n", encoding="utf-8")
    result = run_cli(
        "--database-url",
        "postgresql+psycopg://ops:hunter2@db.internal/cs",
        "config",
        "show",
        "--format",
        "json",
        env={"CS_CONFIG": str(config)},
    )
    rows = _config_rows(result)
    assert "hunter2" not in result.stdout
    assert rows["database_url"]["value"] == "postgresql+psycopg://ops:***@db.internal/cs"
    assert rows["database_url"]["source"] == "flag"
    assert rows["batch_size"]["value"] == 123
    assert rows["batch_size"]["source"] == f"file {config}"
    assert rows["config_file"] == {
        "setting": "config_file",
        "value": str(config),
        "source": "read",
        "env": "CS_CONFIG",
    }


@SQLITE_ONLY
def test_config_show_with_a_malformed_url_still_masks(run_cli):
    result = run_cli(
        "config",
        "show",
        "--format",
        "json",
        env={"CS_DATABASE_URL": "postgresql+psycopg://u:secretpw@h:pg/db"},
    )
    assert result.exit_code == 0, result
    assert "secretpw" not in result.stdout + result.stderr


@SQLITE_ONLY
def test_config_error_in_file_is_exit_2(run_cli, tmp_path: Path):
    config = tmp_path / "cs.toml"
    config.write_text("colour = 'blue'\n", encoding="utf-8")
    result = run_cli("config", "show", env={"CS_CONFIG": str(config)})
    assert result.exit_code == 2, result
    assert str(config) in result.stderr
    assert "'colour'" in result.stderr
