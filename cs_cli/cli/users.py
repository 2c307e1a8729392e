"""`cs users`: the people who work the book."""

from __future__ import annotations

from typing import Annotated

import typer

from cs_cli.cli import _runtime
from cs_cli.cli._options import FormatOpt
from cs_cli.cli._output import OutputFormat, dataclass_rows, emit_rows, message
from cs_cli.enums import NotifyPreference, Role

app = typer.Typer(help="Add and list users (CSMs, managers, admins).", no_args_is_help=True)

COLUMNS = ["id", "name", "email", "role", "team", "manager_email", "is_active", "db_role"]
DbRoleOpt = Annotated[
    str | None,
    typer.Option(
        "--db-role",
        metavar="ROLE",
        help="PostgreSQL: the database login role whose connections are this user (docs/security.md).",
    ),
]


@app.command("add")
def add(
    email: Annotated[str, typer.Argument(help="The user's email; also how they are named in files.")],
    name: Annotated[str | None, typer.Option(help="Full name (default: the login).")] = None,
    role: Annotated[Role, typer.Option(help="What they may see and do.")] = Role.CSM,
    team: Annotated[str | None, typer.Option(help="Team name; created if new.")] = None,
    manager: Annotated[str | None, typer.Option(help="Email or login of their manager.")] = None,
    login: Annotated[
        str | None, typer.Option(help="Login name that CS_USER matches (default: the email's local part).")
    ] = None,
    db_role: DbRoleOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Add a user. Admins only.

    Example:

      cs users add ana@example.com --name "Ana Ruiz" --role csm --team East
    """
    from cs_cli.services import users

    with _runtime.session() as (session, actor):
        view = users.add_user(
            session,
            actor,
            email=email,
            name=name,
            role=role,
            team=team,
            manager=manager,
            login=login,
            db_role=db_role,
        )
    emit_rows(dataclass_rows([view]), COLUMNS, fmt)
    message(f"added {view.role.value} {view.email}")


@app.command("set")
def set_(
    user: Annotated[str, typer.Argument(help="The user (email or login).", metavar="USER")],
    role: Annotated[Role | None, typer.Option(help="Their new role.")] = None,
    team: Annotated[str | None, typer.Option(help="Their team (created if new; '' for none).")] = None,
    manager: Annotated[str | None, typer.Option(help="Their manager (email or login; '' for none).")] = None,
    db_role: DbRoleOpt = None,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="Let them in, or deactivate them.")
    ] = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Change a user's role, team, manager, database role, or deactivate
    them. Admins only; each change is in the audit trail with its value
    before.

    Examples:

      cs users set ana@example.com --role manager --team East

      cs users set bo@example.com --inactive
    """
    from cs_cli.errors import BadInput
    from cs_cli.services import users

    if all(v is None for v in (role, team, manager, db_role, active)):
        raise BadInput("say what to change: --role, --team, --manager, --db-role, --active or --inactive")
    with _runtime.session() as (session, actor):
        view = users.update_user(
            session, actor, user, role=role, team=team, manager=manager, db_role=db_role, active=active
        )
    emit_rows(dataclass_rows([view]), COLUMNS, fmt)
    message(f"changed {view.email}")


@app.command("grant-db")
def grant_db(
    user: Annotated[str, typer.Argument(help="The user (email or login).", metavar="USER")],
    role: Annotated[
        str, typer.Argument(help="Their database login role (created if missing).", metavar="ROLE")
    ],
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """PostgreSQL: give a user a database login role of their own, with the
    privileges the tool needs at run time, and map it to them: connecting as
    it is being them, and row-level security shows it only their customers,
    here and at a SQL prompt alike. Admins only (creating a role needs
    CREATEROLE).

    Example: cs users grant-db ana@example.com ana
    """
    from cs_cli.services import users

    with _runtime.session() as (session, actor):
        view, created = users.grant_database_role(session, actor, user, role)
    emit_rows(dataclass_rows([view]), COLUMNS, fmt)
    message(
        f"{'created' if created else 'granted'} database role {view.db_role} for {view.email}"
        "; set how it logs in (a password, a certificate) in PostgreSQL"
    )


@app.command("list")
def list_(fmt: FormatOpt = OutputFormat.TABLE) -> None:
    """List every user with role, team and manager."""
    from cs_cli.services import users

    with _runtime.session() as (session, actor):
        rows = users.list_users(session, actor)
    emit_rows(dataclass_rows(rows), COLUMNS, fmt)


@app.command("set-notify")
def set_notify(
    preference: Annotated[
        NotifyPreference,
        typer.Argument(
            help="immediate: an email per new risk alert; daily_digest: one email a day listing "
            "the day's alerts; none: no alert emails and no task reminders."
        ),
    ],
    user: Annotated[
        str | None, typer.Option(help="Whose preference (admins; default: yours).", metavar="USER")
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option(
            help="Your time zone (e.g. Europe/Paris): when your digest's day begins.", metavar="ZONE"
        ),
    ] = None,
) -> None:
    """Choose how you hear of risk alerts on your customers and of your due
    tasks. Task reminders (`cs tasks remind`) come once a day unless you choose none.

    Example: cs users set-notify daily_digest --timezone America/New_York
    """
    from cs_cli.services import users

    with _runtime.session() as (session, actor):
        email, chosen, zone = users.set_notify(session, actor, preference, user=user, timezone=timezone)
    message(f"{email}: notifications {chosen.value}" + (f", time zone {zone}" if zone else ""))
