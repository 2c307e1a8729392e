"""Access: who is acting, and which customers each role may see."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.engine import transaction
from cs_cli.db.models import Customer, User
from cs_cli.domain import Actor, Role
from cs_cli.errors import NotFound, NotPermitted
from cs_cli.services.access import _add_first_admin, customer_scope, require_role, resolve_actor
from cs_cli.services.customers import CustomerFilter, customer_detail, find_customer, list_customers

AS_OF = dt.date(2025, 1, 15)
ALL = {"E-1", "E-2", "E-3", "M-1", "W-1", "W-2", "U-1"}


def _visible(session: Session, actor: Actor) -> set[str]:
    return set(session.scalars(sa.select(Customer.external_id).where(customer_scope(actor))))


def _listed(session: Session, actor: Actor, **filters) -> list[str]:
    page = list_customers(session, actor, CustomerFilter(**filters), as_of=AS_OF, limit=None)
    return [row.external_id for row in page.rows]


SCOPES = {
    "ana": {"E-1", "E-2", "E-3"},
    "bo": {"W-1", "W-2"},
    # A manager sees their own customers and every customer of their team.
    "mia": {"E-1", "E-2", "E-3", "M-1"},
    "admin": ALL,
    "system": ALL,
}


def test_customer_scope_by_role(session, book):
    for login, expected in SCOPES.items():
        actor = resolve_actor(session, login)
        assert _visible(session, actor) == expected, login
        assert set(_listed(session, actor)) == expected, login
        page = list_customers(session, actor, CustomerFilter(), as_of=AS_OF)
        assert page.total == len(expected), login


def test_manager_without_a_team_sees_only_their_own(session, book):
    with session.begin():
        session.execute(sa.update(User).where(User.login == "mia").values(team_id=None))
    actor = resolve_actor(session, "mia")
    assert actor.team_id is None
    assert _visible(session, actor) == {"M-1"}


def test_csm_filter_cannot_widen_the_scope(session, book):
    ana = resolve_actor(session, "ana")
    assert _listed(session, ana, csm="bo") == []
    assert _listed(session, ana, csm="ana@example.com") == ["E-1", "E-2", "E-3"]


def test_find_customer_outside_scope_is_not_found(session, book):
    ana = resolve_actor(session, "ana")
    with pytest.raises(NotFound) as info:
        find_customer(session, ana, "W-1")
    assert info.value.message == "no customer 'W-1' that you can see"
    assert info.value.exit_code == 4
    with pytest.raises(NotFound):
        customer_detail(session, ana, "W-1")
    # ... while the admin finds it, by external id or numeric id.
    admin = resolve_actor(session, "admin")
    w1 = find_customer(session, admin, "W-1")
    assert find_customer(session, admin, str(w1.id)).external_id == "W-1"
    with pytest.raises(NotFound) as info:
        find_customer(session, admin, "NOPE")
    assert info.value.message == "no customer 'NOPE'"


def test_find_customer_prefers_an_exact_external_id(session, book, engine):
    # A customer whose external id is the digits of another customer's numeric id.
    with transaction(engine) as sess:
        e1_id = sess.scalar(sa.select(Customer.id).where(Customer.external_id == "E-1"))
        sess.add(Customer(external_id=str(e1_id), name="Digits Inc"))
    admin = resolve_actor(session, "admin")
    assert find_customer(session, admin, str(e1_id)).name == "Digits Inc"


def test_resolve_actor_by_login_or_email(session, book):
    ana = resolve_actor(session, "ana")
    # On PostgreSQL the tests connect as the database's owner, who acts as
    # anyone by name, recorded as impersonation (test_identity.py).
    assert ana == Actor(
        name="ana",
        role=Role.CSM,
        user_id=book["ana"],
        team_id=ana.team_id,
        impersonated_by=ana.impersonated_by,
    )
    assert ana.team_id is not None
    assert resolve_actor(session, "ANA@EXAMPLE.COM") == ana
    # The stored email's case does not matter either.
    assert resolve_actor(session, "bo@example.com").user_id == book["bo"]
    assert resolve_actor(session, "system").name == "system"
    assert resolve_actor(session, "system").role == Role.ADMIN
    assert Actor.system().is_system and not ana.is_system


def test_resolve_actor_unknown_on_a_populated_database(session, book):
    with pytest.raises(NotPermitted) as info:
        resolve_actor(session, "stranger")
    assert "'stranger' is not a user of this database" in info.value.message
    assert info.value.hint is not None and "cs users add" in info.value.hint
    assert session.scalar(sa.select(sa.func.count()).select_from(User).where(User.login == "stranger")) == 0


def test_resolve_actor_first_user_becomes_admin(session):
    actor = resolve_actor(session, "ops@example.com")
    session.commit()
    assert actor.role == Role.ADMIN
    user = session.scalar(sa.select(User))
    assert (user.login, user.email, user.role, user.id) == (
        "ops@example.com",
        "ops@example.com",
        Role.ADMIN,
        actor.user_id,
    )


def test_two_commands_starting_a_new_database_together_share_its_first_admin(engine):
    """Both saw no users; the second to insert loses the unique login in its
    savepoint alone, finds the first one's admin, and its transaction goes on."""
    with transaction(engine) as first, transaction(engine) as second:
        assert second.scalar(sa.select(sa.func.count()).select_from(User)) == 0
        resolve_actor(first, "root")
        first.commit()
        # What the second command does after its count said "no users yet".
        _add_first_admin(second, "root")
        actor = resolve_actor(second, "root")
        second.add(Customer(external_id="X-1", name="Made after the race"))
    assert actor.role == Role.ADMIN
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(User)) == 1
        assert conn.scalar(sa.select(Customer.name)) == "Made after the race"


def test_resolve_actor_deactivated(session, book):
    with session.begin():
        session.execute(sa.update(User).where(User.login == "bo").values(is_active=False))
    with pytest.raises(NotPermitted, match="user 'bo' is deactivated"):
        resolve_actor(session, "bo")


def test_require_role():
    ana = Actor(name="ana", role=Role.CSM, user_id=2)
    with pytest.raises(NotPermitted) as info:
        require_role(ana, Role.ADMIN, Role.MANAGER, doing="reassigning customers")
    assert info.value.message == "reassigning customers needs the admin or manager role; ana is a csm"
    assert info.value.exit_code == 3
    # Allowed roles pass silently.
    require_role(Actor(name="mia", role=Role.MANAGER, user_id=1), Role.ADMIN, Role.MANAGER, doing="x")
    require_role(Actor.system(), Role.ADMIN, doing="x")
