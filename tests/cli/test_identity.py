"""Who is acting, proven by the database on PostgreSQL: the cs user mapped
to the connecting role; acting as someone else is for admins and is
recorded as impersonation. On SQLite the name given is the actor (one
person's file)."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from cs_cli.db.models import AuditEntry

# Database login roles are PostgreSQL's; SQLite has none.
POSTGRES_ONLY = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)


@POSTGRES_ONLY
def test_a_mapped_role_is_its_user_and_cannot_act_as_another(run_cli, book, engine, login_role):
    role, url = login_role()
    assert run_cli("users", "set", "ana", "--db-role", role).exit_code == 0
    env = {"CS_DATABASE_URL": url}
    mine = run_cli("customers", "list", "-f", "json", user="ana", env=env)
    assert mine.exit_code == 0, mine.stderr
    assert {c["external_id"] for c in json.loads(mine.stdout)} == {"E-1", "E-2", "E-3"}
    # The name given does not matter when it is ana's; anyone else's is refused.
    for other in ("mia", "admin", "system"):
        refused = run_cli("customers", "list", user=other, env=env)
        assert refused.exit_code == 3, other
        assert f"database role {role} is ana; acting as '{other}' (--user, CS_USER) is for admins" in (
            refused.stderr
        )
        assert refused.stdout == ""
    schema = run_cli("db", "downgrade", "0011", "--yes", user="ana", env=env)
    assert schema.exit_code == 3
    assert "migrating the schema is for admins" in schema.stderr


@POSTGRES_ONLY
def test_a_mapped_role_needs_no_name(run_cli, book, login_role):
    """With no --user or CS_USER, the login name is only a default: the
    role's own user acts, whoever is logged in to the machine."""
    role, url = login_role()
    assert run_cli("users", "set", "ana", "--db-role", role).exit_code == 0
    mine = run_cli("customers", "list", "-f", "json", env={"CS_DATABASE_URL": url, "CS_USER": None})
    assert mine.exit_code == 0, mine.stderr
    assert {c["external_id"] for c in json.loads(mine.stdout)} == {"E-1", "E-2", "E-3"}


@POSTGRES_ONLY
def test_a_csm_on_her_own_role_adds_to_the_audit_trail_she_cannot_read(run_cli, book, engine, login_role):
    """Reads of customer data are audited: the entry goes in although
    row-level security keeps the trail out of her sight."""
    role, url = login_role()
    assert run_cli("users", "set", "ana", "--db-role", role).exit_code == 0
    env = {"CS_DATABASE_URL": url}
    shown = run_cli("customers", "show", "E-1", user="ana", env=env)
    assert shown.exit_code == 0, shown.stderr
    assert "E-1" in shown.stdout
    with engine.connect() as conn:
        entry = conn.execute(
            sa.select(AuditEntry.actor_name, AuditEntry.action).order_by(AuditEntry.seq.desc()).limit(1)
        ).one()
    assert tuple(entry) == ("ana", "read.customer")
    assert run_cli("audit", "list", user="ana", env=env).exit_code == 3


@POSTGRES_ONLY
def test_an_admin_may_act_as_another_and_it_is_recorded(run_cli, book, engine, login_role):
    role, url = login_role()
    assert run_cli("users", "set", "admin", "--db-role", role).exit_code == 0
    env = {"CS_DATABASE_URL": url}
    shown = run_cli("customers", "show", "E-1", user="ana", env=env)
    assert shown.exit_code == 0, shown.stderr
    as_admin = run_cli("customers", "show", "W-1", user="admin", env=env)
    assert as_admin.exit_code == 0, as_admin.stderr
    with engine.connect() as conn:
        reads = conn.execute(
            sa.select(AuditEntry.actor_name, AuditEntry.impersonated_by)
            .where(AuditEntry.action == "read.customer")
            .order_by(AuditEntry.seq)
        ).all()
    assert reads == [("ana", "admin"), ("admin", None)]
    assert run_cli("audit", "verify", env=env).exit_code == 0


@POSTGRES_ONLY
def test_an_unmapped_role_gets_nothing_and_the_owner_acts_as_anyone(run_cli, book, engine, login_role):
    role, url = login_role()
    refused = run_cli("customers", "list", user="admin", env={"CS_DATABASE_URL": url})
    assert refused.exit_code == 3
    assert f"database role '{role}' is not a cs user" in refused.stderr
    # The tests connect as the database's owner: its admin, acting as anyone.
    assert run_cli("customers", "show", "E-1", user="ana").exit_code == 0
    with engine.connect() as conn:
        who = conn.execute(
            sa.select(AuditEntry.actor_name, AuditEntry.impersonated_by).where(
                AuditEntry.action == "read.customer"
            )
        ).one()
    user = sa.engine.make_url(str(engine.url)).username
    assert who == ("ana", f"db:{user}")


@POSTGRES_ONLY
def test_a_deactivated_mapped_user_gets_nothing(run_cli, book, login_role):
    role, url = login_role()
    assert run_cli("users", "set", "bo", "--db-role", role, "--inactive").exit_code == 0
    refused = run_cli("customers", "list", user="bo", env={"CS_DATABASE_URL": url})
    assert refused.exit_code == 3
    assert "is deactivated" in refused.stderr


def test_users_set_changes_and_audits(run_cli, book, engine):
    result = run_cli("users", "set", "bo", "--role", "manager", "--team", "North", "-f", "json")
    assert result.exit_code == 0, result.stderr
    view = json.loads(result.stdout)[0]
    assert (view["role"], view["team"]) == ("manager", "North")
    with engine.connect() as conn:
        details = conn.scalar(sa.select(AuditEntry.details).where(AuditEntry.action == "user.changed"))
    assert details["role"] == {"from": "csm", "to": "manager"}
    assert details["team"]["to"] == "North"
    bad = run_cli("users", "set", "bo", "--db-role", "Bad Name")
    assert bad.exit_code == 2 and "is not a database role name" in bad.stderr
    nothing = run_cli("users", "set", "bo")
    assert nothing.exit_code == 2 and "say what to change" in nothing.stderr
    csm = run_cli("users", "set", "bo", "--role", "admin", user="ana")
    assert csm.exit_code == 3
    self_off = run_cli("users", "set", "admin", "--inactive")
    assert self_off.exit_code == 2 and "you cannot deactivate yourself" in self_off.stderr


@POSTGRES_ONLY
def test_row_level_security_holds_outside_cs(run_cli, book, engine, login_role):
    """A CSM with a SQL prompt of their own sees exactly their customers."""
    from cs_cli.db.engine import make_engine

    csm_role, csm_url = login_role()
    admin_role, admin_url = login_role()
    assert run_cli("users", "set", "ana", "--db-role", csm_role).exit_code == 0
    assert run_cli("users", "set", "admin", "--db-role", admin_role).exit_code == 0
    assert run_cli("customers", "show", "W-1").exit_code == 0  # an audit entry on bo's customer
    count = "SELECT count(*) FROM {}"
    csm = make_engine(csm_url)
    try:
        with csm.connect() as conn:
            customers = set(conn.exec_driver_sql("SELECT external_id FROM customers").scalars())
            assert customers == {"E-1", "E-2", "E-3"}
            assert conn.exec_driver_sql(count.format("cs_audit_log")).scalar() == 0
            # Contacts of ana's customers only (the book's other contacts are Mia's and Bo's).
            others = conn.exec_driver_sql(
                "SELECT count(*) FROM contacts WHERE customer_id NOT IN (SELECT id FROM customers)"
            ).scalar()
            assert others == 0
        with engine.connect() as conn:
            w1 = conn.exec_driver_sql("SELECT id FROM customers WHERE external_id = 'W-1'").scalar()
        with pytest.raises(sa.exc.DBAPIError, match="row-level security"), csm.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO nps_responses (external_id, customer_id, score, responded_at, created_at)"
                f" VALUES ('N-x', {w1}, 1, now(), now())"
            )
        with csm.begin() as conn:  # out of sight: nothing to change
            changed = conn.exec_driver_sql(f"UPDATE customers SET name = 'x' WHERE id = {w1}").rowcount
        assert changed == 0
    finally:
        csm.dispose()
    admin = make_engine(admin_url)
    try:
        with admin.connect() as conn:
            assert conn.exec_driver_sql(count.format("customers")).scalar() == 7
            assert conn.exec_driver_sql(count.format("cs_audit_log")).scalar() >= 3
    finally:
        admin.dispose()


def test_grant_db_is_for_admins_and_postgres(run_cli, book, db_url):
    refused = run_cli("users", "grant-db", "bo", "bo_role", user="ana")
    assert refused.exit_code == 3
    bad = run_cli("users", "grant-db", "bo", "Bo Role")
    assert bad.exit_code == 2 and "is not a database role name" in bad.stderr
    if not db_url.startswith("postgresql"):
        sqlite = run_cli("users", "grant-db", "bo", "bo_role")
        assert sqlite.exit_code == 2
        assert "database roles are PostgreSQL's" in sqlite.stderr


@POSTGRES_ONLY
def test_a_touchpoints_attendees_are_seen_with_it(run_cli, book, engine, login_role):
    """The attendees of a touchpoint (a table without a customer_id) pass
    row-level security with their touchpoint: ana sees those of her
    customer's meeting, bo none."""
    from cs_cli.db.engine import make_engine

    with engine.begin() as conn:
        e1 = conn.exec_driver_sql("SELECT id FROM customers WHERE external_id = 'E-1'").scalar()
        tp = conn.exec_driver_sql(
            "INSERT INTO cs_touchpoints (customer_id, touchpoint_type, subject, occurred_at, created_at)"
            f" VALUES ({e1}, 'meeting', 'Kickoff', now(), now()) RETURNING id"
        ).scalar()
        conn.exec_driver_sql(
            "INSERT INTO cs_touchpoint_attendees (touchpoint_id, contact_id)"
            f" SELECT {tp}, id FROM contacts WHERE customer_id = {e1}"
        )
    seen = {}
    for login in ("ana", "bo"):
        role, url = login_role()
        assert run_cli("users", "set", login, "--db-role", role).exit_code == 0
        other = make_engine(url)
        try:
            with other.connect() as conn:
                seen[login] = conn.exec_driver_sql("SELECT count(*) FROM cs_touchpoint_attendees").scalar()
        finally:
            other.dispose()
    assert seen == {"ana": 2, "bo": 0}


@POSTGRES_ONLY
def test_a_runtime_role_sees_and_writes_only_its_users_views(run_cli, book, engine, login_role):
    """board_views has no customer_id: row-level security on its user keeps
    each role to its own views; the role may save and delete them."""
    import datetime as dt

    from cs_cli.db.engine import make_engine, transaction
    from cs_cli.services.access import resolve_actor
    from cs_cli.services.tasks.board import BoardFilter
    from cs_cli.services.tasks.saved_views import save_view

    when = dt.datetime(2025, 1, 10, tzinfo=dt.UTC)
    with transaction(engine) as s:
        save_view(s, resolve_actor(s, "bo"), "Bo's", BoardFilter(), now=when)
    role, url = login_role()
    assert run_cli("users", "set", "ana", "--db-role", role).exit_code == 0
    other = make_engine(url)
    try:
        with transaction(other) as s:
            save_view(s, resolve_actor(s, "ana"), "Mine", BoardFilter(health="critical"), now=when)
        with other.connect() as conn:
            assert conn.exec_driver_sql("SELECT name FROM board_views").scalars().all() == ["Mine"]
            bo = conn.exec_driver_sql("SELECT id FROM api_users WHERE login = 'bo'").scalar()
        with pytest.raises(sa.exc.ProgrammingError, match="row-level security"), other.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO board_views (user_id, name, filters, created_at)"
                f" VALUES ({bo}, 'Planted', '{{}}', now())"
            )
    finally:
        other.dispose()
    env = {"CS_DATABASE_URL": url}
    listed = run_cli("board", "views", "list", "-f", "json", user="ana", env=env)
    assert listed.exit_code == 0, listed.stderr
    assert [v["name"] for v in json.loads(listed.stdout)] == ["Mine"]
    assert run_cli("board", "views", "delete", "Bo's", user="ana", env=env).exit_code == 4
    assert run_cli("board", "views", "delete", "Mine", user="ana", env=env).exit_code == 0
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT name FROM board_views").scalars().all() == ["Bo's"]
