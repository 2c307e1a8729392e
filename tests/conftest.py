"""Fixtures shared by every test.

Database tests take `db_url` (or `engine`/`session`) and run twice: on a
migrated SQLite file and on PostgreSQL from CS_TEST_POSTGRES_URL. When that
variable is set and the server cannot be reached the whole run fails; it
never silently skips.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from cs_cli.db.base import Base
from cs_cli.db.engine import make_engine, transaction
from cs_cli.db.models import Contact, Customer, HealthScore, NpsResponse, Team, User
from cs_cli.domain import Actor, CustomerStatus, HealthStatus, Role

PG_ENV = "CS_TEST_POSTGRES_URL"


def _base_pg_url() -> str | None:
    url = os.environ.get(PG_ENV)
    if not url:
        return None
    if url.startswith("postgresql://"):
        return url.replace("postgresql://", "postgresql+psycopg://", 1)
    return url


def _pg_url() -> str | None:
    """The Postgres database this test process uses. Under pytest-xdist each
    worker gets its own database next to the given one (cs_test_gw0, ...),
    because every test truncates all tables before it starts."""
    url = _base_pg_url()
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if url is None or not worker:
        return url
    base = sa.engine.make_url(url)
    return base.set(database=f"{base.database}_{worker}").render_as_string(hide_password=False)


def _admin_engine(url: str) -> sa.Engine:
    base = sa.engine.make_url(url)
    return make_engine(base.set(database="postgres")).execution_options(isolation_level="AUTOCOMMIT")


def pytest_sessionstart(session: pytest.Session) -> None:
    url = _base_pg_url()
    if url is None:
        return
    try:
        engine = make_engine(url)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure to reach it must stop the run
        pytest.exit(f"{PG_ENV} is set but PostgreSQL cannot be reached: {exc}", returncode=3)
    own = _pg_url()
    if own != url:
        name = sa.engine.make_url(own).database
        admin = _admin_engine(url)
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    url, own = _base_pg_url(), _pg_url()
    if url is None or own == url:
        return
    admin = _admin_engine(url)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{sa.engine.make_url(own).database}" WITH (FORCE)')
    admin.dispose()


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


@pytest.fixture(scope="session")
def _pg_emptier(_pg_migrated: str) -> Iterator[Callable[[], None]]:
    """Empties the test Postgres database between tests. DELETE in foreign-key
    order and a restart of every sequence is several times faster than one
    TRUNCATE of all tables (which makes new files for every table and index),
    and the tests leave only a few rows behind."""
    engine = make_engine(_pg_migrated)
    with engine.connect() as conn:
        sequences = conn.exec_driver_sql(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) FROM pg_sequences"
            " WHERE schemaname = current_schema()"
        ).scalars()
        # Replica mode: no triggers, so the audit log's refusal of DELETE
        # (a superuser's way round it, as docs/security.md says) lets the
        # tests start from nothing.
        statements = ["SET LOCAL session_replication_role = replica"]
        statements += [f"DELETE FROM {t.name}" for t in reversed(Base.metadata.sorted_tables)]
        statements += [f"ALTER SEQUENCE {name} RESTART" for name in sequences]
    script = "; ".join(statements)

    def empty() -> None:
        with engine.begin() as conn:
            conn.exec_driver_sql(script)

    yield empty
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: an SQLite file, or the test Postgres database."""
    request.node.user_properties.append(("dialect", request.param))
    if request.param == "sqlite":
        path = tmp_path / "cs.db"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    if _pg_url() is None:
        pytest.skip(f"{PG_ENV} not set")
    request.getfixturevalue("_pg_emptier")()
    yield request.getfixturevalue("_pg_migrated")


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
    admin_engine = _admin_engine(url)
    with admin_engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin_engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin_engine.dispose()


def build_small_book(engine: sa.Engine) -> dict[str, int]:
    """Two teams: East (manager mia, CSM ana) and West (CSM bo); seven customers,
    one churned, three scored; E-1 has contacts, an NPS response and attributes.

    Returns the user ids by login.
    """
    with transaction(engine) as sess:
        east, west = Team(name="East"), Team(name="West")
        sess.add_all([east, west])
        sess.flush()
        mia = User(login="mia", name="Mia", email="mia@example.com", role=Role.MANAGER, team_id=east.id)
        sess.add(mia)
        sess.flush()
        ana = User(
            login="ana",
            name="Ana",
            email="ana@example.com",
            role=Role.CSM,
            team_id=east.id,
            manager_id=mia.id,
        )
        bo = User(login="bo", name="Bo", email="Bo@Example.com", role=Role.CSM, team_id=west.id)
        sess.add_all([ana, bo])
        sess.flush()
        rows = [
            # external id, name, csm, arr, renewal, status, plan, seats
            (
                "E-1",
                "Alpha Analytics",
                ana,
                "120000",
                dt.date(2025, 2, 1),
                CustomerStatus.ACTIVE,
                "enterprise",
                250,
            ),
            ("E-2", "Beta Bank", ana, "30000", dt.date(2024, 12, 1), CustomerStatus.CHURNED, "pro", 20),
            (
                "E-3",
                "Gamma Goods",
                ana,
                "300000",
                dt.date(2025, 8, 1),
                CustomerStatus.ACTIVE,
                "enterprise",
                900,
            ),
            ("M-1", "Mia Media", mia, "75000", dt.date(2025, 1, 20), CustomerStatus.ACTIVE, "pro", 60),
            ("W-1", "Delta Dynamics", bo, "50000", dt.date(2025, 1, 25), CustomerStatus.ACTIVE, "pro", 40),
            ("W-2", "Epsilon Energy", bo, "500000", None, CustomerStatus.ACTIVE, "enterprise", 2000),
            ("U-1", "Orphan Org", None, None, None, CustomerStatus.ACTIVE, None, None),
        ]
        customers = {}
        for ext, name, csm, arr, renewal, status, plan, seats in rows:
            customers[ext] = Customer(
                external_id=ext,
                name=name,
                csm_id=csm.id if csm else None,
                arr=Decimal(arr) if arr else None,
                renewal_date=renewal,
                status=status,
                plan=plan,
                seats=seats,
            )
        customers["E-1"].industry = "Software"
        customers["E-1"].region = "EMEA"
        customers["E-1"].attributes = {"tier": "gold", "sso": True, "integrations": ["slack", "jira"]}
        customers["E-2"].churned_at = dt.datetime(2024, 12, 2, 9, 0, tzinfo=dt.UTC)
        sess.add_all(customers.values())
        sess.flush()
        for ext, score, status in (
            ("E-1", 82, HealthStatus.HEALTHY),
            ("M-1", 45, HealthStatus.AT_RISK),
            ("W-1", 30, HealthStatus.CRITICAL),
        ):
            sess.add(HealthScore(customer_id=customers[ext].id, overall_score=score, health_status=status))
        e1 = customers["E-1"].id
        sess.add_all(
            [
                Contact(
                    customer_id=e1,
                    name="Carla Champion",
                    email="carla@alpha.example",
                    title="Ops lead",
                    is_champion=True,
                ),
                Contact(
                    customer_id=e1,
                    name="Ed Sponsor",
                    email="ed@alpha.example",
                    title="CTO",
                    is_exec_sponsor=True,
                ),
            ]
        )
        sess.add(
            NpsResponse(
                external_id="N-1",
                customer_id=e1,
                score=9,
                responded_at=dt.datetime(2025, 1, 2, tzinfo=dt.UTC),
            )
        )
        return {u.login: u.id for u in (mia, ana, bo)}


@pytest.fixture
def book(engine: sa.Engine, admin: Actor) -> dict[str, int]:
    """The small book of `build_small_book`, with an admin: user ids by login."""
    return build_small_book(engine)


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
        dialect = dict(report.user_properties).get("dialect")
        if report.when == "call" and dialect in counts:
            counts[dialect] += 1
    skipped = len(
        [
            r
            for r in terminalreporter.stats.get("skipped", [])
            if dict(r.user_properties).get("dialect") == "postgres"
        ]
    )
    line = f"database tests run: {counts['sqlite']} on SQLite, {counts['postgres']} on PostgreSQL"
    if skipped:
        line += f" ({skipped} PostgreSQL tests skipped: {PG_ENV} not set)"
    terminalreporter.write_line(line)


# --- Outbox: a real SMTP server and a real HTTP server in the test process ---


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpInbox:
    """What the test SMTP server (aiosmtpd) received, parsed. `refuse` maps
    a recipient address to the reply its RCPT gets (e.g. '550 no such user')."""

    def __init__(self) -> None:
        import threading

        self.messages: list = []
        self.peers: list = []  # (host, port) of the connection each message came on
        self.refuse: dict[str, str] = {}
        self.delay = 0.0  # seconds before taking each message
        self.port = 0
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.refuse.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        import email
        import email.policy

        if self.delay:
            import asyncio

            await asyncio.sleep(self.delay)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(parsed)
            self.peers.append(session.peer)
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        with self._lock:
            return [m["Message-ID"] for m in self.messages]


@pytest.fixture
def smtp_server() -> Iterator[SmtpInbox]:
    """A real SMTP server on 127.0.0.1 (aiosmtpd, in a thread of this process)."""
    from aiosmtpd.controller import Controller

    inbox = SmtpInbox()
    inbox.port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    yield inbox
    controller.stop()


class HttpInbox:
    """What the test HTTP server received: (path, headers, body) per POST
    (and per GET, with an empty body).
    `script` maps a path to the statuses of its successive answers (the last
    one repeats; 200 when unscripted); `delay` to seconds to wait first."""

    def __init__(self) -> None:
        import threading

        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.script: dict[str, list[int]] = {}
        self.delay: dict[str, float] = {}
        self.base = ""
        self.lock = threading.Lock()

    def url(self, path: str) -> str:
        return self.base + path

    def to(self, path: str) -> list[tuple[str, dict[str, str], bytes]]:
        with self.lock:
            return [r for r in self.requests if r[0] == path]


@pytest.fixture
def http_server() -> Iterator[HttpInbox]:
    """A real HTTP server on 127.0.0.1 (http.server, in a thread of this process)."""
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    inbox = HttpInbox()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with inbox.lock:
                inbox.requests.append((self.path, dict(self.headers.items()), body))
                statuses = inbox.script.get(self.path, [200])
                status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
            time.sleep(inbox.delay.get(self.path, 0))
            answer = b'{"ok": true}' if status < 300 else f"status {status} from the test server".encode()
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except OSError:  # the client gave up waiting
                pass

        def do_GET(self) -> None:
            # Recorded too: a test may check that nothing was fetched.
            with inbox.lock:
                inbox.requests.append((self.path, dict(self.headers.items()), b""))
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.block_on_close = False
    inbox.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield inbox
    server.shutdown()
    server.server_close()
