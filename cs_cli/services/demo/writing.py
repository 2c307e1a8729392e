"""Writing the demo: the batched writer every part of the history feeds, wiping the
database for --reset, and the rows for people (teams, users) and accounts
(customers, contacts), whose ids the history needs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.base import Base
from cs_cli.db.models import (
    AuditEntry,
    AuditHead,
    Contact,
    CSTask,
    Customer,
    Invoice,
    NpsResponse,
    SupportTicket,
    Team,
    Touchpoint,
    UsageEvent,
    User,
)
from cs_cli.domain import Actor, CustomerStatus, Role
from cs_cli.services.demo.book import Book
from cs_cli.services.demo.dates import add_years, midnight
from cs_cli.services.facts import record_facts

_BATCH = 10_000  # rows buffered per table before a write: bounds memory on a big book
_EVENT_COLUMNS = ("customer_id", "contact_id", "event_name", "occurred_at", "quantity")
# What the demo writes, in the order the summary lists it.
_KINDS = (Team, User, Customer, Contact, UsageEvent, SupportTicket, Invoice, NpsResponse, Touchpoint, CSTask)


class Writer:
    """Buffers rows per table and writes them in batches: executemany for most
    tables, the dialect's fast append (COPY on Postgres) for usage events."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.buffers: dict[sa.Table, list[dict[str, Any]]] = {}
        self.events: list[tuple] = []
        self.counts: dict[str, int] = {model.__tablename__: 0 for model in _KINDS}

    def event(self, row: tuple) -> None:
        """One usage event, as a tuple in the order of _EVENT_COLUMNS."""
        self.events.append(row)
        if len(self.events) >= _BATCH:
            self.flush_events()

    def flush_events(self) -> None:
        if self.events:
            written = dialect.append_rows(self.session, UsageEvent.__table__, _EVENT_COLUMNS, self.events)
            self.counts["usage_events"] += written
            self.events = []

    def add(self, table: sa.Table, row: dict[str, Any]) -> None:
        buffer = self.buffers.setdefault(table, [])
        buffer.append(row)
        if len(buffer) >= _BATCH:
            self.flush(table)

    def write(self, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), _BATCH):
            self._insert(table, rows[start : start + _BATCH])

    def flush(self, table: sa.Table) -> None:
        rows = self.buffers.pop(table, [])
        if rows:
            self._insert(table, rows)

    def flush_all(self) -> None:
        self.flush_events()
        for table in list(self.buffers):
            self.flush(table)

    def _insert(self, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        self.session.execute(sa.insert(table), rows)
        self.counts[table.name] += len(rows)


def wipe(session: Session, actor: Actor) -> int:
    """Delete every row, children first; the acting user stays, as an admin.
    The audit trail stays whole: it is never deleted (docs/security.md)."""
    users = User.__table__
    if actor.user_id is not None:
        session.execute(
            sa.update(users)
            .where(users.c.id == actor.user_id)
            .values(role=Role.ADMIN, team_id=None, manager_id=None, is_active=True)
        )
    deleted = 0
    for table in reversed(Base.metadata.sorted_tables):
        if table.name in (AuditEntry.__tablename__, AuditHead.__tablename__):
            continue
        stmt = table.delete()
        if table is users and actor.user_id is not None:
            stmt = stmt.where(users.c.id != actor.user_id)
        deleted += session.execute(stmt).rowcount or 0
    session.expire_all()
    return deleted


def write_people(session: Session, writer: Writer, book: Book) -> dict[str, int]:
    """Teams (reusing any of the same name) and users; returns login -> user id."""
    teams = Team.__table__
    names = sorted({p.team for p in book.people})
    existing = set(session.scalars(sa.select(teams.c.name).where(teams.c.name.in_(names))))
    created = midnight(add_years(book.as_of, -3))
    writer.write(teams, [{"name": n, "created_at": created} for n in names if n not in existing])
    team_ids = dict(session.execute(sa.select(teams.c.name, teams.c.id).where(teams.c.name.in_(names))).all())

    users = User.__table__

    def rows(role: Role) -> list[dict[str, Any]]:
        return [
            {
                "email": p.email,
                "login": p.login,
                "name": p.name,
                "role": p.role,
                "team_id": team_ids[p.team],
                "manager_id": user_ids[p.manager_login] if p.manager_login else None,
                "is_active": True,
                "timezone": p.timezone,
                "created_at": created,
            }
            for p in book.people
            if p.role == role
        ]

    user_ids: dict[str, int] = {}
    for role in (Role.MANAGER, Role.CSM):  # managers first: CSMs point at them
        writer.write(users, rows(role))
        logins = [p.login for p in book.people if p.role == role]
        user_ids.update(
            session.execute(sa.select(users.c.login, users.c.id).where(users.c.login.in_(logins))).all()
        )
    return user_ids


def _before_churn(attributes: dict) -> dict:
    return {**attributes, "lifecycle_stage": "renewal"}


def write_accounts(
    session: Session, writer: Writer, book: Book, user_ids: dict[str, int]
) -> tuple[dict[str, int], dict[str, int]]:
    """Customers and contacts; returns external id -> id for each."""
    customers, contacts = Customer.__table__, Contact.__table__
    writer.write(
        customers,
        [
            {
                "external_id": c.external_id,
                "name": c.name,
                "arr": c.arr,
                "plan": c.plan,
                "seats": c.seats,
                "industry": c.industry,
                "region": c.region,
                "timezone": c.timezone,
                "contract_start": c.contract_start,
                "renewal_date": c.renewal_date,
                # As they were before any churn; the churn is a later version.
                "status": CustomerStatus.ACTIVE,
                "churned_at": None,
                "csm_id": user_ids[c.csm_login],
                "attributes": _before_churn(c.attributes) if c.churned_at else c.attributes,
                "created_at": midnight(c.contract_start) + dt.timedelta(hours=9),
                "updated_at": c.churned_at,
            }
            for c in book.customers
        ],
    )
    # The demo's customers were what they are now from the day they signed,
    # until they churned: the churn (status, date, lifecycle stage) is a
    # second version from that moment, so nothing of it shows before.
    recorded = dt.datetime.combine(book.as_of, dt.time(12), tzinfo=dt.UTC)
    record_facts(session, sa.true(), effective_at=customers.c.created_at, recorded_at=recorded)
    churned = [c for c in book.customers if c.churned_at]
    if churned:
        session.execute(
            sa.update(customers)
            .where(customers.c.external_id == sa.bindparam("key"))
            .values(
                status=CustomerStatus.CHURNED.value,
                churned_at=sa.bindparam("moment"),
                updated_at=sa.bindparam("moment"),
                attributes=sa.bindparam("attrs", type_=customers.c.attributes.type),
            ),
            [{"key": c.external_id, "moment": c.churned_at, "attrs": c.attributes} for c in churned],
        )
        record_facts(
            session,
            customers.c.status == CustomerStatus.CHURNED.value,
            effective_at=customers.c.churned_at,
            recorded_at=recorded,
        )
    # Expansions likewise: the ARR and seats bought, a version from then.
    grown = [c for c in book.customers if c.expansion_at]
    if grown:
        session.execute(
            sa.update(customers)
            .where(customers.c.external_id == sa.bindparam("key"))
            .values(arr=sa.bindparam("arr"), seats=sa.bindparam("seats"), updated_at=sa.bindparam("moment")),
            [
                {
                    "key": c.external_id,
                    "arr": c.expanded_arr,
                    "seats": c.expanded_seats,
                    "moment": c.expansion_at,
                }
                for c in grown
            ],
        )
        record_facts(
            session,
            # Only an expanded account is active with a moment of change.
            sa.and_(customers.c.status == CustomerStatus.ACTIVE.value, customers.c.updated_at.is_not(None)),
            effective_at=customers.c.updated_at,
            recorded_at=recorded,
        )
    # The database had no customers (we refuse otherwise), so every row is ours.
    customer_ids = dict(session.execute(sa.select(customers.c.external_id, customers.c.id)).all())
    writer.write(
        contacts,
        [
            {
                "external_id": p.external_id,
                "customer_id": customer_ids[c.external_id],
                "name": p.name,
                "email": p.email,
                "title": p.title,
                "role": p.role,
                "is_champion": p.is_champion,
                "is_exec_sponsor": p.is_exec_sponsor,
                "left_at": p.left_at,
                "timezone": c.timezone,
                "created_at": midnight(c.contract_start) + dt.timedelta(days=1, hours=9),
                "updated_at": p.left_at,
            }
            for c in book.customers
            for p in c.contacts
        ],
    )
    contact_ids = dict(session.execute(sa.select(contacts.c.external_id, contacts.c.id)).all())
    return customer_ids, contact_ids
