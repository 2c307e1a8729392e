"""Who is in a segment: hand-picked members of static segments, listings,
membership history and overlaps."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.models import Customer, CustomerSegment, Segment
from cs_cli.domain import Actor, CustomerRow, MembershipChange, Page, SegmentType
from cs_cli.errors import BadInput, NotFound
from cs_cli.services import events
from cs_cli.services.access import customer_scope, require_role
from cs_cli.services.audit import audit_many
from cs_cli.services.customers import customer_row_query
from cs_cli.services.segments.definitions import EDITORS, find_segment
from cs_cli.services.segments.refresh import ENTERED, EXITED, recount


def add_members(
    session: Session, actor: Actor, ref: str, customers: list[str], *, as_of: dt.date, now: dt.datetime
) -> tuple[int, int]:
    """Put customers you can see into a static segment. Returns (added,
    already members)."""
    require_role(actor, *EDITORS, doing="changing a segment's members")
    dialect.one_at_a_time(session, "segments.refresh")
    segment = _static(session, ref)
    ids = _customer_ids(session, actor, customers)
    new = add_stays(session, actor, segment, ids, now=now)
    recount(session, [segment], as_of=as_of, now=now)
    entries = [("segment.member_added", "segment", segment.id, cid, {"name": segment.name}) for cid in new]
    audit_many(session, actor, entries, at=now)
    return len(new), len(ids) - len(new)


def remove_members(
    session: Session, actor: Actor, ref: str, customers: list[str], *, as_of: dt.date, now: dt.datetime
) -> tuple[int, int]:
    """End the stays of customers in a static segment. Returns (removed, not
    members)."""
    require_role(actor, *EDITORS, doing="changing a segment's members")
    dialect.one_at_a_time(session, "segments.refresh")
    segment = _static(session, ref)
    ids = _customer_ids(session, actor, customers)
    leaving = end_stays(session, actor, segment, ids, now=now)
    recount(session, [segment], as_of=as_of, now=now)
    entries = [
        ("segment.member_removed", "segment", segment.id, cid, {"name": segment.name}) for cid in leaving
    ]
    audit_many(session, actor, entries, at=now)
    return len(leaving), len(ids) - len(leaving)


def add_stays(
    session: Session, actor: Actor, segment: Segment, ids: list[int], *, now: dt.datetime
) -> list[int]:
    """Open a stay in a static segment for each of `ids` without one, with
    its segment.entered event; returns the customers added. The caller
    recounts the segment."""
    open_now = set(
        session.scalars(
            sa.select(CustomerSegment.customer_id).where(
                CustomerSegment.segment_id == segment.id,
                CustomerSegment.exited_at.is_(None),
                CustomerSegment.customer_id.in_(ids),
            )
        )
    )
    new = [i for i in dict.fromkeys(ids) if i not in open_now]
    if new:
        session.execute(
            sa.insert(CustomerSegment),
            [{"customer_id": i, "segment_id": segment.id, "entered_at": now} for i in new],
        )
        data = {"segment": segment.name, "segment_id": segment.id}
        events.record_many(session, actor, ENTERED, [(i, data) for i in new], occurred_at=now)
    return new


def end_stays(
    session: Session, actor: Actor, segment: Segment, ids: list[int], *, now: dt.datetime
) -> list[int]:
    """End the open stays of `ids` in a static segment, with their
    segment.exited events; returns the customers removed. The caller
    recounts the segment."""
    open_stays = sa.and_(
        CustomerSegment.segment_id == segment.id,
        CustomerSegment.exited_at.is_(None),
        CustomerSegment.customer_id.in_(ids),
    )
    leaving = list(session.scalars(sa.select(CustomerSegment.customer_id).where(open_stays)))
    if leaving:
        session.execute(
            sa.update(CustomerSegment).where(open_stays).values(exited_at=now),
            execution_options={"synchronize_session": False},
        )
        data = {"segment": segment.name, "segment_id": segment.id}
        events.record_many(session, actor, EXITED, [(i, data) for i in leaving], occurred_at=now)
    return leaving


def member_condition(segment_id: int) -> sa.ColumnElement[bool]:
    """Customers with an open stay in the segment."""
    return Customer.id.in_(
        sa.select(CustomerSegment.customer_id).where(
            CustomerSegment.segment_id == segment_id, CustomerSegment.exited_at.is_(None)
        )
    )


def members(session: Session, actor: Actor, ref: str, *, offset: int = 0, limit: int | None = 50) -> Page:
    """One page of the segment's current members you can see, by ARR."""
    segment = find_segment(session, ref)
    base = customer_row_query().where(member_condition(segment.id), customer_scope(actor))
    total = session.scalar(sa.select(sa.func.count()).select_from(base.subquery())) or 0
    stmt = base.order_by(Customer.arr.desc().nulls_last(), Customer.id).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = [CustomerRow(**r._mapping) for r in session.execute(stmt)]
    return Page(rows=rows, total=total, offset=offset, limit=limit)


def history(
    session: Session, actor: Actor, ref: str, *, since: dt.datetime | None = None, limit: int | None = 100
) -> list[MembershipChange]:
    """The latest stays that began or ended, newest first."""
    segment = find_segment(session, ref)
    s = CustomerSegment
    moved = sa.func.coalesce(s.exited_at, s.entered_at)
    stmt = (
        sa.select(Customer.external_id, Customer.name, s.entered_at, s.exited_at)
        .join(Customer, Customer.id == s.customer_id)
        .where(s.segment_id == segment.id, customer_scope(actor))
        .order_by(moved.desc(), s.id.desc())
        .limit(limit)
    )
    if since is not None:
        stmt = stmt.where(sa.or_(s.entered_at >= since, s.exited_at >= since))
    return [MembershipChange(**r._mapping) for r in session.execute(stmt)]


def overlap(session: Session, actor: Actor, refs: list[str]) -> list[dict[str, Any]]:
    """How two or three segments' current members you can see overlap: one
    row per combination (A only, A and B, ...) with customers and ARR."""
    if not 2 <= len(refs) <= 3:
        raise BadInput("overlap compares two or three segments")
    segments = [find_segment(session, r) for r in refs]
    if len({s.id for s in segments}) != len(segments):
        raise BadInput("name each segment once")
    s = CustomerSegment
    flags = [
        sa.func.max(sa.case((s.segment_id == seg.id, 1), else_=0)).label(f"in_{i}")
        for i, seg in enumerate(segments)
    ]
    per_customer = (
        sa.select(s.customer_id, *flags)
        .join(Customer, Customer.id == s.customer_id)
        .where(s.segment_id.in_([seg.id for seg in segments]), s.exited_at.is_(None), customer_scope(actor))
        .group_by(s.customer_id)
        .subquery("per_customer")
    )
    keys = [per_customer.c[f"in_{i}"] for i in range(len(segments))]
    found = {
        tuple(row[:-2]): (row[-2], row[-1])
        for row in session.execute(
            sa.select(*keys, sa.func.count(), sa.func.sum(Customer.arr))
            .join(Customer, Customer.id == per_customer.c.customer_id)
            .group_by(*keys)
        )
    }
    rows = []
    # Every combination, the empty ones too, most segments first.
    combos = sorted(
        (c for c in _combinations(len(segments)) if any(c)), key=lambda c: (-sum(c), [-x for x in c])
    )
    for combo in combos:
        count, arr = found.get(combo, (0, None))
        names = [seg.name for seg, inside in zip(segments, combo, strict=True) if inside]
        label = " & ".join(names) + (" only" if len(names) < len(segments) else "")
        rows.append({"members": label, "customers": count, "total_arr": arr})
    for seg, key_index in zip(segments, range(len(segments)), strict=True):
        total = sum(n for combo, (n, _) in found.items() if combo[key_index])
        rows.append(
            {"members": f"all of {seg.name}", "customers": total, "total_arr": _arr_sum(found, key_index)}
        )
    return rows


def _arr_sum(found: dict, index: int):
    values = [arr for combo, (_, arr) in found.items() if combo[index] and arr is not None]
    return sum(values) if values else None


def _combinations(n: int) -> list[tuple[int, ...]]:
    return [tuple((mask >> i) & 1 for i in range(n)) for mask in range(2**n)]


def _static(session: Session, ref: str):
    segment = find_segment(session, ref)
    if segment.segment_type != SegmentType.STATIC:
        raise BadInput(
            f"'{segment.name}' is a {segment.segment_type.value} segment: its rules decide who is in it"
        )
    return segment


def _customer_ids(session: Session, actor: Actor, refs: list[str]) -> list[int]:
    if not refs:
        raise BadInput("name at least one customer")
    wanted = list(dict.fromkeys(refs))
    found = dict(
        session.execute(
            sa.select(Customer.external_id, Customer.id).where(
                Customer.external_id.in_(wanted), customer_scope(actor)
            )
        ).all()
    )
    missing = [r for r in wanted if r not in found]
    if missing:
        scope = "" if actor.role == "admin" else " that you can see"
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise NotFound(f"no customer '{missing[0]}'{scope}{more}")
    return [found[r] for r in wanted]
