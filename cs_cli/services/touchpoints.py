"""Touchpoints: every interaction with a customer, logged by hand (`cs
touchpoints log`), by completing a call, meeting or email task, or by import."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from cs_cli.db.models import Contact, Customer, Touchpoint, TouchpointAttendee, User
from cs_cli.domain import (
    Actor,
    Channel,
    ContactChoice,
    Direction,
    Page,
    Sentiment,
    SentimentSource,
    TouchpointDetail,
    TouchpointRow,
    TouchpointType,
)
from cs_cli.errors import BadInput, NotFound
from cs_cli.services import events
from cs_cli.services.access import customer_scope
from cs_cli.services.audit import audit, record_read
from cs_cli.services.customers import find_customer
from cs_cli.services.text.reading import read_record
from cs_cli.services.text.sentiment import Analyser, analyser_for
from cs_cli.services.users import find_user

SUBJECT_MAX = 255
T = TouchpointType

# What a touchpoint of each kind usually is, when the person logging it does not say.
DEFAULT_CHANNEL = {
    T.CALL: Channel.PHONE,
    T.MEETING: Channel.VIDEO,
    T.QBR: Channel.VIDEO,
    T.RENEWAL_DISCUSSION: Channel.VIDEO,
    T.WEBINAR: Channel.VIDEO,
    T.ESCALATION: Channel.PHONE,
    T.EMAIL_SENT: Channel.EMAIL,
    T.EMAIL_OPENED: Channel.EMAIL,
    T.EMAIL_CLICKED: Channel.EMAIL,
    T.NPS_RESPONSE: Channel.EMAIL,
    T.IN_APP_MESSAGE: Channel.IN_APP,
    T.PRODUCT_LOGIN: Channel.IN_APP,
    T.FEATURE_USAGE: Channel.IN_APP,
}
# The customer came to us; everything else we started.
INBOUND = {
    T.EMAIL_OPENED,
    T.EMAIL_CLICKED,
    T.SUPPORT_TICKET,
    T.PRODUCT_LOGIN,
    T.FEATURE_USAGE,
    T.NPS_RESPONSE,
}


@dataclass(frozen=True)
class TouchpointFilter:
    customer: str | None = None
    types: tuple[TouchpointType, ...] = ()
    since: dt.date | None = None
    user: str | None = None


def _rows() -> sa.Select:
    contact = aliased(Contact)
    return (
        sa.select(
            Touchpoint.id,
            Touchpoint.occurred_at,
            Customer.external_id.label("customer"),
            Touchpoint.touchpoint_type,
            Touchpoint.subject,
            Touchpoint.direction,
            Touchpoint.channel,
            User.email.label("user"),
            contact.email.label("contact"),
            Touchpoint.sentiment_label,
            Touchpoint.sentiment_score,
            Touchpoint.duration_minutes,
            Touchpoint.task_id,
        )
        .join(Customer, Customer.id == Touchpoint.customer_id)
        .outerjoin(User, User.id == Touchpoint.user_id)
        .outerjoin(contact, contact.id == Touchpoint.contact_id)
    )


def list_touchpoints(
    session: Session,
    actor: Actor,
    flt: TouchpointFilter,
    *,
    offset: int = 0,
    limit: int | None = 50,
) -> Page:
    """Touchpoints of the customers the actor may see, newest first."""
    if offset < 0 or (limit is not None and limit <= 0):
        raise BadInput("--offset must be >= 0 and --limit > 0")
    conds: list[sa.ColumnElement[bool]] = [customer_scope(actor)]
    if flt.customer:
        conds.append(Touchpoint.customer_id == find_customer(session, actor, flt.customer).id)
    if flt.types:
        conds.append(Touchpoint.touchpoint_type.in_(sorted(set(flt.types))))
    if flt.since:
        start = dt.datetime.combine(flt.since, dt.time(), tzinfo=dt.UTC)
        conds.append(Touchpoint.occurred_at >= start)
    if flt.user:
        conds.append(Touchpoint.user_id == find_user(session, flt.user).id)
    stmt = _rows().where(*conds).order_by(Touchpoint.occurred_at.desc(), Touchpoint.id.desc()).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = [TouchpointRow(**r._mapping) for r in session.execute(stmt)]
    if limit is None or (len(rows) < limit and (rows or offset == 0)):
        total = offset + len(rows)
    else:
        counted = sa.select(Touchpoint.id).join(Customer, Customer.id == Touchpoint.customer_id).where(*conds)
        total = session.scalar(sa.select(sa.func.count()).select_from(counted.subquery())) or 0
    return Page(rows=rows, total=total, offset=offset, limit=limit)


def timeline(
    session: Session, actor: Actor, customer_ref: str, *, limit: int | None = 50
) -> tuple[str, Page]:
    """A customer's touchpoints, newest first, with their sentiment."""
    customer = find_customer(session, actor, customer_ref)
    record_read(session, actor, "timeline", customer_id=customer.id)
    page = list_touchpoints(session, actor, TouchpointFilter(customer=customer.external_id), limit=limit)
    return customer.external_id, page


def touchpoint_detail(session: Session, actor: Actor, touchpoint_id: int) -> TouchpointDetail:
    """Everything about one touchpoint of a customer the actor may see."""
    found = _details(session, Touchpoint.id == touchpoint_id, customer_scope(actor))
    if not found:
        raise NotFound(f"touchpoint {touchpoint_id} not found")
    record_read(session, actor, "touchpoint", entity_type="touchpoint", entity_id=touchpoint_id)
    return found[0]


def task_touchpoints(session: Session, task_id: int) -> list[TouchpointDetail]:
    """The touchpoints logged for a task, oldest first, whole. The caller
    has checked that the actor may see the task (they belong to it)."""
    return _details(session, Touchpoint.task_id == task_id)


def _details(session: Session, *where: sa.ColumnElement[bool]) -> list[TouchpointDetail]:
    """Touchpoints whole, oldest first, with their attendees: two queries."""
    found = session.execute(
        _rows()
        .add_columns(
            Customer.name.label("customer_name"),
            Touchpoint.description,
            Touchpoint.key_topics,
            Touchpoint.recording_url,
            Touchpoint.created_at,
        )
        .where(*where)
        .order_by(Touchpoint.occurred_at, Touchpoint.id)
    ).all()
    if not found:
        return []
    attendees: dict[int, list[str]] = {}
    named = session.execute(
        sa.select(TouchpointAttendee.touchpoint_id, sa.func.coalesce(Contact.name, Contact.email))
        .join(Contact, TouchpointAttendee.contact_id == Contact.id)
        .where(TouchpointAttendee.touchpoint_id.in_([r.id for r in found]))
        .order_by(Contact.name, Contact.id)
    )
    for touchpoint_id, who in named:
        if who:
            attendees.setdefault(touchpoint_id, []).append(who)
    out = []
    for r in found:
        fields = dict(r._mapping)
        row = TouchpointRow(
            **{k: fields.pop(k) for k in list(fields) if k in TouchpointRow.__dataclass_fields__}
        )
        out.append(TouchpointDetail(row=row, **fields, attendees=attendees.get(row.id, [])))
    return out


def log_touchpoint(
    session: Session,
    actor: Actor,
    customer_ref: str,
    *,
    touchpoint_type: TouchpointType,
    subject: str,
    notes: str | None = None,
    minutes: int | None = None,
    direction: Direction | None = None,
    channel: Channel | None = None,
    contact: str | None = None,
    sentiment: Sentiment | None = None,
    occurred_at: dt.datetime | None = None,
    attendees: Sequence[int] = (),
    now: dt.datetime,
    analyser: Analyser | None = None,
) -> TouchpointDetail:
    """Record an interaction with a customer, by the actor, with the
    sentiment and key topics of its text, and who of the customer's people
    took part (contact ids; the first is its contact when none is named);
    emits touchpoint.logged."""
    customer = find_customer(session, actor, customer_ref)
    touchpoint_type = TouchpointType(touchpoint_type)
    subject = (subject or "").strip()
    if not subject:
        raise BadInput("a touchpoint needs a subject (--subject)")
    if len(subject) > SUBJECT_MAX:
        raise BadInput(f"a subject is at most {SUBJECT_MAX} characters, not {len(subject)}")
    if minutes is not None and minutes < 0:
        raise BadInput(f"--minutes must be zero or more, not {minutes}")
    when = occurred_at or now
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    if when > now:
        raise BadInput(f"a touchpoint cannot be in the future ({when.isoformat()} is after now)")
    contact_id = None
    if contact:
        contact_id = session.scalar(
            sa.select(Contact.id)
            .where(Contact.customer_id == customer.id, sa.func.lower(Contact.email) == contact.lower())
            .order_by(Contact.id)
            .limit(1)
        )
        if contact_id is None:
            raise NotFound(f"{customer.external_id} has no contact '{contact}'")
    attendees = list(dict.fromkeys(attendees))
    if attendees:
        theirs = set(
            session.scalars(
                sa.select(Contact.id).where(Contact.customer_id == customer.id, Contact.id.in_(attendees))
            )
        )
        strangers = [a for a in attendees if a not in theirs]
        if strangers:
            raise NotFound(f"{customer.external_id} has no contact {strangers[0]}")
        contact_id = contact_id or attendees[0]
    # The sentiment the person logging gives wins over cs's reading.
    text = read_record(
        analyser or analyser_for(),
        subject,
        notes,
        label=sentiment,
        source=SentimentSource.GIVEN if sentiment else None,
    )
    touchpoint = Touchpoint(
        customer_id=customer.id,
        touchpoint_type=touchpoint_type,
        subject=subject,
        description=notes or None,
        direction=direction or (Direction.INBOUND if touchpoint_type in INBOUND else Direction.OUTBOUND),
        channel=channel or DEFAULT_CHANNEL.get(touchpoint_type),
        contact_id=contact_id,
        user_id=actor.user_id,
        **text,
        duration_minutes=minutes,
        occurred_at=when,
        created_at=now,
    )
    session.add(touchpoint)
    session.flush()
    if attendees:
        session.add_all(TouchpointAttendee(touchpoint_id=touchpoint.id, contact_id=c) for c in attendees)
        session.flush()
    data = {
        "touchpoint_id": touchpoint.id,
        "touchpoint_type": touchpoint_type.value,
        "task_id": None,
        "sentiment": text["sentiment_label"].value if text["sentiment_label"] else None,
    }
    if attendees:
        data["attendees"] = attendees
    events.record(session, actor, "touchpoint.logged", customer_id=customer.id, occurred_at=when, data=data)
    audit(
        session,
        actor,
        "touchpoint.log",
        "touchpoint",
        touchpoint.id,
        at=now,
        customer_id=customer.id,
        details=data,
    )
    return touchpoint_detail(session, actor, touchpoint.id)


def contact_choices(session: Session, actor: Actor, customer_ref: str) -> list[ContactChoice]:
    """A customer's people to pick a touchpoint's attendees from: champions
    and executive sponsors first, then by name; those who left last."""
    customer = find_customer(session, actor, customer_ref)
    rows = session.execute(
        sa.select(Contact.id, Contact.name, Contact.email, Contact.title, Contact.left_at)
        .where(Contact.customer_id == customer.id)
        .order_by(
            Contact.left_at.is_not(None),
            sa.case((sa.or_(Contact.is_champion, Contact.is_exec_sponsor), 0), else_=1),
            Contact.name,
            Contact.id,
        )
    ).all()
    return [
        ContactChoice(
            id=r.id,
            name=r.name or r.email or f"contact {r.id}",
            email=r.email,
            title=r.title,
            left=r.left_at is not None,
        )
        for r in rows
    ]
