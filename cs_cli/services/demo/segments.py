"""The demo's segments: a few dynamic ones a CS team would keep, and a
hand-picked advisory board, so `cs segments` has something to show."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import Customer, Segment
from cs_cli.domain import Actor, CustomerStatus, SegmentType
from cs_cli.services.segments.definitions import create_segment
from cs_cli.services.segments.members import add_members

DYNAMIC = {
    "Renewing in 90 days": (
        "Active accounts whose renewal is in the next quarter",
        {"status": "active", "renewal_date": {"within_next_days": 90}},
    ),
    "At-risk enterprise": (
        "Enterprise accounts whose health is at risk or critical",
        {"plan": "Enterprise", "health_status": ["at_risk", "critical"]},
    ),
    "Dormant 30 days": (
        "Active accounts with no product usage in 30 days",
        {"status": "active", "usage": {"last_days": 30, "eq": 0}},
    ),
    "Power users": (
        "Accounts active on 20 or more of the last 30 days",
        {"usage": {"last_days": 30, "measure": "active_days", "gte": 20}},
    ),
    "Onboarding": (
        "Accounts in their first 90 days",
        {"attributes.lifecycle_stage": "onboarding"},
    ),
}
ADVISORY_BOARD = "Customer advisory board"


def write_segments(session: Session, actor: Actor, *, as_of: dt.date, now: dt.datetime) -> int:
    """Define the demo segments; returns how many. Dynamic ones fill at the
    first `cs segments refresh` (after `cs recalc`, for the health rules).
    Segments of the same name already there are left as they are."""
    taken = set(session.scalars(sa.select(Segment.name)))
    written = 0
    for name, (description, rules) in DYNAMIC.items():
        if name in taken:
            continue
        written += 1
        create_segment(
            session,
            actor,
            name=name,
            segment_type=SegmentType.DYNAMIC,
            description=description,
            document=rules,
            now=now,
        )
    if ADVISORY_BOARD in taken:
        return written
    create_segment(
        session,
        actor,
        name=ADVISORY_BOARD,
        segment_type=SegmentType.STATIC,
        description="Hand-picked: the largest active accounts",
        document=None,
        now=now,
    )
    largest = session.scalars(
        sa.select(Customer.external_id)
        .where(Customer.status == CustomerStatus.ACTIVE)
        .order_by(Customer.arr.desc().nulls_last(), Customer.external_id)
        .limit(5)
    ).all()
    if largest:
        add_members(session, actor, ADVISORY_BOARD, list(largest), as_of=as_of, now=now)
    return written + 1
