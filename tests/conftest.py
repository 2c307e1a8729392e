"""Fixtures shared by every test.

Database tests take `db_url` (or `engine`/`session`) and run twice: on a
migrated SQLite file and on PostgreSQL from CS_TEST_POSTGRES_URL. When that
variable is set and the server cannot be reached the whole run fails; it
never silently skips.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from cs_cli.db.base import Base
from cs_cli.db.engine import make_engine, transaction
from cs_cli.domain import Actor, Role

PG_ENV = "CS_TEST_POSTGRES_URL"


def _pg_url() -> str | None:
    url = os.environ.get(PG_ENV)
    if not url:
        return None
    if url.startswith("postgresql://"):
        return url.replace("postgresql://", "postgresql+psycopg://", 1)
    return url


def pytest_sessionstart(session: pytest.Session) -> None:
    url = _pg_url()
    if url is None:
        return
    try:
        engine = make_engine(url)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure to reach it must stop the run
        pytest.exit(f"{PG_ENV} is set but PostgreSQL cannot be reached: {exc}", returncode=3)


def pytest_report_header(config: pytest.Config) -> str:
    url = _pg_url()
    if url is None:
        return f"postgres tests: OFF ({PG_ENV} not set)"
    return f"postgres tests: ON ({url.rsplit('@', 1)[-1]})"


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from cs_cli.db import migrate

    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _pg_migrated() -> str:
    from cs_cli.db import migrate

    url = _pg_url()
    assert url is not None
    engine = make_engine(url)
    with engine.begin() as conn:
        # Start from nothing: a previous run may have left any state behind.
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    migrate.upgrade(engine)
    engine.dispose()
    return url


def _truncate_all(url: str) -> None:
    engine = make_engine(url)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: an SQLite file, or the test Postgres database."""
    if request.param == "sqlite":
        path = tmp_path / "cs.db"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    if _pg_url() is None:
        pytest.skip(f"{PG_ENV} not set")
    url = request.getfixturevalue("_pg_migrated")
    _truncate_all(url)
    yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: sa.Engine):
    """A session for arranging and checking rows; commit to make them visible to commands."""
    from cs_cli.db.engine import session_factory

    with session_factory(engine)() as sess:
        yield sess


@pytest.fixture
def admin(engine: sa.Engine) -> Actor:
    """An admin user 'admin' in the database, as an Actor."""
    from cs_cli.db.models import User

    with transaction(engine) as sess:
        user = User(login="admin", name="Admin", email="admin@example.com", role=Role.ADMIN)
        sess.add(user)
        sess.flush()
        return Actor(name="admin", role=Role.ADMIN, user_id=user.id)


@pytest.fixture
def empty_pg_url() -> Iterator[str]:
    """A brand-new, empty Postgres database (for migration tests), dropped afterwards."""
    url = _pg_url()
    if url is None:
        pytest.skip(f"{PG_ENV} not set")
    base = sa.engine.make_url(url)
    name = f"{base.database}_{uuid.uuid4().hex[:8]}"
    admin_engine = make_engine(base.set(database="postgres")).execution_options(isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin_engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin_engine.dispose()


class CliResult:
    def __init__(self, result) -> None:
        self.exit_code: int = result.exit_code
        self.stdout: str = result.stdout
        self.stderr: str = result.stderr
        self.exception = result.exception

    def __repr__(self) -> str:
        return f"<exit {self.exit_code}\nstdout: {self.stdout[-2000:]}\nstderr: {self.stderr[-2000:]}>"


@pytest.fixture
def run_cli(db_url: str, tmp_path: Path):
    """Run `cs ARGS...` in-process against the test database; returns exit code, stdout, stderr."""
    from typer.testing import CliRunner

    from cs_cli.cli.app import app

    def run(*args: str, user: str = "admin", input: str | None = None, env: dict | None = None) -> CliResult:
        runner = CliRunner()
        full_env = {
            "CS_DATABASE_URL": db_url,
            "CS_USER": user,
            # Keep the user's real config and data directories out of tests.
            "CS_CONFIG": None,
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "NO_COLOR": "1",
            "COLUMNS": "200",
            **(env or {}),
        }
        result = runner.invoke(app, [str(a) for a in args], input=input, env=full_env, catch_exceptions=True)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return CliResult(result)

    return run


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Say how many database tests ran on each dialect, so a log shows that
    the Postgres tests really ran."""
    counts = {"sqlite": 0, "postgres": 0}
    for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", []):
        if report.when != "call":
            continue
        for dialect in counts:
            if (
                f"[{dialect}" in report.nodeid
                or f"-{dialect}]" in report.nodeid
                or f"-{dialect}-" in report.nodeid
            ):
                counts[dialect] += 1
    skipped = len([r for r in terminalreporter.stats.get("skipped", []) if "postgres" in r.nodeid])
    line = f"database tests run: {counts['sqlite']} on SQLite, {counts['postgres']} on PostgreSQL"
    if skipped:
        line += f" ({skipped} PostgreSQL tests skipped: {PG_ENV} not set)"
    terminalreporter.write_line(line)
