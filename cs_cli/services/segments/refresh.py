"""Refreshing segments: who is in each dynamic segment today, set-based.

Per segment, a fixed handful of statements whatever the size of the book:
the rule's one query fills a scratch table; customers no longer matching
leave (their stay gets exited_at, a segment.exited event); new ones enter
(a new stay, a segment.entered event); the segment's metrics are recounted.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli import rules
from cs_cli.db import dialect
from cs_cli.db.models import Customer, CustomerSegment, HealthScore, Segment
from cs_cli.domain import Actor, RefreshResult, SegmentType
from cs_cli.services import events
from cs_cli.services.access import require_role
from cs_cli.services.health.overrides import active
from cs_cli.services.segments.definitions import EDITORS, find_segment, refresh_order

ENTERED = "segment.entered"
EXITED = "segment.exited"


def refresh(
    session: Session,
    actor: Actor,
    names: list[str] | None,
    *,
    as_of: dt.date,
    now: dt.datetime,
    progress=None,
) -> list[RefreshResult]:
    """Re-evaluate the named segments (None: every active one), in dependency
    order; static and AI-made segments only have their metrics recounted."""
    require_role(actor, *EDITORS, doing="refreshing segments")
    if names:
        segments = [find_segment(session, n) for n in dict.fromkeys(names)]
    else:
        segments = list(session.scalars(sa.select(Segment).where(Segment.is_active)))
    dialect.for_whole_table_reads(session)
    scratch = _scratch()
    connection = session.connection()
    scratch.drop(connection, checkfirst=True)
    scratch.create(connection)
    results = []
    try:
        for segment in refresh_order(segments):
            entered = exited = 0
            if segment.segment_type == SegmentType.DYNAMIC and segment.rules:
                entered, exited = _apply_rules(session, actor, segment, scratch, as_of=as_of, now=now)
            members = recount(session, segment, as_of=as_of, now=now)
            results.append(RefreshResult(segment.name, members, entered, exited))
            if progress:
                progress(1)
    finally:
        scratch.drop(connection, checkfirst=True)
    return results


def _scratch() -> sa.Table:
    return sa.Table(
        "cs_segment_matches",
        sa.MetaData(),
        sa.Column("customer_id", sa.Integer, primary_key=True),
        prefixes=["TEMPORARY"],
    )


def _apply_rules(
    session: Session, actor: Actor, segment: Segment, scratch: sa.Table, *, as_of: dt.date, now: dt.datetime
) -> tuple[int, int]:
    node = rules.parse_document(segment.rules, where=f"segment '{segment.name}' rules")
    compiled = rules.compile_rule(node, dialect=dialect.name(session), as_of=as_of)
    session.execute(sa.delete(scratch))
    session.execute(sa.insert(scratch).from_select(["customer_id"], compiled.customer_ids().distinct()))

    stays = CustomerSegment.__table__
    open_stays = sa.and_(stays.c.segment_id == segment.id, stays.c.exited_at.is_(None))
    matched = sa.select(scratch.c.customer_id).where(scratch.c.customer_id == stays.c.customer_id)
    data = dialect.json_object(
        session, {"segment": sa.literal(segment.name), "segment_id": sa.literal(segment.id)}
    )

    leaving = sa.select(stays.c.customer_id, data).where(open_stays, ~matched.exists())
    exited = events.record_from_select(session, actor, EXITED, leaving, occurred_at=now)
    if exited:
        session.execute(
            sa.update(stays).where(open_stays, ~matched.exists()).values(exited_at=now),
            execution_options={"synchronize_session": False},
        )

    already = sa.select(stays.c.customer_id).where(open_stays, stays.c.customer_id == scratch.c.customer_id)
    arriving = sa.select(scratch.c.customer_id, data).where(~already.exists())
    entered = events.record_from_select(session, actor, ENTERED, arriving, occurred_at=now)
    if entered:
        session.execute(
            sa.insert(stays).from_select(
                ["customer_id", "segment_id", "entered_at"],
                sa.select(
                    scratch.c.customer_id,
                    sa.literal(segment.id),
                    sa.literal(now, stays.c.entered_at.type),
                ).where(~already.exists()),
            )
        )
    return entered, exited


def recount(session: Session, segment: Segment, *, as_of: dt.date, now: dt.datetime) -> int:
    """Members, their total ARR and average health (an override in force counts)."""
    stays = CustomerSegment.__table__
    override = active(as_of)
    score = sa.func.coalesce(override.c.overall_score, HealthScore.overall_score)
    count, arr, health = session.execute(
        sa.select(sa.func.count(), sa.func.sum(Customer.arr), sa.func.avg(score))
        .select_from(stays)
        .join(Customer, Customer.id == stays.c.customer_id)
        .outerjoin(HealthScore, HealthScore.customer_id == Customer.id)
        .outerjoin(override, override.c.customer_id == Customer.id)
        .where(stays.c.segment_id == segment.id, stays.c.exited_at.is_(None))
    ).one()
    segment.customer_count = count
    segment.total_arr = arr
    segment.avg_health_score = None if health is None else round(float(health), 1)
    segment.refreshed_at = now
    session.flush()
    return count
