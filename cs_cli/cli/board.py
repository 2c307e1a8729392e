"""`cs board`: the terminal board."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from cs_cli.cli import _runtime
from cs_cli.cli._options import AsOfOpt


class Scope(StrEnum):
    MINE = "mine"
    TEAM = "team"
    ALL = "all"


def board(
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
    as_of: AsOfOpt = None,
) -> None:
    """Open the board: your tasks as a kanban, Customer 360, risk alerts, the
    dashboard, the renewal pipeline and the team's workload, all from the
    keyboard (? lists the keys; the mouse works).

    Examples:

      cs board

      cs board --customer C-00107

      cs --user ana@example.com board --scope team
    """
    import sys

    from cs_cli.errors import BadInput, NotPermitted
    from cs_cli.services.customers import find_customer
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
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            raise BadInput("cs board needs a terminal; for scripts use `cs tasks list` and friends")
        BoardApp(
            db,
            scope=scope.value if scope else None,
            customer=customer,
            first_value_event=_runtime.STATE.settings().first_value_event,
            text_lexicon=_runtime.STATE.settings().text_lexicon,
        ).run()
    finally:
        engine.dispose()
