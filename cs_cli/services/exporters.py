"""Exporting entities in the same shape `cs import` reads, so that an export
imports back unchanged (ids are the source systems' ids, people are emails)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from cs_cli.db.models import (
    Contact,
    Customer,
    Invoice,
    NpsResponse,
    SupportTicket,
    Team,
    Touchpoint,
    UsageEvent,
    User,
)
from cs_cli.domain import Actor
from cs_cli.errors import BadInput
from cs_cli.services.access import customer_scope
from cs_cli.services.audit import record_read
from cs_cli.services.importers.entities import ENTITIES


def _customer_owned(model: Any, *columns: sa.ColumnElement) -> sa.Select:
    contact = aliased(Contact)
    return (
        sa.select(*columns)
        .select_from(model)
        .join(Customer, Customer.id == model.customer_id)
        .outerjoin(contact, contact.id == getattr(model, "contact_id", sa.null()))
    )


def _query(entity: str, actor: Actor, only: sa.ColumnElement[bool] | None) -> sa.Select:
    scope = customer_scope(actor) if only is None else sa.and_(customer_scope(actor), only)
    if entity == "customers":
        csm = aliased(User)
        cols = [getattr(Customer, f.name) for f in ENTITIES["customers"].fields if f.name != "csm_email"]
        return (
            sa.select(*cols, csm.email.label("csm_email"), Customer.attributes)
            .outerjoin(csm, csm.id == Customer.csm_id)
            .where(scope)
            .order_by(Customer.id)
        )
    if entity == "users":
        manager = aliased(User)
        return (
            sa.select(
                User.email,
                User.name,
                User.login,
                User.role,
                Team.name.label("team"),
                manager.email.label("manager_email"),
                User.is_active,
                User.timezone,
            )
            .outerjoin(Team, Team.id == User.team_id)
            .outerjoin(manager, manager.id == User.manager_id)
            .order_by(User.id)
        )
    models = {
        "contacts": Contact,
        "events": UsageEvent,
        "touchpoints": Touchpoint,
        "tickets": SupportTicket,
        "invoices": Invoice,
        "nps": NpsResponse,
    }
    model = models[entity]
    contact = aliased(Contact)
    user = aliased(User)
    cols: list[sa.ColumnElement] = []
    for f in ENTITIES[entity].fields:
        if f.name == "customer_id":
            cols.append(Customer.external_id.label("customer_id"))
        elif f.name == "contact_id":
            cols.append(contact.external_id.label("contact_id"))
        elif f.name == "user_email":
            cols.append(user.email.label("user_email"))
        else:
            cols.append(getattr(model, f.name).label(f.name))
    stmt = sa.select(*cols).select_from(model).join(Customer, Customer.id == model.customer_id)
    if entity != "contacts" and hasattr(model, "contact_id"):
        stmt = stmt.outerjoin(contact, contact.id == model.contact_id)
    if entity == "touchpoints":
        stmt = stmt.outerjoin(user, user.id == model.user_id)
    # Usage events have no surrogate key (see UsageEvent): their natural order.
    order = (model.customer_id, model.occurred_at, model.event_name) if model is UsageEvent else (model.id,)
    return stmt.where(scope).order_by(*order)


def export_columns(entity: str) -> list[str]:
    if entity not in ENTITIES:
        raise BadInput(f"cannot export '{entity}' (choose from: {', '.join(ENTITIES)})")
    return [f.name for f in ENTITIES[entity].fields]


def export_rows(
    session: Session, actor: Actor, entity: str, *, only: sa.ColumnElement[bool] | None = None
) -> Iterator[dict[str, Any]]:
    """Every row of `entity` the actor may see (and `only` selects, a
    condition on customers), streamed in id order.

    Customer attributes come out flattened, one key per attribute, under the
    name they were imported with.
    """
    export_columns(entity)
    record_read(session, actor, "export", entity_type=entity, details={"filtered": only is not None})
    result = session.execute(_query(entity, actor, only).execution_options(yield_per=5_000))
    for row in result:
        record = dict(row._mapping)
        if entity == "customers":
            attributes = record.pop("attributes") or {}
            record.update(attributes)
        yield record


def attribute_names(
    session: Session, actor: Actor, *, only: sa.ColumnElement[bool] | None = None
) -> list[str]:
    """The attribute keys used by any visible customer, sorted, for CSV headers."""
    names: set[str] = set()
    stmt = sa.select(Customer.attributes).where(customer_scope(actor))
    if only is not None:
        stmt = stmt.where(only)
    stmt = stmt.execution_options(yield_per=5_000)
    for (attributes,) in session.execute(stmt):
        names.update((attributes or {}).keys())
    return sorted(names)
