"""`cs board`: the terminal board, and `cs board views` for the views saved
in it."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from cs_cli.cli import _runtime
from cs_cli.cli._options import AsOfOpt, FormatOpt, now
from cs_cli.cli._output import OutputFormat, emit_rows, message

app = typer.Typer(
    invoke_without_command=True,
    help="""Open the board: your tasks as a kanban, Customer 360, risk alerts, the
dashboard, the renewal pipeline and the team's workload, all from the
keyboard (? lists the keys; the mouse works).

Examples:

  cs board

  cs board --customer C-00107

  cs board --view renewals

  cs --user ana@example.com board --scope team

  cs board views list""",
)
views_app = typer.Typer(
    help="""The views of the task board you saved (key v on the board): a name
and the filters and scope it shows.""",
    no_args_is_help=True,
)
app.add_typer(views_app, name="views")


class Scope(StrEnum):
    MINE = "mine"
    TEAM = "team"
    ALL = "all"


@app.callback()
def board(
    ctx: typer.Context,
    scope: Annotated[
        Scope | None,
        typer.Option(
            help="Whose tasks: mine, team or all.",
            show_default="mine for a CSM, team for a manager, all for an admin",
        ),
    ] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", "-c", help="Open this customer's 360 first.", metavar="ID")
    ] = None,
    view: Annotated[
        str | None,
        typer.Option(
            "--view", help="Start the task board on this saved view (cs board views list).", metavar="NAME"
        ),
    ] = None,
    as_of: AsOfOpt = None,
) -> None:
    if ctx.invoked_subcommand is not None:
        return
    import sys

    from cs_cli.errors import BadInput, NotPermitted
    from cs_cli.services.customers import find_customer
    from cs_cli.services.tasks.saved_views import find_view
    from cs_cli.tui.app import BoardApp, allowed_scopes
    from cs_cli.tui.data import Database

    engine = _runtime.engine()
    settings = _runtime.STATE.settings()
    try:
        db = Database(engine, settings.user, as_of=as_of, user_given=settings.user_given)
        actor = db.connect()
        # Wrong input is said before anything is drawn, with its exit code.
        if scope is not None and scope.value not in allowed_scopes(actor.role):
            raise NotPermitted(f"--scope {scope.value} is not open to a {actor.role.value}")
        if customer is not None:
            ref = customer
            customer = db.call(lambda session, actor: find_customer(session, actor, ref).external_id)
        saved = None
        if view is not None:
            saved = db.call(find_view, view)
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            raise BadInput("cs board needs a terminal; for scripts use `cs tasks list` and friends")
        BoardApp(
            db,
            scope=scope.value if scope else None,
            customer=customer,
            view=saved,
            poll=settings.board_poll,
            first_value_event=settings.first_value_event,
            text_lexicon=settings.text_lexicon,
        ).run()
    finally:
        engine.dispose()


@views_app.command("list")
def list_(fmt: FormatOpt = OutputFormat.TABLE) -> None:
    """List your saved views: name, the filters in words, when saved."""
    from cs_cli.services.tasks.saved_views import list_views

    with _runtime.session() as (session, actor):
        views = list_views(session, actor)
    if fmt == OutputFormat.TABLE:
        rows = (
            {"name": v.name, "filters": v.described, "saved": v.updated_at or v.created_at} for v in views
        )
        emit_rows(rows, ["name", "filters", "saved"], fmt)
        if not views:
            message("no saved views yet: on the board, set filters and press v to save them")
        return
    rows = (
        {
            "name": v.name,
            "filters": v.filters,
            "described": v.described,
            "created_at": v.created_at,
            "updated_at": v.updated_at,
        }
        for v in views
    )
    emit_rows(rows, ["name", "filters", "described", "created_at", "updated_at"], fmt)


@views_app.command()
def delete(name: Annotated[str, typer.Argument(help="The view's name.")]) -> None:
    """Delete one of your saved views."""
    from cs_cli.services.tasks.saved_views import delete_view

    with _runtime.session() as (session, actor):
        view = delete_view(session, actor, name, now=now(None))
    message(f"deleted view '{view.name}'")
