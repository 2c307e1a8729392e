"""Refreshing segments: who is in each dynamic segment today, set-based.

The statements do not grow with the book, and barely with the number of
segments: the usage aggregates every rule needs come from one pass over the
events; one scan of the book evaluates every rule at once into a scratch
table; then, for all segments together, customers no longer matching leave
(their stay gets exited_at, a segment.exited event) and new ones enter (a new
stay, a segment.entered event); finally the metrics are recounted. Segments
built on other segments (in_segment) are evaluated after them, in layers.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli import rules
from cs_cli.db import dialect
from cs_cli.db.models import Customer, CustomerSegment, HealthScore, Segment
from cs_cli.domain import Actor, RefreshResult, SegmentType
from cs_cli.errors import BadInput
from cs_cli.rules.compile import compile_rules, usage_facts, usage_keys
from cs_cli.services import events
from cs_cli.services.access import require_role
from cs_cli.services.audit import audit_many
from cs_cli.services.health.overrides import active
from cs_cli.services.segments.definitions import EDITORS, find_segment, refresh_order

ENTERED = "segment.entered"
EXITED = "segment.exited"
BIG_CHANGE = 10_000
RULED = (SegmentType.DYNAMIC, SegmentType.AI_GENERATED)


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
    order; static segments, and AI-made ones without rules, only have their
    metrics recounted. A
    segment that cannot be evaluated keeps its members and comes back with
    its `error`; the others are refreshed."""
    require_role(actor, *EDITORS, doing="refreshing segments")
    # Two refreshes at once would both open the same stays; the second waits.
    dialect.one_at_a_time(session, "segments.refresh")
    if names:
        segments = [find_segment(session, n) for n in dict.fromkeys(names)]
    else:
        segments = list(session.scalars(sa.select(Segment).where(Segment.is_active)))
    ordered = refresh_order(segments)
    errors: dict[int, str] = {}
    nodes: dict[int, rules.Node] = {}
    for s in ordered:
        # An ai_generated segment with rules (`cs segments suggest --accept`)
        # is a dynamic one whose rules a model wrote.
        if s.segment_type in RULED and s.rules:
            try:
                nodes[s.id] = rules.parse_document(s.rules, where="rules")
            except BadInput as exc:  # saved by an older cs, or edited by hand
                errors[s.id] = exc.message
    dynamic = [s for s in ordered if s.id in nodes]
    entered: Counter[int] = Counter()
    exited: Counter[int] = Counter()
    if dynamic:
        dialect.for_whole_table_reads(session)
        dialect.roomy_sorts(session)
        with _Scratch(session) as scratch:
            keys = set().union(*(usage_keys(n) for n in nodes.values()))
            facts = None
            if keys:
                facts, select = usage_facts(keys, dialect=dialect.name(session), as_of=as_of)
                scratch.fill(facts.table, select)
            for layer in _layers(dynamic, nodes):
                failed = _refresh_layer(
                    session, actor, scratch, layer, nodes, facts, as_of, now, entered, exited
                )
                errors.update(failed)
                if progress:
                    progress(len(layer))
        if sum(entered.values()) + sum(exited.values()) > BIG_CHANGE:
            # The next refresh plans its joins on these statistics; do not
            # leave them to autovacuum's timing.
            dialect.analyze(session, CustomerSegment.__table__)
    members = recount(session, [s for s in ordered if s.id not in errors], as_of=as_of, now=now)
    audit_many(
        session,
        actor,
        [
            (
                "segment.refreshed",
                "segment",
                s.id,
                None,
                {"name": s.name, "entered": entered[s.id], "exited": exited[s.id], "error": errors.get(s.id)},
            )
            for s in ordered
        ],
        at=now,
    )
    return [
        RefreshResult(
            s.name, members.get(s.id, s.customer_count or 0), entered[s.id], exited[s.id], errors.get(s.id)
        )
        for s in ordered
    ]


def _refresh_layer(
    session: Session,
    actor: Actor,
    scratch: _Scratch,
    layer: list[Segment],
    nodes: dict[int, rules.Node],
    facts,
    as_of: dt.date,
    now: dt.datetime,
    entered: Counter[int],
    exited: Counter[int],
) -> dict[int, str]:
    """Refresh a layer's segments together; if the database refuses that,
    each one alone, so one segment it cannot evaluate is skipped (its
    members left as they were) and never holds back the others. Returns
    the reason for each segment skipped."""
    groups = [layer] if len(layer) == 1 else [layer, *([s] for s in layer)]
    failed: dict[int, str] = {}
    for group in groups:
        moved_in, moved_out = Counter[int](), Counter[int]()
        try:
            with session.begin_nested():
                _evaluate(session, scratch, group, nodes, facts, as_of=as_of)
                _move(session, actor, scratch, group, now, moved_in, moved_out)
        except sa.exc.DBAPIError as exc:
            if len(group) == 1:
                failed[group[0].id] = "the database refused it: " + _first_line(exc)
            continue
        entered.update(moved_in)
        exited.update(moved_out)
        if group is layer:
            break
    return failed


def _first_line(exc: sa.exc.DBAPIError) -> str:
    # The statement and its values follow on later lines: customer data.
    return (str(exc.orig).strip().splitlines() or ["error"])[0]


class _Scratch:
    """Temporary tables for one refresh, dropped at the end."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.connection = session.connection()
        self.tables: list[sa.Table] = []
        self.matches = sa.Table(
            "cs_segment_matches",
            sa.MetaData(),
            sa.Column("segment_id", sa.Integer, primary_key=True),
            sa.Column("customer_id", sa.Integer, primary_key=True),
            prefixes=["TEMPORARY"],
        )

    def __enter__(self) -> _Scratch:
        self.create(self.matches)
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is not None:
            # The transaction rolls back, taking them along; dropping now
            # would fail on Postgres and hide the error that got us here.
            return
        for table in reversed(self.tables):
            table.drop(self.connection, checkfirst=True)

    def create(self, table: sa.Table) -> None:
        table.drop(self.connection, checkfirst=True)
        table.create(self.connection)
        self.tables.append(table)

    def fill(self, table: sa.Table, select: sa.Select) -> None:
        self.create(table)
        self.session.execute(sa.insert(table).from_select([c.name for c in table.c], select))
        dialect.analyze(self.session, table)


def _layers(dynamic: list[Segment], nodes: dict[int, rules.Node]) -> list[list[Segment]]:
    """Groups to evaluate in turn: a segment comes in a later group than the
    refreshed segments it names (`dynamic` is already in dependency order)."""
    level: dict[str, int] = {}
    for segment in dynamic:
        named = rules.segments_named(nodes[segment.id])
        level[segment.name] = 1 + max((level[n] for n in named if n in level), default=-1)
    layers: list[list[Segment]] = [[] for _ in range(max(level.values()) + 1)]
    for segment in dynamic:
        layers[level[segment.name]].append(segment)
    return layers


def _evaluate(
    session: Session,
    scratch: _Scratch,
    layer: list[Segment],
    nodes: dict[int, rules.Node],
    facts,
    *,
    as_of: dt.date,
) -> None:
    """Fill the matches table with (segment, customer) for this layer: one
    scan of the book evaluates every rule, then one statement unpivots it."""
    source, conditions = compile_rules(
        [nodes[s.id] for s in layer], dialect=dialect.name(session), as_of=as_of, facts=facts
    )
    scan = sa.Table(
        "cs_segment_scan",
        sa.MetaData(),
        sa.Column("customer_id", sa.Integer, primary_key=True),
        *(sa.Column(f"s{i}", sa.SmallInteger) for i in range(len(layer))),
        prefixes=["TEMPORARY"],
    )
    customers = Customer.__table__
    flags = [sa.case((condition, 1), else_=0) for condition in conditions]
    scratch.fill(scan, sa.select(customers.c.id, *flags).select_from(source))
    session.execute(sa.delete(scratch.matches))
    picks = [
        sa.select(sa.literal(segment.id, sa.Integer), scan.c.customer_id).where(scan.c[f"s{i}"] == 1)
        for i, segment in enumerate(layer)
    ]
    session.execute(
        sa.insert(scratch.matches).from_select(["segment_id", "customer_id"], sa.union_all(*picks))
    )
    dialect.analyze(session, scratch.matches)


def _move(
    session: Session,
    actor: Actor,
    scratch: _Scratch,
    layer: list[Segment],
    now: dt.datetime,
    entered: Counter[int],
    exited: Counter[int],
) -> None:
    """Close the stays of customers no longer matching and open stays for new
    ones, with an event each, for every segment of the layer at once. The
    difference is computed once (two anti-joins) into a small table that
    the writes then read."""
    stays, segments, matches = CustomerSegment.__table__, Segment.__table__, scratch.matches
    open_here = sa.and_(stays.c.segment_id.in_([s.id for s in layer]), stays.c.exited_at.is_(None))
    still = (
        sa.select(sa.literal(1))
        .where(matches.c.segment_id == stays.c.segment_id, matches.c.customer_id == stays.c.customer_id)
        .exists()
    )
    already = (
        sa.select(sa.literal(1))
        .where(
            stays.c.segment_id == matches.c.segment_id,
            stays.c.customer_id == matches.c.customer_id,
            stays.c.exited_at.is_(None),
        )
        .exists()
    )
    moves = sa.Table(
        "cs_segment_moves",
        sa.MetaData(),
        sa.Column("segment_id", sa.Integer, primary_key=True),
        sa.Column("customer_id", sa.Integer, primary_key=True),
        sa.Column("entering", sa.Boolean),
        prefixes=["TEMPORARY"],
    )
    scratch.fill(
        moves,
        sa.union_all(
            sa.select(stays.c.segment_id, stays.c.customer_id, sa.false()).where(open_here, ~still),
            sa.select(matches.c.segment_id, matches.c.customer_id, sa.true()).where(~already),
        ),
    )
    counts = session.execute(
        sa.select(moves.c.segment_id, moves.c.entering, sa.func.count()).group_by(
            moves.c.segment_id, moves.c.entering
        )
    )
    for segment_id, entering, count in counts:
        (entered if entering else exited)[segment_id] += count

    data = dialect.json_object(session, {"segment": segments.c.name, "segment_id": segments.c.id})
    for entering, event_type in ((False, EXITED), (True, ENTERED)):
        rows = (
            sa.select(moves.c.customer_id, data)
            .join(segments, segments.c.id == moves.c.segment_id)
            .where(moves.c.entering.is_(entering))
            .order_by(moves.c.segment_id, moves.c.customer_id)
        )
        events.record_from_select(session, actor, event_type, rows, occurred_at=now, count=False)
    leaving = sa.select(sa.literal(1)).where(
        moves.c.segment_id == stays.c.segment_id,
        moves.c.customer_id == stays.c.customer_id,
        moves.c.entering.is_(False),
    )
    session.execute(
        sa.update(stays).where(stays.c.exited_at.is_(None), leaving.exists()).values(exited_at=now),
        execution_options={"synchronize_session": False},
    )
    session.execute(
        sa.insert(stays).from_select(
            ["customer_id", "segment_id", "entered_at"],
            sa.select(
                moves.c.customer_id, moves.c.segment_id, sa.literal(now, stays.c.entered_at.type)
            ).where(moves.c.entering.is_(True)),
        )
    )


def recount(session: Session, segments: list[Segment], *, as_of: dt.date, now: dt.datetime) -> dict[int, int]:
    """Members, their total ARR and average health (an override in force
    counts) of each segment, in one grouped query. Returns members by id."""
    if not segments:
        return {}
    stays = CustomerSegment.__table__
    override = active(as_of)
    score = sa.func.coalesce(override.c.overall_score, HealthScore.overall_score)
    rows = session.execute(
        sa.select(stays.c.segment_id, sa.func.count(), sa.func.sum(Customer.arr), sa.func.avg(score))
        .select_from(stays)
        .join(Customer, Customer.id == stays.c.customer_id)
        .outerjoin(HealthScore, HealthScore.customer_id == Customer.id)
        .outerjoin(override, override.c.customer_id == Customer.id)
        .where(stays.c.segment_id.in_([s.id for s in segments]), stays.c.exited_at.is_(None))
        .group_by(stays.c.segment_id)
    )
    found = {segment_id: (count, arr, health) for segment_id, count, arr, health in rows}
    for segment in segments:
        count, arr, health = found.get(segment.id, (0, None, None))
        segment.customer_count = count
        segment.total_arr = arr
        segment.avg_health_score = None if health is None else round(float(health), 1)
        segment.refreshed_at = now
    session.flush()
    return {s.id: s.customer_count for s in segments}
