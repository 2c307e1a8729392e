"""The audit trail: what commands record, the hash chain and its
verification, who may read it, and the schema commands that would drop it."""

from __future__ import annotations

import itertools
import json
import threading

import pytest
import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.migrate import SCHEMA_REVISION
from cs_cli.db.models import AuditEntry, AuditHead
from cs_cli.domain import Actor, Role
from cs_cli.services.audit import audit, audit_many, verify


def _entries(engine) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(AuditEntry.__table__).order_by(AuditEntry.seq)).all()
    return [dict(r._mapping) for r in rows]


def _tamper(engine, statement: str) -> None:
    """Change the log behind cs's back: on PostgreSQL only a superuser can,
    in replica mode (the trigger refuses anyone else)."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        conn.exec_driver_sql(statement)


def test_commands_leave_a_chained_trail(run_cli, book, engine, tmp_path):
    assert run_cli("users", "add", "zoe@example.com", "--role", "manager", "--team", "North").exit_code == 0
    shown = run_cli("customers", "show", "E-1", user="ana")
    assert shown.exit_code == 0, shown.stderr
    path = tmp_path / "customers.csv"
    path.write_text("external_id,name,arr\nN-1,New Co,1000\n")
    assert run_cli("import", "customers", path).exit_code == 0
    assert run_cli("recalc").exit_code == 0
    entries = _entries(engine)
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    actions = [e["action"] for e in entries]
    assert actions[:3] == ["team.added", "user.added", "read.customer"]
    assert "import.customers" in actions and "health.recalculated" in actions
    added = entries[1]
    assert added["details"]["role"] == "manager" and added["details"]["team"] == "North"
    assert added["command"] == "cs users add zoe@example.com --role manager --team North"
    read = entries[2]
    assert (read["actor_name"], read["entity_type"], read["command"]) == (
        "ana",
        "customer",
        "cs customers show E-1",
    )
    imported = next(e for e in entries if e["action"] == "import.customers")
    assert (imported["details"]["read"], imported["details"]["created"]) == (1, 1)
    # Each entry's hash follows the one before.
    assert entries[0]["prev_hash"] == "0" * 64
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(entries))
    result = run_cli("audit", "verify")
    assert result.exit_code == 0, result.stderr
    assert f"the audit chain holds: {len(entries)} entries" in result.stderr


def test_verify_names_the_entry_edited_or_deleted(run_cli, book, engine):
    for email in ("a1@example.com", "a2@example.com", "a3@example.com"):
        assert run_cli("users", "add", email).exit_code == 0
    _tamper(engine, "UPDATE cs_audit_log SET actor_name = 'mallory' WHERE seq = 2")
    edited = run_cli("audit", "verify")
    assert edited.exit_code == 1
    assert (
        "breaks at entry 2 after 1 good entries: its content does not match its hash: edited" in edited.stderr
    )
    _tamper(engine, "UPDATE cs_audit_log SET actor_name = 'admin' WHERE seq = 2")
    assert run_cli("audit", "verify").exit_code == 0
    _tamper(engine, "DELETE FROM cs_audit_log WHERE seq = 2")
    deleted = run_cli("audit", "verify")
    assert deleted.exit_code == 1
    assert "entries 2 to 2 missing: deleted" in deleted.stderr


# The append-only trigger is PostgreSQL's; on SQLite the chain is the protection.
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_the_log_refuses_changes_on_postgres(run_cli, book, engine):
    assert run_cli("users", "add", "a1@example.com").exit_code == 0
    for statement in (
        "UPDATE cs_audit_log SET actor_name = 'mallory'",
        "DELETE FROM cs_audit_log",
        "TRUNCATE cs_audit_log",
    ):
        with (
            pytest.raises(sa.exc.DBAPIError, match="the audit log is append-only"),
            engine.begin() as conn,
        ):
            conn.exec_driver_sql(statement)
    assert len(_entries(engine)) == 1


def test_writers_take_turns_on_the_chain(book, engine):
    """Two writers at once: every entry follows exactly one other."""
    actor = Actor(name="admin", role=Role.ADMIN, user_id=None)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(15):
                with transaction(engine) as session:
                    audit(session, actor, "test.write", "test", f"{n}-{i}", at=_now())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with transaction(engine) as session:
        checked, broken = verify(session)
        head = session.scalar(sa.select(AuditHead.seq))
    assert (checked, broken, head) == (30, None, 30)


def _now():
    import datetime as dt

    return dt.datetime.now(dt.UTC)


def test_only_admins_read_the_trail(run_cli, book):
    assert run_cli("users", "add", "a1@example.com").exit_code == 0
    for command in (("audit", "list"), ("audit", "verify"), ("audit", "export"), ("audit", "show", "1")):
        refused = run_cli(*command, user="mia")
        assert refused.exit_code == 3, command
        assert "the audit trail is for admins" in refused.stderr
        assert refused.stdout == ""


def test_list_filters_and_exports_every_entry(run_cli, book, engine):
    with transaction(engine) as session:
        entries = [("user.added", "user", n, None, {"n": n}) for n in range(60)]
        audit_many(session, Actor(name="admin", role=Role.ADMIN), entries, at=_now())
    assert run_cli("customers", "show", "W-1").exit_code == 0
    page = run_cli("audit", "list", env={"COLUMNS": "80"})
    assert page.exit_code == 0, page.stderr
    assert all(len(line) <= 80 for line in page.stdout.splitlines())
    assert "1-50 of 61 entries" in page.stderr
    every = json.loads(run_cli("audit", "list", "--format", "json").stdout)
    assert len(every) == 61 and every[0]["seq"] == 61
    assert [
        e["action"] for e in json.loads(run_cli("audit", "list", "--customer", "W-1", "-f", "json").stdout)
    ] == ["read.customer"]
    users = json.loads(run_cli("audit", "list", "--action", "user.", "-f", "json").stdout)
    assert len(users) == 60
    exported = run_cli("audit", "export")
    assert exported.exit_code == 0, exported.stderr
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    assert [e["seq"] for e in lines] == list(range(1, 62))
    assert lines[0]["prev_hash"] == "0" * 64 and lines[1]["prev_hash"] == lines[0]["hash"]
    assert "exported 61 audit entries" in exported.stderr
    shown = run_cli("audit", "show", "61", "-f", "json")
    assert json.loads(shown.stdout)["customer"] == "W-1"
    missing = run_cli("audit", "show", "999")
    assert missing.exit_code == 4 and "no audit entry 999" in missing.stderr


def test_going_to_base_needs_an_export_and_an_admin(run_cli, book, engine, tmp_path):
    assert run_cli("users", "add", "a1@example.com").exit_code == 0
    refused = run_cli("db", "downgrade", "base", "--yes")
    assert refused.exit_code == 2
    assert "going to base drops the audit trail: export it first" in refused.stderr
    not_admin = run_cli(
        "db", "downgrade", "base", "--yes", "--audit-export", tmp_path / "a.jsonl", user="ana"
    )
    assert not_admin.exit_code == 3
    assert "is for admins" in not_admin.stderr
    with engine.connect() as conn:
        assert sa.inspect(conn).has_table("cs_audit_log")
    path = tmp_path / "audit.jsonl"
    try:
        done = run_cli("db", "downgrade", "base", "--yes", "--audit-export", path)
        assert done.exit_code == 0, done.stderr
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        assert [e["action"] for e in lines] == ["user.added", "schema.downgraded"]
        assert lines[1]["details"] == {"from": SCHEMA_REVISION, "to": "base", "audit_export": str(path)}
        with engine.connect() as conn:
            assert not sa.inspect(conn).has_table("cs_audit_log")
    finally:
        # The database is shared by the tests that follow: whole again.
        assert run_cli("db", "upgrade").exit_code == 0


def test_demo_reset_keeps_the_trail(run_cli, admin, engine):
    assert run_cli("users", "add", "a1@example.com").exit_code == 0
    assert run_cli("demo", "--customers", "5", "--months", "2").exit_code == 0
    assert run_cli("demo", "--customers", "5", "--months", "2", "--reset", "--yes").exit_code == 0
    actions = [e["action"] for e in _entries(engine)]
    assert actions[0] == "user.added"
    assert actions.count("demo.loaded") == 2
    assert run_cli("audit", "verify").exit_code == 0
