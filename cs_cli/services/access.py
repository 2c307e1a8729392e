"""Who is acting, and which customers they may see.

Every query over customer data applies `customer_scope(actor)`: a CSM sees the
customers they own, a manager their team's, an admin (and the system actor)
all of them.
"""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import Customer, User
from cs_cli.domain import Actor, Role
from cs_cli.errors import NotPermitted


def resolve_actor(session: Session, name: str, *, given: bool = True) -> Actor:
    """Who is acting. On SQLite (one person's file): the active user named by
    login or email (`name`: --user, CS_USER, else the operating-system
    login). On PostgreSQL the connection proves it: the user mapped to the
    connecting database role (`db_role`) is the actor, and acting as anyone
    else is impersonation, for admins only, recorded in the audit trail; a
    connection as the database's owner (or a superuser) is its admin, who
    may act as any user. A role mapped to no user gets nothing.

    `given`: the name was asked for (--user, CS_USER, the config file), not
    the login name taken by default, which a mapped role's own user
    overrides: connecting as your role is being you, whoever you log in as.

    On a database with no users yet, the person creating it becomes its first
    admin, so a fresh install needs no setup step.
    """
    connected = _connected_role(session)
    if connected is None:
        return _named(session, name)
    role, owns_database = connected
    mapped = session.scalar(sa.select(User).where(User.db_role == role))
    if mapped is not None:
        if not mapped.is_active:
            raise NotPermitted(f"user '{mapped.login or mapped.email}' (database role {role}) is deactivated")
        real = _actor_of(mapped)
        named_self = name in (mapped.login, mapped.email) or name.lower() == mapped.email.lower()
        if not given or not name or named_self:
            return real
        if real.role != Role.ADMIN:
            raise NotPermitted(
                f"database role {role} is {real.name}; acting as '{name}' (--user, CS_USER) is for admins"
            )
        return dataclasses.replace(_named(session, name), impersonated_by=real.name)
    if owns_database:
        return dataclasses.replace(_named(session, name), impersonated_by=f"db:{role}")
    raise NotPermitted(
        f"database role '{role}' is not a cs user",
        hint="an admin maps it: cs users add EMAIL --db-role ROLE (docs/security.md)",
    )


def _connected_role(session: Session) -> tuple[str, bool] | None:
    """PostgreSQL: the role this session logged in as, and whether it owns
    the database (or belongs to its owner's role, or is a superuser). None
    on SQLite."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    row = session.execute(
        sa.text(
            "SELECT session_user, r.rolsuper OR pg_has_role(session_user, d.datdba, 'MEMBER')"
            " FROM pg_roles r, pg_database d"
            " WHERE r.rolname = session_user AND d.datname = current_database()"
        )
    ).one()
    return str(row[0]), bool(row[1])


def _named(session: Session, name: str) -> Actor:
    """The active user named by login or email (`system`: the built-in admin)."""
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
    return _actor_of(user)


def _actor_of(user: User) -> Actor:
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
