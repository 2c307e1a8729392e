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
    from cs_cli.services.access import resolve_actor

    eng = _engine()
    before, after = migrate.upgrade(eng, revision)
    if before is None and after is not None:
        with transaction(eng) as session:
            actor = resolve_actor(session, _runtime.STATE.settings().user)
        message(f"created the cs schema (revision {after}) in {_where()}; {actor.name} is its first admin")
    elif before == after:
        message(f"{_where()} is already at revision {after}")
    else:
        message(f"migrated {_where()} from revision {before} to {after}")


@app.command()
def downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, or 'base' to remove every table.")],
    yes: YesOpt = False,
) -> None:
    """Migrate the schema down to REVISION. Data in dropped tables is lost."""
    from cs_cli.db import migrate

    eng = _engine()
    confirm_or_abort(f"downgrading {_where()} to {revision} loses the data in dropped tables", yes)
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
