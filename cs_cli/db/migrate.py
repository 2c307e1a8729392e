"""Schema migrations: Alembic driven from cs, and the schema check every
command makes before it touches data."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cs_cli import paths
from cs_cli.db.dialect import take_turn
from cs_cli.errors import BadInput, SchemaOutOfDate

# The revision this version of cs was written for. A test checks that it is
# the head of migrations/, so this stays cheap to check on every command
# (no need to load Alembic's script directory just to compare).
SCHEMA_REVISION = "0020"


def alembic_config(connection: Connection | None = None):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(paths.migrations_dir()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return _revision(conn)


def is_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return not sa.inspect(conn).get_table_names()


def known_revisions() -> list[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in script.walk_revisions()]


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Migrate up to `revision`; returns (before, after)."""
    from alembic import command
    from alembic.util import CommandError

    try:
        with _migrating(engine) as conn:
            # Two upgrades at once (a deploy on two machines): the second
            # waits, then finds the schema current.
            take_turn(conn, "cs db upgrade")
            before = _revision(conn)
            if before is not None and before not in known_revisions():
                raise _unknown_revision(before)
            command.upgrade(alembic_config(conn), revision)
            _check_foreign_keys(conn)
    except CommandError as exc:
        raise BadInput(f"cannot upgrade to {revision!r}: {exc}") from None
    return before, current_revision(engine)


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """A transaction to migrate in. On SQLite with foreign keys off: batch
    mode rebuilds a table by copying it and dropping the old one, and with
    them on, that drop deletes (ON DELETE CASCADE) every row that points at
    the table, such as a touchpoint's attendees. The pragma only takes
    effect outside a transaction, so it is set on the driver's connection
    before one begins, and set back after."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        driver = conn.connection.driver_connection
        if sqlite:
            driver.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                yield conn
        finally:
            if sqlite:
                driver.execute("PRAGMA foreign_keys=ON")


def _check_foreign_keys(conn: Connection) -> None:
    """SQLite: with foreign keys off while migrating, make sure the result
    still holds them (a row pointing nowhere rolls the migration back)."""
    if conn.dialect.name != "sqlite":
        return
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").first()
    if broken is not None:
        raise SchemaOutOfDate(f"the migration would leave a row of {broken[0]} pointing at no {broken[2]}")


def _revision(conn: Connection) -> str | None:
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def _unknown_revision(revision: str) -> SchemaOutOfDate:
    return SchemaOutOfDate(
        f"the database schema is at revision {revision}, which this version of cs does not know",
        hint="upgrade cs to the version that migrated this database",
    )


def downgrade(engine: Engine, revision: str) -> tuple[str | None, str | None]:
    """Migrate down to `revision` ("base" removes every table)."""
    from alembic import command
    from alembic.util import CommandError

    try:
        with _migrating(engine) as conn:
            take_turn(conn, "cs db upgrade")
            before = _revision(conn)
            command.downgrade(alembic_config(conn), revision)
            _check_foreign_keys(conn)
    except CommandError as exc:
        raise BadInput(f"cannot downgrade to {revision!r}: {exc}") from None
    return before, current_revision(engine)


def ensure_schema(engine: Engine, *, create_if_empty: bool) -> bool:
    """Raise SchemaOutOfDate unless the schema is at SCHEMA_REVISION.

    With `create_if_empty`, an empty database gets the schema created instead
    (the embedded default is created on first use). Returns True when it was.
    """
    revision = current_revision(engine)
    if revision == SCHEMA_REVISION:
        return False
    if revision is None:
        if create_if_empty and is_empty(engine):
            upgrade(engine)
            return True
        raise SchemaOutOfDate("the database has no cs schema", hint="run `cs db upgrade` to create it")
    if revision not in known_revisions():
        raise _unknown_revision(revision)
    raise SchemaOutOfDate(
        f"the database schema is at revision {revision}, this cs needs {SCHEMA_REVISION}",
        hint="run `cs db upgrade`",
    )
