"""Putting customers into journeys: by hand (`cs enroll`), by a trigger, or
by another journey's start_journey step. One INSERT ... SELECT per call,
whatever the number of customers.

What holds whichever way a customer comes in: the journey is active; a
customer is never in the same journey twice at once (a partial unique index
makes that true even for two ticks at the same moment); without
allow_re_enrollment, a customer whose enrollment ended is not enrolled
again; and max_concurrent_enrollments caps the active enrollments.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.base import UTCDateTime
from cs_cli.db.models import Customer, Journey, JourneyEnrollment, JourneyStep
from cs_cli.domain import Actor, CustomerStatus, EnrollmentStatus
from cs_cli.errors import BadInput, NotFound
from cs_cli.services import events
from cs_cli.services.access import customer_scope
from cs_cli.services.audit import audit

ENROLLED = "journey.enrolled"
_enrollments = JourneyEnrollment.__table__


@dataclass
class EnrollResult:
    journey: str
    enrolled: list[str] = field(default_factory=list)
    already_active: list[str] = field(default_factory=list)
    enrolled_before: list[str] = field(default_factory=list)
    churned: list[str] = field(default_factory=list)


def find_journey(session: Session, key: str) -> Journey:
    journey = session.scalar(sa.select(Journey).where(Journey.key == key))
    if journey is None:
        raise NotFound(f"no journey '{key}'", hint="`cs journeys list` shows them")
    return journey


def first_step_id(session: Session, journey: Journey) -> int:
    step_id = session.scalar(
        sa.select(JourneyStep.id)
        .where(JourneyStep.journey_id == journey.id, JourneyStep.version == journey.version)
        .order_by(JourneyStep.step_order)
        .limit(1)
    )
    if step_id is None:  # loading never writes a journey without steps
        raise BadInput(f"journey '{journey.key}' has no steps")
    return step_id


def active_count(session: Session, journey_id: int) -> int:
    return (
        session.scalar(
            sa.select(sa.func.count()).where(
                JourneyEnrollment.journey_id == journey_id,
                JourneyEnrollment.status == EnrollmentStatus.ACTIVE,
            )
        )
        or 0
    )


def capacity_left(session: Session, journey: Journey) -> int | None:
    """How many more active enrollments the journey takes (None: no limit)."""
    if journey.max_concurrent_enrollments is None:
        return None
    return max(0, journey.max_concurrent_enrollments - active_count(session, journey.id))


def eligible(journey: Journey, customer_ids: sa.ColumnElement[Any]) -> list[sa.ColumnElement[bool]]:
    """Conditions on a customer id column for a customer the journey can take now."""
    mine = sa.and_(JourneyEnrollment.journey_id == journey.id, JourneyEnrollment.customer_id == customer_ids)
    conditions = [~sa.exists().where(mine, JourneyEnrollment.status == EnrollmentStatus.ACTIVE)]
    if not journey.allow_re_enrollment:
        conditions = [~sa.exists().where(mine)]
    return conditions


def insert_enrollments(
    session: Session,
    actor: Actor,
    journey: Journey,
    candidates: sa.Select,
    *,
    now: dt.datetime,
    source: str,
    limit: int | None = None,
) -> list[int]:
    """Enroll the candidates (a SELECT of customer_id, and optionally
    contact_id) the journey can take, at most `limit` of them, each starting
    at the first step of the journey's current version, due at once. Returns
    the customers enrolled."""
    if limit is not None and limit <= 0:
        return []
    cand = candidates.subquery("candidates")
    contact = cand.c.contact_id if "contact_id" in cand.c else sa.null()
    values = {
        "journey_id": sa.literal(journey.id),
        "journey_version": sa.literal(journey.version),
        "customer_id": cand.c.customer_id,
        "contact_id": contact,
        "status": sa.literal(EnrollmentStatus.ACTIVE.value),
        "current_step_id": sa.literal(first_step_id(session, journey)),
        "step_entered_at": sa.literal(now, UTCDateTime()),
        "next_run_at": sa.literal(now, UTCDateTime()),
        "enrolled_at": sa.literal(now, UTCDateTime()),
        "facts": sa.literal({"source": source}, _enrollments.c.facts.type),
        "created_at": sa.literal(now, UTCDateTime()),
    }
    select = (
        sa.select(*values.values()).where(*eligible(journey, cand.c.customer_id)).order_by(cand.c.customer_id)
    )
    if limit is not None:
        select = select.limit(limit)
    stmt = (
        dialect.insert_for(session, _enrollments)
        .from_select(list(values), select)
        .on_conflict_do_nothing()
        .returning(_enrollments.c.id, _enrollments.c.customer_id)
    )
    rows = session.execute(stmt).all()
    if rows:
        session.execute(
            sa.update(Journey)
            .where(Journey.id == journey.id)
            .values(total_enrolled=Journey.total_enrolled + len(rows), updated_at=now)
        )
        data = {"journey": journey.key, "source": source}
        events.record_many(
            session,
            actor,
            ENROLLED,
            [(customer_id, {**data, "enrollment_id": enrollment_id}) for enrollment_id, customer_id in rows],
            occurred_at=now,
        )
    return [customer_id for _, customer_id in rows]


def enroll(
    session: Session,
    actor: Actor,
    key: str,
    *,
    customers: list[str] | None = None,
    segment: str | None = None,
    now: dt.datetime,
) -> EnrollResult:
    """`cs enroll`: put the named customers (external ids), or a segment's
    members, that the actor can see into journey `key`. Customers already in
    it, or enrolled before when re-enrollment is off, are reported and left;
    if the journey's capacity cannot take all the others, nothing is done."""
    journey = find_journey(session, key)
    if not journey.is_active:
        raise BadInput(f"journey '{key}' is deactivated", hint="load a file that has it again")
    dialect.one_at_a_time(session, "journeys.enroll")  # triggers.ENROLLING
    if segment is not None:
        from cs_cli.services.segments.definitions import find_segment
        from cs_cli.services.segments.members import member_condition

        found = find_segment(session, segment)
        rows = session.execute(
            sa.select(Customer.id, Customer.external_id, Customer.status)
            .where(member_condition(found.id), customer_scope(actor))
            .order_by(Customer.external_id)
        ).all()
        if not rows:
            raise BadInput(f"segment '{found.name}' has no members you can see")
    else:
        wanted = list(dict.fromkeys(customers or []))
        if not wanted:
            raise BadInput("name at least one customer, or --segment")
        rows = session.execute(
            sa.select(Customer.id, Customer.external_id, Customer.status).where(
                Customer.external_id.in_(wanted), customer_scope(actor)
            )
        ).all()
        missing = sorted(set(wanted) - {r.external_id for r in rows})
        if missing:
            scope = "" if actor.role == "admin" else " that you can see"
            raise NotFound(f"no customer '{missing[0]}'{scope}")
    names = {r.id: r.external_id for r in rows}
    result = EnrollResult(journey=key)
    past = session.execute(
        sa.select(JourneyEnrollment.customer_id, JourneyEnrollment.status).where(
            JourneyEnrollment.journey_id == journey.id, JourneyEnrollment.customer_id.in_(list(names))
        )
    ).all()
    active_now = {c for c, status in past if status == EnrollmentStatus.ACTIVE}
    before = {c for c, _ in past}
    takers = []
    for r in rows:
        if r.id in active_now:
            result.already_active.append(r.external_id)
        elif r.id in before and not journey.allow_re_enrollment:
            result.enrolled_before.append(r.external_id)
        else:
            takers.append(r.id)
            if r.status == CustomerStatus.CHURNED:
                result.churned.append(r.external_id)
    room = capacity_left(session, journey)
    if room is not None and len(takers) > room:
        raise BadInput(
            f"journey '{key}' holds at most {journey.max_concurrent_enrollments} active enrollments; "
            f"it has room for {room}, not {len(takers)}",
            hint="enroll fewer customers, or raise max_concurrent_enrollments in its file",
        )
    if takers:
        candidates = sa.select(Customer.id.label("customer_id")).where(Customer.id.in_(takers))
        added = insert_enrollments(
            session, actor, journey, candidates, now=now, source=f"manual:{actor.name}"
        )
        result.enrolled = sorted(names[c] for c in added)
        for customer_id in added:
            audit(
                session,
                actor,
                "journey.enroll",
                "journey",
                key,
                at=now,
                customer_id=customer_id,
                details={"source": "manual"},
            )
    return result
