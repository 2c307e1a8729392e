"""Shell completion of values, not only of commands: customer ids, people,
segment, playbook and journey names, read from the database as the user
sees it (a CSM completes their own customers).

Completion is attached by parameter name, once for the whole command tree
(`attach`), so a new command with a `customer` argument completes customer
ids without a word. A completion never prints and never fails: no database,
no completions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_LIMIT = 50


def _query(build: Callable[[Any, Any, str], Any], incomplete: str) -> list[tuple[str, str]]:
    try:
        from cs_cli.cli import _runtime

        with _runtime.session(create_if_empty=False) as (session, actor):
            return [
                (str(value), str(help or ""))
                for value, help in session.execute(build(actor, session, incomplete))
            ]
    except Exception:  # a shell completing must never see an error
        return []


def customers(incomplete: str) -> list[tuple[str, str]]:
    import sqlalchemy as sa

    from cs_cli.db.models import Customer
    from cs_cli.services.access import customer_scope

    def build(actor, session, text):
        return (
            sa.select(Customer.external_id, Customer.name)
            .where(customer_scope(actor), Customer.external_id.startswith(text, autoescape=True))
            .order_by(Customer.external_id)
            .limit(_LIMIT)
        )

    return _query(build, incomplete)


def _named(model_name: str, value: str, help: str, *where: str) -> Callable[[str], list[tuple[str, str]]]:
    """Completion by a column's prefix: `value` completed, `help` beside it;
    `where` names boolean columns that must be true (active users)."""

    def complete(incomplete: str) -> list[tuple[str, str]]:
        import sqlalchemy as sa

        from cs_cli.db import models

        model = getattr(models, model_name)
        column = getattr(model, value)

        def build(actor, session, text):
            return (
                sa.select(column, getattr(model, help))
                .where(column.startswith(text, autoescape=True), *(getattr(model, w) for w in where))
                .order_by(column)
                .limit(_LIMIT)
            )

        return _query(build, incomplete)

    return complete


users = _named("User", "email", "name", "is_active")
segments = _named("Segment", "name", "description")
playbooks = _named("Playbook", "key", "name")
journeys = _named("Journey", "key", "name")


def rule_fields(incomplete: str) -> list[tuple[str, str]]:
    """The fields rules and scorecards read (no database needed)."""
    from cs_cli.rules.fields import FIELDS

    return [(name, f.help) for name, f in FIELDS.items() if name.startswith(incomplete)]


# Which values a parameter completes, by its name (and, for `key`, by the
# group it is in).
_BY_NAME: dict[str, Callable[[str], list[tuple[str, str]]]] = {
    "customer": customers,
    "customers": customers,
    "csm": users,
    "assignee": users,
    "user": users,
    "segment": segments,
    "segments": segments,
    "playbook": playbooks,
    "journey": journeys,
    "field": rule_fields,
}
_KEY_BY_GROUP = {"playbooks": playbooks, "journeys": journeys}


def attach(command, path: tuple[str, ...] = ()) -> None:
    """Give every parameter of the tree that names one of these things its completion."""
    for param in getattr(command, "params", ()):
        complete = _BY_NAME.get(param.name or "")
        if param.name == "key" and path:
            complete = _KEY_BY_GROUP.get(path[0])
        if complete is not None and getattr(param, "_custom_shell_complete", None) is None:
            param._custom_shell_complete = _items(complete)
    for name, sub in getattr(command, "commands", {}).items():
        attach(sub, (*path, name))


def _items(complete: Callable[[str], list[tuple[str, str]]]):
    def shell_complete(ctx, param, incomplete: str):
        from typer._click.shell_completion import CompletionItem

        from cs_cli.cli import _runtime

        # The root command's callback does not run while completing: take
        # --user and --database-url from the line as it would.
        root = ctx.find_root().params
        flags = {k: root[k] for k in ("database_url", "user") if root.get(k) is not None}
        _runtime.reset(flags, debug=False)
        return [CompletionItem(value, help=help or None) for value, help in complete(incomplete)]

    return shell_complete
