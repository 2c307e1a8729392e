"""`cs db`: create and migrate the database schema."""

from __future__ import annotations

from typing import Annotated

import typer

from cs_cli.cli import _runtime
from cs_cli.cli._options import YesOpt, confirm_or_abort
from cs_cli.cli._output import message

app = typer.Typer(help="Create, migrate and inspect the database schema.", no_args_is_help=True)


def _engine():
    from cs_cli.db.engine import check_connection, make_engine

    eng = make_engine(_runtime.STATE.settings().database_url)
    check_connection(eng)
    return eng


def _where() -> str:
    from cs_cli.db.engine import describe, parse_url

    return describe(parse_url(_runtime.STATE.settings().database_url))


@app.command()
def upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Create the schema or migrate it up to REVISION (default: the newest).

    Safe to run on every deploy: a database that is already current is left alone.
    On a new database, the user running this becomes its first admin.
    """
    from cs_cli.db import migrate
    from cs_cli.db.engine import transaction

    eng = _engine()
    _require_admin(eng, "migrating the schema")
    before, after = migrate.upgrade(eng, revision)
    if before is not None and after != before and after == migrate.SCHEMA_REVISION:
        _record(eng, "schema.upgraded", {"from": before, "to": after})
    if before is None and after is not None:
        with transaction(eng) as session:
            actor = _runtime.resolve(session)
        message(f"created the cs schema (revision {after}) in {_where()}; {actor.name} is its first admin")
    elif before == after:
        message(f"{_where()} is already at revision {after}")
    else:
        message(f"migrated {_where()} from revision {before} to {after}")


@app.command()
def downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, or 'base' to remove every table.")],
    audit_export: Annotated[
        str | None,
        typer.Option(
            "--audit-export",
            metavar="FILE",
            help="Write the whole audit trail here (JSON lines) first: needed to go to base.",
        ),
    ] = None,
    yes: YesOpt = False,
) -> None:
    """Migrate the schema down to REVISION. Data in dropped tables is lost.
    Admins only. Going to base drops the audit trail too, so it needs
    --audit-export FILE first (cs audit export reads the same).

    Example: cs db downgrade base --audit-export audit.jsonl --yes
    """
    from cs_cli.db import migrate
    from cs_cli.errors import BadInput

    eng = _engine()
    _require_admin(eng, "migrating the schema")
    current = migrate.current_revision(eng)
    if revision == "base" and current is not None and audit_export is None and _audit_entries(eng):
        raise BadInput(
            "going to base drops the audit trail: export it first",
            hint=f"cs db downgrade base --audit-export FILE{' --yes' if yes else ''}",
        )
    confirm_or_abort(f"downgrading {_where()} to {revision} loses the data in dropped tables", yes)
    if current == migrate.SCHEMA_REVISION:
        _record(eng, "schema.downgraded", {"from": current, "to": revision, "audit_export": audit_export})
        if audit_export:
            count = _export_audit(eng, audit_export)
            message(f"wrote {count:,} audit entries to {audit_export}")
    before, after = migrate.downgrade(eng, revision)
    message(f"downgraded {_where()} from revision {before} to {after or 'base (empty)'}")


@app.command()
def current() -> None:
    """Print the schema revision of the database and whether it is current."""
    from cs_cli.db import migrate

    revision = migrate.current_revision(_engine())
    state = (
        "current"
        if revision == migrate.SCHEMA_REVISION
        else "no schema; run `cs db upgrade`"
        if revision is None
        else "a revision this version of cs does not know; upgrade cs"
        if revision not in migrate.known_revisions()
        else f"behind: this cs needs {migrate.SCHEMA_REVISION}; run `cs db upgrade`"
    )
    typer.echo(revision or "none")
    message(f"{_where()}: {state}")


def _require_admin(eng, doing: str) -> None:
    """Schema commands are for admins (a database without users yet: its
    creator is about to become one). On a current schema the actor is who
    every command's actor is (services/access.py); on an older one, read
    with plain SQL: the user named, or on PostgreSQL the database's owner."""
    import sqlalchemy as sa

    from cs_cli.db import migrate
    from cs_cli.errors import NotPermitted

    name = _runtime.STATE.settings().user
    if migrate.current_revision(eng) == migrate.SCHEMA_REVISION:
        from cs_cli.db.engine import transaction
        from cs_cli.domain import Role

        with transaction(eng) as session:
            actor = _runtime.resolve(session)
        if actor.role != Role.ADMIN:
            raise NotPermitted(f"{doing} is for admins; '{actor.name}' is not one")
        return
    with eng.connect() as conn:
        if not sa.inspect(conn).has_table("api_users"):
            return
        if not conn.execute(sa.text("SELECT count(*) FROM api_users")).scalar():
            return
        if (
            eng.dialect.name == "postgresql"
            and conn.execute(
                sa.text(
                    "SELECT r.rolsuper OR pg_has_role(session_user, d.datdba, 'MEMBER')"
                    " FROM pg_roles r, pg_database d"
                    " WHERE r.rolname = session_user AND d.datname = current_database()"
                )
            ).scalar()
        ):
            return
        if name == "system" and eng.dialect.name != "postgresql":
            return
        role = conn.execute(
            sa.text(
                "SELECT role FROM api_users"
                " WHERE is_active AND (login = :name OR lower(email) = lower(:name))"
            ),
            {"name": name},
        ).scalar()
    if role != "admin":
        raise NotPermitted(f"{doing} is for admins; '{name}' is not one")


def _audit_entries(eng) -> int:
    import sqlalchemy as sa

    with eng.connect() as conn:
        if not sa.inspect(conn).has_table("cs_audit_log"):
            return 0
        return conn.execute(sa.text("SELECT count(*) FROM cs_audit_log")).scalar() or 0


def _record(eng, action: str, details: dict) -> None:
    """An audit entry for a schema change, in a transaction of its own."""
    from cs_cli.db.base import utcnow
    from cs_cli.db.engine import transaction
    from cs_cli.services.audit import COMMAND, audit

    COMMAND.set(_runtime.COMMAND_LINE)
    with transaction(eng) as session:
        actor = _runtime.resolve(session)
        audit(session, actor, action, "schema", None, at=utcnow(), details=details)


def _export_audit(eng, path: str) -> int:
    """The whole audit trail as JSON lines at `path`, streamed into a file
    beside it and renamed into place."""
    import io

    from cs_cli.cli._output import replacing_file
    from cs_cli.db.engine import transaction
    from cs_cli.services.audit_log import AuditFilter, every_entry, write_export

    with transaction(eng) as session, replacing_file(path) as raw:
        actor = _runtime.resolve(session)
        text = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)
        count = write_export(text, every_entry(session, actor, AuditFilter()), "jsonl")
        text.detach()
    return count
