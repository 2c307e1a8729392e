"""Reading the book of business: customer listings and the customer card."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import (
    Contact,
    CSTask,
    Customer,
    HealthScore,
    Invoice,
    NpsResponse,
    SupportTicket,
    Touchpoint,
    UsageEvent,
    User,
)
from cs_cli.domain import (
    Actor,
    ContactView,
    CustomerDetail,
    CustomerRow,
    CustomerStatus,
    Page,
    TaskStatus,
)
from cs_cli.errors import BadInput, NotFound
from cs_cli.services.access import customer_scope
from cs_cli.services.audit import record_read

SORT_KEYS = {
    "name": Customer.name,
    "external_id": Customer.external_id,
    "arr": Customer.arr,
    "renewal": Customer.renewal_date,
    "health": HealthScore.overall_score,
    "seats": Customer.seats,
}


@dataclass(frozen=True)
class CustomerFilter:
    csm: str | None = None
    status: CustomerStatus | None = None
    renewal_within_days: int | None = None
    min_arr: Decimal | None = None
    max_arr: Decimal | None = None
    search: str | None = None


def customer_row_query() -> sa.Select:
    """Customer listing rows (CustomerRow columns), joined to CSM and health."""
    return (
        sa.select(
            Customer.id,
            Customer.external_id,
            Customer.name,
            Customer.arr,
            Customer.plan,
            Customer.seats,
            Customer.status,
            Customer.renewal_date,
            User.email.label("csm_email"),
            HealthScore.overall_score.label("health_score"),
            HealthScore.health_status,
        )
        .outerjoin(User, User.id == Customer.csm_id)
        .outerjoin(HealthScore, HealthScore.customer_id == Customer.id)
    )


def _conditions(actor: Actor, flt: CustomerFilter, as_of: dt.date) -> list[sa.ColumnElement[bool]]:
    conds: list[sa.ColumnElement[bool]] = [customer_scope(actor)]
    if flt.csm:
        conds.append(sa.or_(sa.func.lower(User.email) == flt.csm.lower(), User.login == flt.csm))
    if flt.status:
        conds.append(Customer.status == flt.status)
    if flt.renewal_within_days is not None:
        if flt.renewal_within_days < 0:
            raise BadInput("--renewal-within must be zero or more days")
        conds.append(Customer.renewal_date.between(as_of, as_of + dt.timedelta(days=flt.renewal_within_days)))
    if flt.min_arr is not None:
        conds.append(Customer.arr >= flt.min_arr)
    if flt.max_arr is not None:
        conds.append(Customer.arr <= flt.max_arr)
    if flt.search:
        conds.append(
            sa.or_(
                Customer.name.icontains(flt.search, autoescape=True),
                Customer.external_id.icontains(flt.search, autoescape=True),
            )
        )
    return conds


def _order(sort: str) -> list[sa.ColumnElement]:
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in SORT_KEYS:
        raise BadInput(f"cannot sort by '{key}' (choose from: {', '.join(SORT_KEYS)})")
    column = SORT_KEYS[key]
    ordered = column.desc().nulls_last() if descending else column.asc().nulls_last()
    return [ordered, Customer.id]


def list_customers(
    session: Session,
    actor: Actor,
    flt: CustomerFilter,
    *,
    as_of: dt.date,
    sort: str = "name",
    offset: int = 0,
    limit: int | None = 50,
) -> Page:
    """One page of the customers the actor may see, filtered and sorted."""
    if offset < 0 or (limit is not None and limit <= 0):
        raise BadInput("--offset must be >= 0 and --limit > 0")
    conds = _conditions(actor, flt, as_of)
    base = customer_row_query().where(*conds)
    total = session.scalar(sa.select(sa.func.count()).select_from(base.subquery())) or 0
    stmt = base.order_by(*_order(sort)).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = [CustomerRow(**row._mapping) for row in session.execute(stmt)]
    return Page(rows=rows, total=total, offset=offset, limit=limit)


def find_customer(session: Session, actor: Actor, ref: str) -> Customer:
    """A customer by external id (or numeric id), within the actor's scope."""
    conds = [Customer.external_id == ref]
    if ref.isdigit():
        conds.append(Customer.id == int(ref))
    customers = session.scalars(
        sa.select(Customer).where(sa.or_(*conds), customer_scope(actor)).order_by(Customer.id)
    ).all()
    if not customers:
        raise NotFound(f"no customer '{ref}'" + ("" if actor.role == "admin" else " that you can see"))
    # An exact external id beats an internal id that happens to match.
    exact = [c for c in customers if c.external_id == ref]
    return exact[0] if exact else customers[0]


def customer_detail(session: Session, actor: Actor, ref: str) -> CustomerDetail:
    """The customer card: the row, contacts, activity counts and latest signals."""
    customer = find_customer(session, actor, ref)
    record_read(session, actor, "customer", customer_id=customer.id)
    row = CustomerRow(
        **session.execute(customer_row_query().where(Customer.id == customer.id)).one()._mapping
    )
    contacts = [
        ContactView(
            external_id=c.external_id,
            name=c.name,
            email=c.email,
            title=c.title,
            role=c.role,
            is_champion=c.is_champion,
            is_exec_sponsor=c.is_exec_sponsor,
            left_at=c.left_at,
        )
        for c in session.scalars(
            sa.select(Contact)
            .where(Contact.customer_id == customer.id)
            .order_by(Contact.is_exec_sponsor.desc(), Contact.is_champion.desc(), Contact.name)
        )
    ]

    def count(model, *extra) -> sa.ScalarSelect:
        return (
            sa.select(sa.func.count())
            .select_from(model)
            .where(model.customer_id == customer.id, *extra)
            .scalar_subquery()
        )

    counts_row = session.execute(
        sa.select(
            count(UsageEvent).label("usage_events"),
            count(SupportTicket).label("tickets"),
            count(SupportTicket, SupportTicket.closed_at.is_(None)).label("open_tickets"),
            count(Invoice).label("invoices"),
            count(Invoice, Invoice.paid_on.is_(None)).label("unpaid_invoices"),
            count(NpsResponse).label("nps_responses"),
            count(Touchpoint).label("touchpoints"),
            count(
                CSTask, CSTask.status.in_([TaskStatus.PENDING, TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED])
            ).label("open_tasks"),
            sa.select(sa.func.max(UsageEvent.occurred_at))
            .where(UsageEvent.customer_id == customer.id)
            .scalar_subquery()
            .label("last_event_at"),
            sa.select(NpsResponse.score)
            .where(NpsResponse.customer_id == customer.id)
            .order_by(NpsResponse.responded_at.desc())
            .limit(1)
            .scalar_subquery()
            .label("latest_nps"),
        )
    ).one()
    counts = dict(counts_row._mapping)
    last_event_at = counts.pop("last_event_at")
    if isinstance(last_event_at, str):  # SQLite returns max() of a timestamp as text
        last_event_at = dt.datetime.fromisoformat(last_event_at).replace(tzinfo=dt.UTC)
    latest_nps = counts.pop("latest_nps")
    open_tasks = counts.pop("open_tasks")
    return CustomerDetail(
        customer=row,
        industry=customer.industry,
        region=customer.region,
        contract_start=customer.contract_start,
        churned_at=customer.churned_at,
        attributes=dict(customer.attributes or {}),
        created_at=customer.created_at,
        contacts=contacts,
        counts=counts,
        last_event_at=last_event_at,
        open_tasks=open_tasks,
        latest_nps=latest_nps,
    )


def customer_matches(session: Session, actor: Actor, text: str, *, limit: int = 40) -> list[tuple[str, str]]:
    """(external id, name) of customers the actor may see whose name or
    external id holds the characters of `text` in order (a fuzzy match,
    as a finder wants: "acm" finds "Acme Corp" and "Academy of Music"),
    best first: a plain substring before a scattered one, shorter names first."""
    chars = [c for c in text.strip().lower() if not c.isspace()]
    if not chars:
        return []
    escaped = ["\\" + c if c in "%_\\" else c for c in chars]
    scattered = "%" + "%".join(escaped) + "%"
    whole = "%" + "".join(escaped) + "%"
    name, ext = sa.func.lower(Customer.name), sa.func.lower(Customer.external_id)
    plain = sa.or_(name.like(whole, escape="\\"), ext.like(whole, escape="\\"))
    rows = session.execute(
        sa.select(Customer.external_id, Customer.name)
        .where(
            customer_scope(actor),
            sa.or_(name.like(scattered, escape="\\"), ext.like(scattered, escape="\\")),
        )
        .order_by(sa.case((plain, 0), else_=1), sa.func.length(Customer.name), Customer.external_id)
        .limit(limit)
    ).all()
    return [(e, n) for e, n in rows]
