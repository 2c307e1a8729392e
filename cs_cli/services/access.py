"""Who is acting, and which customers they may see.

Every query over customer data applies `customer_scope(actor)`: a CSM sees the
customers they own, a manager their team's, an admin (and the system actor)
all of them.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import Customer, User
from cs_cli.domain import Actor, Role
from cs_cli.errors import NotPermitted


def resolve_actor(session: Session, name: str) -> Actor:
    """The active user named by login or email.

    On a database with no users yet, the person creating it becomes its first
    admin, so a fresh install needs no setup step.
    """
    if name == "system":
        return Actor.system()
    named = sa.select(User).where(sa.or_(User.login == name, sa.func.lower(User.email) == name.lower()))
    user = session.scalar(named)
    if user is None:
        if session.scalar(sa.select(sa.func.count()).select_from(User)) == 0:
            _add_first_admin(session, name)
        # Looked up again: two commands started together on a new database
        # both take this path, and only one of them creates the user.
        user = session.scalar(named)
        if user is None:
            raise NotPermitted(
                f"'{name}' is not a user of this database",
                hint="an admin can add you with `cs users add`, or set CS_USER to your login or email",
            )
    if not user.is_active:
        raise NotPermitted(f"user '{name}' is deactivated")
    return Actor(name=user.login or user.email, role=user.role, user_id=user.id, team_id=user.team_id)


def _add_first_admin(session: Session, name: str) -> None:
    """Create the first admin, unless another command just did (its insert
    wins the unique login; ours is undone alone, in a savepoint)."""
    try:
        with session.begin_nested():
            session.add(User(login=name, name=name, email=_placeholder_email(name), role=Role.ADMIN))
    except sa.exc.IntegrityError:
        pass


def _placeholder_email(login: str) -> str:
    return login if "@" in login else f"{login}@{PLACEHOLDER_DOMAIN}"


# The first admin is created from a login name alone; an import that brings
# the same login with a real email claims that user instead of clashing.
PLACEHOLDER_DOMAIN = "localhost"


def is_placeholder_email(email: str) -> bool:
    return email.endswith(f"@{PLACEHOLDER_DOMAIN}")


def customer_scope(actor: Actor) -> sa.ColumnElement[bool]:
    """The condition on `customers` that limits a query to what the actor may see."""
    if actor.role == Role.ADMIN:
        return sa.true()
    if actor.role == Role.MANAGER and actor.team_id is not None:
        team_members = sa.select(User.id).where(User.team_id == actor.team_id)
        return sa.or_(Customer.csm_id == actor.user_id, Customer.csm_id.in_(team_members))
    return Customer.csm_id == actor.user_id


def require_role(actor: Actor, *roles: Role, doing: str) -> None:
    if actor.role not in roles:
        allowed = " or ".join(r.value for r in roles)
        raise NotPermitted(f"{doing} needs the {allowed} role; {actor.name} is a {actor.role.value}")
