"""Users and teams."""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from cs_cli.db.base import utcnow
from cs_cli.db.models import Team, User
from cs_cli.domain import Actor, NotifyPreference, Role, UserView
from cs_cli.errors import BadInput, NotFound
from cs_cli.services.access import require_role
from cs_cli.services.audit import audit


def get_or_create_team(session: Session, name: str, actor: Actor | None = None) -> Team:
    team = session.scalar(sa.select(Team).where(Team.name == name))
    if team is None:
        team = Team(name=name)
        session.add(team)
        session.flush()
        if actor is not None:
            audit(session, actor, "team.added", "team", team.id, at=utcnow(), details={"name": name})
    return team


def find_user(session: Session, ref: str) -> User:
    user = session.scalar(
        sa.select(User).where(sa.or_(sa.func.lower(User.email) == ref.lower(), User.login == ref))
    )
    if user is None:
        raise NotFound(f"no user '{ref}'")
    return user


def add_user(
    session: Session,
    actor: Actor,
    *,
    email: str,
    name: str | None = None,
    role: Role = Role.CSM,
    team: str | None = None,
    manager: str | None = None,
    login: str | None = None,
    db_role: str | None = None,
) -> UserView:
    """Create a user (admins only); the team is created if it is new.
    `db_role`: the PostgreSQL login role whose connections are this user."""
    require_role(actor, Role.ADMIN, doing="adding users")
    if "@" not in email:
        raise BadInput(f"'{email}' is not an email address")
    login = login or email.split("@", 1)[0]
    clash = session.scalar(
        sa.select(User).where(sa.or_(sa.func.lower(User.email) == email.lower(), User.login == login))
    )
    if clash is not None:
        raise BadInput(f"a user with email {email} or login {login} already exists")
    manager_user = find_user(session, manager) if manager else None
    team_row = get_or_create_team(session, team, actor) if team else None
    user = User(
        email=email,
        login=login,
        name=name or login,
        role=role,
        team_id=team_row.id if team_row else (manager_user.team_id if manager_user else None),
        manager_id=manager_user.id if manager_user else None,
        db_role=_db_role(session, db_role),
    )
    session.add(user)
    session.flush()
    view = _view(session, user.id)
    audit(
        session,
        actor,
        "user.added",
        "user",
        user.id,
        at=utcnow(),
        details={
            "email": email,
            "login": login,
            "role": Role(role).value,
            "team": view.team,
            "manager": manager,
            "db_role": view.db_role,
        },
    )
    return view


def update_user(
    session: Session,
    actor: Actor,
    ref: str,
    *,
    role: Role | None = None,
    team: str | None = None,
    manager: str | None = None,
    db_role: str | None = None,
    active: bool | None = None,
) -> UserView:
    """Change a user's role, team, manager, database role or whether they
    are active (admins only); each change is audited with its value before.
    An empty `db_role` or `manager` removes it."""
    require_role(actor, Role.ADMIN, doing="changing users")
    user = find_user(session, ref)
    before = _view(session, user.id)
    if role is not None:
        user.role = role
    if team is not None:
        user.team_id = get_or_create_team(session, team, actor).id if team else None
    if manager is not None:
        user.manager_id = find_user(session, manager).id if manager else None
    if db_role is not None:
        user.db_role = _db_role(session, db_role, keep=user.id) if db_role else None
    if active is not None:
        if not active and user.id == actor.user_id:
            raise BadInput("you cannot deactivate yourself")
        user.is_active = active
    session.flush()
    after = _view(session, user.id)
    changed = {
        name: {"from": _plain(getattr(before, name)), "to": _plain(getattr(after, name))}
        for name in ("role", "team", "manager_email", "db_role", "is_active")
        if getattr(before, name) != getattr(after, name)
    }
    if changed:
        audit(session, actor, "user.changed", "user", user.id, at=utcnow(), details=changed)
    return after


def grant_database_role(session: Session, actor: Actor, ref: str, role: str) -> tuple[UserView, bool]:
    """PostgreSQL: give a user a login role of their own. The role is created
    when missing (LOGIN; how it authenticates is pg_hba.conf's business), is
    granted what cs needs at run time on the tables and sequences of the
    schema (now and those a later `cs db upgrade` makes), and is mapped to
    the user. Admins only; the connection needs CREATEROLE to create a
    role. Returns the user and whether the role was created."""
    require_role(actor, Role.ADMIN, doing="granting database roles")
    name = _db_role(session, role, keep=find_user(session, ref).id)
    if session.get_bind().dialect.name != "postgresql":
        raise BadInput("database roles are PostgreSQL's: on SQLite the file's owner is its user")
    exists = session.scalar(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}) is not None
    schema = session.scalar(sa.text("SELECT current_schema()"))
    quoted = f'"{schema}"'
    statements = [] if exists else [f"CREATE ROLE {name} LOGIN"]
    tables, sequences = "SELECT, INSERT, UPDATE, DELETE", "USAGE, SELECT, UPDATE"
    later = f"ALTER DEFAULT PRIVILEGES IN SCHEMA {quoted} GRANT"
    statements += [
        f"GRANT USAGE ON SCHEMA {quoted} TO {name}",
        f"GRANT {tables} ON ALL TABLES IN SCHEMA {quoted} TO {name}",
        f"GRANT {sequences} ON ALL SEQUENCES IN SCHEMA {quoted} TO {name}",
        f"{later} {tables} ON TABLES TO {name}",
        f"{later} {sequences} ON SEQUENCES TO {name}",
    ]
    try:
        with session.begin_nested():
            for statement in statements:
                session.execute(sa.text(statement))
    except sa.exc.DBAPIError as exc:
        reason = str(getattr(exc, "orig", exc)).splitlines()[0]
        raise BadInput(f"cannot grant database role {name}: {reason}") from None
    view = update_user(session, actor, ref, db_role=name)
    audit(
        session,
        actor,
        "user.db_role_granted",
        "user",
        view.id,
        at=utcnow(),
        details={"db_role": name, "created": not exists, "schema": schema},
    )
    return view, not exists


def _plain(value):
    return getattr(value, "value", value)


def _db_role(session: Session, name: str | None, *, keep: int | None = None) -> str | None:
    """A database role name to map, checked: a PostgreSQL identifier no other
    user has. (Whether the role exists is the database's business: it may be
    made after the mapping.)"""
    if name is None:
        return None
    if not re.fullmatch(r"[a-z_][a-z0-9_$]{0,62}", name):
        raise BadInput(f"'{name}' is not a database role name (lower-case letters, digits, _ and $)")
    taken = session.scalar(sa.select(User.email).where(User.db_role == name, User.id != (keep or -1)))
    if taken is not None:
        raise BadInput(f"database role {name} is already {taken}'s")
    return name


def list_users(session: Session, actor: Actor) -> list[UserView]:
    """Every user, with team and manager."""
    return [_to_view(row) for row in session.execute(_view_query().order_by(User.name))]


def _view_query() -> sa.Select:
    manager = aliased(User)
    return (
        sa.select(User, Team.name, manager.email)
        .outerjoin(Team, Team.id == User.team_id)
        .outerjoin(manager, manager.id == User.manager_id)
    )


def _to_view(row) -> UserView:
    user, team, manager_email = row
    return UserView(
        id=user.id,
        name=user.name,
        email=user.email,
        role=user.role,
        team=team,
        manager_email=manager_email,
        is_active=user.is_active,
        db_role=user.db_role,
    )


def _view(session: Session, user_id: int) -> UserView:
    return _to_view(session.execute(_view_query().where(User.id == user_id)).one())


def set_notify(
    session: Session,
    actor: Actor,
    preference: NotifyPreference,
    *,
    user: str | None = None,
    timezone: str | None = None,
) -> tuple[str, NotifyPreference, str | None]:
    """Set how a user hears of risk alerts and task reminders (immediate,
    daily_digest, none) and optionally their time zone; your own, or anyone's
    for admins. Returns (email, preference, timezone)."""
    target = find_user(session, user) if user else session.get(User, actor.user_id) if actor.user_id else None
    if target is None:
        raise BadInput("the system actor has no notification preference; name a user with --user")
    if target.id != actor.user_id:
        require_role(actor, Role.ADMIN, doing="setting another user's notifications")
    target.notify_preference = NotifyPreference(preference)
    if timezone is not None:
        from cs_cli.settings import _timezone

        try:
            target.timezone = _timezone(timezone) or None
        except ValueError as exc:
            raise BadInput(f"--timezone {exc}") from None
    session.flush()
    audit(
        session,
        actor,
        "user.notifications_set",
        "user",
        target.id,
        at=utcnow(),
        details={"preference": target.notify_preference.value, "timezone": target.timezone},
    )
    return target.email, target.notify_preference, target.timezone


def active_logins(session: Session) -> list[str]:
    """The logins of every active user, in order."""
    return list(session.scalars(sa.select(User.login).where(User.is_active).order_by(User.login)))
