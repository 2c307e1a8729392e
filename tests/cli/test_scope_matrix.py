"""The scope matrix: every command, as a CSM, a manager, a deactivated user
and a name nobody has, over the small book of two teams. Nothing outside a
user's scope shows in any output format; writes to what they may not touch
change nothing. A command joins the matrix by being registered: the first
test fails for any command this file does not cover (or exempt, saying why).
"""

from __future__ import annotations

import datetime as dt
import json
import re

import click
import pytest
import sqlalchemy as sa
import typer

from cs_cli.cli.app import app
from cs_cli.db.base import Base
from cs_cli.db.models import Alert, AuditEntry, AuditHead, BoardView, Customer, OutboxMessage, User
from cs_cli.domain import AlertSeverity, OutboxChannel

pytestmark = pytest.mark.slow

# Outside ana's scope (she is a CSM of team East): Mia's, Bo's (team West)
# and nobody's customers. Outside Mia's (East's manager): West's and nobody's.
NOT_ANAS = {"M-1": "Mia Media", "W-1": "Delta Dynamics", "W-2": "Epsilon Energy", "U-1": "Orphan Org"}
NOT_MIAS = {"W-1": "Delta Dynamics", "W-2": "Epsilon Energy", "U-1": "Orphan Org"}

EVERYONE = '{"arr": {"gte": 0}}'
# Commands that read customer data, each with its arguments ({task},
# {touchpoint}, {alert}, {run}, {enrollment}, {message}: ids of rows about
# W-1, out of both scopes). Each runs as a table and, where it takes
# --format, as json and csv.
READS: dict[str, list[str]] = {
    "export": ["customers"],
    "customers list": [],
    "customers show": ["W-1"],
    "health list": [],
    "health show": ["W-1"],
    "health components": ["W-1"],
    "health distribution": [],
    "health history": ["W-1"],
    "health backtest": [],
    "churn show": [],
    "churn models": [],
    "churn explain": ["W-1"],
    "expansion show": [],
    "expansion models": [],
    "expansion explain": ["W-1"],
    "nps show": [],
    "nps models": [],
    "nps explain": ["W-1"],
    "segments list": [],
    "segments show": ["Everyone"],
    "segments customers": ["Everyone"],
    "segments export": ["Everyone"],
    "segments overlap": ["Everyone", "Picked"],
    "segments history": ["Picked"],
    "segments fields": [],
    "segments preview": ["--rules", EVERYONE],
    "segments suggest": [],
    "playbooks list": [],
    "playbooks show": ["risk_response"],
    "playbooks runs": [],
    "journeys list": [],
    "journeys show": ["onboarding"],
    "journeys enrollments": ["onboarding"],
    "journeys simulate": ["onboarding", "W-1"],
    "tasks list": [],
    "tasks my": [],
    "tasks show": ["{task}"],
    "tasks export": ["--ical", "-"],
    "touchpoints list": [],
    "touchpoints show": ["{touchpoint}"],
    "touchpoints timeline": ["W-1"],
    "touchpoints topics": [],
    "alerts list": [],
    "alerts show": ["{alert}"],
    "analytics retention": [],
    "analytics nps-trends": [],
    "analytics renewals": [],
    "analytics health-distribution": [],
    "analytics success-metrics": [],
    "analytics playbook-performance": [],
    "analytics journey-performance": [],
    "analytics csm-performance": [],
    "analytics dashboard": [],
    "analytics churn-risk": ["--customers"],
    "analytics time-to-value": [],
    "report book": ["--html", "-"],
    "report qbr": ["W-1", "--html", "-"],
    "automation rules": [],
    "outbox list": [],
    "outbox show": ["{message}"],
    "events list": [],
    "users list": [],
    "audit list": [],
    "audit show": ["1"],
    "audit export": [],
    "audit verify": [],
    "jobs status": [],
    "jobs history": [],
    "db current": [],
    "calendar": ["{dir}"],
    "board views list": [],
}
# Commands that change things, aimed at W-1 or its rows: refused or not
# found, and nothing changes.
WRITES: dict[str, list[str]] = {
    "import": ["customers", "{csv}"],
    "demo": ["--customers", "3", "--reset", "--yes"],
    "recalc": ["--customer", "W-1"],
    "enroll": ["onboarding", "W-1"],
    "run": ["retention"],
    "health override": ["W-1", "10", "--reason", "x", "--until", "2030-01-01"],
    "churn train": [],
    "churn evaluate": [],
    "churn activate": ["1"],
    "churn predict": [],
    "expansion train": [],
    "expansion evaluate": [],
    "expansion activate": ["1"],
    "expansion predict": [],
    "nps train": [],
    "nps evaluate": [],
    "nps activate": ["1"],
    "nps predict": [],
    "segments create": ["Mine", "--rules", EVERYONE],
    "segments update": ["Everyone", "--rules", '{"plan": "pro"}'],
    "segments delete": ["Picked", "--yes"],
    "segments add": ["Picked", "W-2"],
    "segments remove": ["Picked", "W-1"],
    "segments refresh": [],
    "playbooks load": [],
    "playbooks trigger": ["risk_response", "W-1"],
    "playbooks evaluate": [],
    "playbooks cancel": ["{run}"],
    "journeys load": [],
    "journeys tick": [],
    "journeys exit": ["{enrollment}"],
    "tasks create": ["W-1", "--title", "Mine now"],
    "tasks update": ["{task}", "--title", "Changed"],
    "tasks start": ["{task}"],
    "tasks complete": ["{task}", "--outcome", "successful"],
    "tasks block": ["{task}", "--reason", "x"],
    "tasks unblock": ["{task}"],
    "tasks cancel": ["{task}"],
    "tasks assign": ["{task}", "--to", "ana"],
    "tasks reschedule": ["{task}", "--to", "2030-01-01"],
    "tasks snooze": ["{task}", "--until", "2030-01-01"],
    "tasks remind": [],
    "touchpoints log": ["W-1", "--type", "call", "--subject", "Mine"],
    "touchpoints analyze": ["--all", "--overwrite"],
    "alerts check": [],
    "alerts ack": ["{alert}"],
    "alerts resolve": ["{alert}"],
    "automation run": [],
    "outbox deliver": [],
    "outbox retry": ["{message}"],
    "events emit": ["x.happened", "--customer", "W-1"],
    "users add": ["eve@example.com", "--role", "admin"],
    "users set": ["ana", "--role", "admin"],
    "users grant-db": ["ana", "ana_role"],
    "users set-notify": ["none", "--user", "bo"],
    "db upgrade": [],
    "db downgrade": ["0001", "--yes"],
    "board views delete": ["Bo's view"],
}
# Commands anyone who can open the database may run: they show no customer
# data (the schema's revision; the fields segment rules may use).
ANYONE = {"db current", "segments fields"}
# Not in the matrix, and why.
EXEMPT = {
    "board": "the terminal board: its screens are driven with Textual's pilot in tests/tui, scoped there",
    "playbooks validate": "checks files on disk; reads no database",
    "journeys validate": "checks files on disk; reads no database",
    "automation validate": "checks files on disk; reads no database",
    "config show": "prints settings; reads no customer data",
}


def _registered() -> list[str]:
    root = typer.main.get_command(app)
    found: list[str] = []

    def walk(command: click.Command, path: list[str]) -> None:
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                walk(sub, [*path, name])
        else:
            found.append(" ".join(path))

    walk(root, [])
    return found


def test_every_command_is_in_the_matrix():
    covered = set(READS) | set(WRITES) | set(EXEMPT)
    missing = [c for c in _registered() if c not in covered]
    assert missing == [], f"add these to the scope matrix: {missing}"
    assert not set(READS) & set(WRITES)


@pytest.fixture
def world(run_cli, book, engine, tmp_path) -> dict[str, str]:
    """The book with something of W-1's (out of ana's and mia's scope) in every
    kind of row, and ids to name them."""
    for args in (
        ("playbooks", "load"),
        ("journeys", "load"),
        ("recalc", "--as-of", "2025-01-10"),
        ("recalc", "--as-of", "2025-01-15"),
        ("segments", "create", "Everyone", "--rules", EVERYONE),
        ("segments", "create", "Picked", "--type", "static"),
        ("segments", "add", "Picked", "W-1", "E-1"),
        ("tasks", "create", "W-1", "--title", "Call Delta", "--assignee", "bo"),
        ("tasks", "create", "E-1", "--title", "Call Alpha", "--assignee", "ana"),
        ("touchpoints", "log", "W-1", "--type", "call", "--subject", "Delta check-in"),
        ("playbooks", "trigger", "risk_response", "W-1"),
        ("enroll", "onboarding", "W-1", "E-1"),
        ("journeys", "tick", "--no-deliver"),
    ):
        result = run_cli(*args)
        assert result.exit_code == 0, (args, result.stderr)
    with engine.begin() as conn:
        w1 = conn.scalar(sa.select(Customer.id).where(Customer.external_id == "W-1"))
        bo = conn.scalar(sa.select(User.id).where(User.login == "bo"))
        # A view of bo's naming his customer: nobody else lists or deletes it.
        conn.execute(
            sa.insert(BoardView).values(
                user_id=bo,
                name="Bo's view",
                filters={"search": "Delta Dynamics"},
                created_at=dt.datetime(2025, 1, 15, tzinfo=dt.UTC),
            )
        )
        conn.execute(
            sa.insert(Alert).values(
                customer_id=w1,
                alert_type="health_drop",
                severity=AlertSeverity.CRITICAL,
                title="Delta Dynamics dropped",
                raised_at=dt.datetime(2025, 1, 15, tzinfo=dt.UTC),
                created_at=dt.datetime(2025, 1, 15, tzinfo=dt.UTC),
            )
        )
        conn.execute(
            sa.insert(OutboxMessage).values(
                channel=OutboxChannel.EMAIL,
                idempotency_key="matrix-1",
                recipient="ceo@delta.example",
                customer_id=w1,
                payload={"subject": "Delta Dynamics renewal"},
                created_at=dt.datetime(2025, 1, 15, tzinfo=dt.UTC),
            )
        )

    def first(sql: str) -> str:
        with engine.connect() as conn:
            value = conn.exec_driver_sql(sql).scalar()
        assert value is not None, sql
        return str(value)

    of_w1 = f"customer_id = {w1}"
    csv = tmp_path / "customers.csv"
    csv.write_text("external_id,name\nW-1,Delta Dynamics renamed\n")
    (tmp_path / "ics").mkdir()
    return {
        "task": first(f"SELECT id FROM cs_tasks WHERE {of_w1} ORDER BY id"),
        "touchpoint": first(f"SELECT id FROM cs_touchpoints WHERE {of_w1}"),
        "alert": first(f"SELECT id FROM cs_alerts WHERE {of_w1}"),
        "run": first(f"SELECT id FROM cs_playbook_runs WHERE {of_w1}"),
        "enrollment": first(f"SELECT id FROM cs_journey_enrollments WHERE {of_w1}"),
        "message": first(f"SELECT id FROM cs_outbox WHERE {of_w1}"),
        "csv": str(csv),
        "dir": str(tmp_path / "ics"),
    }


def _args(args: list[str], world: dict[str, str]) -> list[str]:
    return [world[a[1:-1]] if re.fullmatch(r"\{\w+\}", a) else a for a in args]


def _leaks(text: str, outside: dict[str, str], named: list[str]) -> list[str]:
    """Out-of-scope ids and names in `text` (an id the user typed may come
    back in an error naming it; a name never may)."""
    found = [name for name in outside.values() if name in text]
    found += [ext for ext in outside if ext not in named and ext in text]
    return found


def _formats(command: str) -> list[list[str]]:
    root = typer.main.get_command(app)
    node = root
    for word in command.split():
        node = node.commands[word]
    if not any("--format" in getattr(p, "opts", []) for p in node.params):
        return [[]]
    # Exports write files to re-import: JSON lines, not one JSON array.
    wanted = ("jsonl", "csv") if command.endswith("export") else ("json", "csv")
    return [[], *(["--format", f] for f in wanted)]


@pytest.mark.parametrize("user,outside", [("ana", NOT_ANAS), ("mia", NOT_MIAS)])
def test_reads_show_nothing_outside_the_scope(run_cli, world, tmp_path, user, outside):
    problems = []
    for command, args in READS.items():
        for fmt in _formats(command):
            full = [*command.split(), *_args(args, world), *fmt]
            result = run_cli(*full, user=user)
            leaks = _leaks(result.stdout + result.stderr, outside, full)
            if command == "calendar":
                leaks += _leaks("".join(p.read_text() for p in (tmp_path / "ics").iterdir()), outside, full)
            if leaks or result.exit_code not in (0, 1, 3, 4):
                problems.append((full, result.exit_code, leaks, result.stderr[-300:]))
    assert problems == []


def _fingerprint(engine) -> dict[str, object]:
    """Every table's rows, but the audit trail's (a refused command leaves
    none there either: its transaction is rolled back), as sorted text."""
    skip = {AuditEntry.__tablename__, AuditHead.__tablename__, "alembic_version"}
    out: dict[str, object] = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in skip:
                continue
            rows = conn.execute(sa.select(table)).all()
            out[table.name] = sorted(repr(tuple(r)) for r in rows)
    return out


def test_writes_outside_the_scope_change_nothing(run_cli, world, engine):
    before = _fingerprint(engine)
    problems = []
    for command, args in WRITES.items():
        full = [*command.split(), *_args(args, world)]
        result = run_cli(*full, user="ana")
        leaks = _leaks(result.stdout + result.stderr, NOT_ANAS, full)
        # Refused (3), not found (4), or a run over her own scope only (0).
        if leaks or result.exit_code not in (0, 1, 2, 3, 4):
            problems.append((full, result.exit_code, leaks, result.stderr[-300:]))
        after = _fingerprint(engine)
        changed = [t for t in before if before[t] != after[t] and not _own(command, before[t], after[t])]
        if changed:
            problems.append((full, "changed", changed))
            before = after
    assert problems == []


def _own(command: str, old, new) -> bool:
    """Work a CSM may do over her own customers when she names none (a
    recalculation of her scope, a refresh of her journeys): it touches no
    row that names an out-of-scope customer's id."""
    if command not in ("recalc", "journeys tick", "alerts check", "playbooks evaluate", "tasks remind"):
        return False
    return not any(any(ext in row for ext in NOT_ANAS) for row in set(new) ^ set(old))


@pytest.mark.parametrize("user", ["ghost", "bo-off"])
def test_unknown_and_deactivated_users_get_nothing(run_cli, world, engine, user):
    if user == "bo-off":
        with engine.begin() as conn:
            conn.execute(sa.update(User).where(User.login == "bo").values(is_active=False))
        user = "bo"
    before = _fingerprint(engine)
    problems = []
    for command, args in {**READS, **WRITES}.items():
        if command in ANYONE:
            continue
        full = [*command.split(), *_args(args, world)]
        result = run_cli(*full, user=user)
        if result.exit_code != 3 or result.stdout.strip():
            problems.append((full, result.exit_code, result.stdout[-200:], result.stderr[-200:]))
    assert [(p[0], p[1]) for p in problems] == []
    assert _fingerprint(engine) == before
    assert json.dumps(before)  # the fingerprint itself is plain data


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_on_her_own_database_role_every_command_answers_as_through_cs(run_cli, world, login_role):
    """Connected as her own login role, where row-level security filters
    every table, ana gets from each read what cs gives her when the owner
    acts for her, and no command meets a row-level security error: a
    policy that refuses what cs does on her behalf (adding to the audit
    trail she may not read, say) shows here."""
    role, url = login_role()
    assert run_cli("users", "set", "ana", "--db-role", role).exit_code == 0
    own = {"CS_DATABASE_URL": url, "CS_USER": None}
    problems = []
    for command, args in READS.items():
        full = [*command.split(), *_args(args, world)]
        through_cs = run_cli(*full, user="ana")
        direct = run_cli(*full, env=own)
        if direct.exit_code != through_cs.exit_code or "unexpected" in direct.stderr:
            problems.append((full, through_cs.exit_code, direct.exit_code, direct.stderr[-300:]))
    for command, args in WRITES.items():
        if command.startswith(("db ", "users ", "demo")):
            continue  # the owner's and admins' work: refused (exit 3) either way
        full = [*command.split(), *_args(args, world)]
        direct = run_cli(*full, env=own)
        if direct.exit_code not in (0, 1, 2, 3, 4) or "unexpected" in direct.stderr:
            problems.append((full, direct.exit_code, direct.stderr[-300:]))
    assert problems == []
