"""A part of the book a person looks at: their own accounts ("mine"), their
team's ("team"), or all they may see ("all"). Always narrower than, or
equal to, what access allows (customer_scope)."""

from __future__ import annotations

import sqlalchemy as sa

from cs_cli.db.models import CSTask, Customer, User
from cs_cli.domain import Actor
from cs_cli.errors import BadInput
from cs_cli.services.access import customer_scope
from cs_cli.services.tasks.selection import task_scope

SCOPES = ("mine", "team", "all")


def _check(scope: str) -> None:
    if scope not in SCOPES:
        raise BadInput(f"a scope is one of {', '.join(SCOPES)}, not '{scope}'")


def _team(actor: Actor) -> sa.Select:
    return sa.select(User.id).where(User.team_id == actor.team_id)


def customers_in(actor: Actor, scope: str) -> sa.ColumnElement[bool]:
    """The condition on `customers` for a scope: the accounts the actor owns,
    their team's, or all they may see."""
    _check(scope)
    allowed = customer_scope(actor)
    if scope == "all":
        return allowed
    if scope == "team" and actor.team_id is not None:
        return sa.and_(allowed, Customer.csm_id.in_(_team(actor)))
    return sa.and_(allowed, Customer.csm_id == actor.user_id)


def tasks_in(actor: Actor, scope: str) -> sa.ColumnElement[bool]:
    """The condition on `cs_tasks` for a scope: the tasks assigned to the
    actor, to their team, or all the tasks they may see."""
    _check(scope)
    if scope == "all":
        return task_scope(actor)
    if scope == "team" and actor.team_id is not None:
        return sa.and_(task_scope(actor), CSTask.assigned_to_user_id.in_(_team(actor)))
    return CSTask.assigned_to_user_id == actor.user_id
