"""Segment definitions: create, change, retire; and what a rule would select."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli import rules
from cs_cli.db import dialect
from cs_cli.db.models import Customer, HealthScore, Playbook, Segment
from cs_cli.domain import Actor, CustomerRow, Role, SegmentPreview, SegmentRow, SegmentType
from cs_cli.errors import BadInput, NotFound
from cs_cli.services.access import customer_scope, require_role
from cs_cli.services.audit import audit
from cs_cli.services.customers import customer_row_query
from cs_cli.services.health.overrides import active

EDITORS = (Role.MANAGER, Role.ADMIN)


def segment_row(segment: Segment) -> SegmentRow:
    return SegmentRow(
        id=segment.id,
        name=segment.name,
        segment_type=segment.segment_type,
        description=segment.description,
        rules=segment.rules,
        customer_count=segment.customer_count,
        total_arr=segment.total_arr,
        avg_health_score=segment.avg_health_score,
        is_active=segment.is_active,
        refreshed_at=segment.refreshed_at,
        ai_confidence=segment.ai_confidence,
        ai_reasoning=segment.ai_reasoning,
    )


def find_segment(session: Session, ref: str) -> Segment:
    """A segment by name (or numeric id)."""
    segment = session.scalar(sa.select(Segment).where(Segment.name == ref))
    if segment is None and ref.isdigit():
        segment = session.get(Segment, int(ref))
    if segment is None:
        close = session.scalars(
            sa.select(Segment.name).where(sa.func.lower(Segment.name) == ref.lower()).limit(1)
        ).first()
        raise NotFound(f"no segment '{ref}'" + (f" (did you mean '{close}'?)" if close else ""))
    return segment


def list_segments(session: Session, *, include_inactive: bool = False) -> list[SegmentRow]:
    """Every segment, by name, with the metrics of its last refresh."""
    stmt = sa.select(Segment).order_by(Segment.name)
    if not include_inactive:
        stmt = stmt.where(Segment.is_active)
    return [segment_row(s) for s in session.scalars(stmt)]


def create_segment(
    session: Session,
    actor: Actor,
    *,
    name: str,
    segment_type: SegmentType,
    description: str | None,
    document: dict[str, Any] | None,
    now: dt.datetime,
    ai_confidence: float | None = None,
    ai_reasoning: str | None = None,
) -> SegmentRow:
    """Add a segment; a dynamic one needs rules, which are checked now. An
    ai_generated one with rules refreshes like a dynamic one."""
    require_role(actor, *EDITORS, doing="creating a segment")
    name = _valid_name(name)
    if session.scalar(sa.select(Segment.id).where(Segment.name == name)) is not None:
        raise BadInput(f"a segment named '{name}' already exists", hint="change it with `cs segments update`")
    if segment_type == SegmentType.DYNAMIC and document is None:
        raise BadInput("a dynamic segment needs rules: --rules JSON or --rules-file FILE")
    if segment_type == SegmentType.STATIC and document is not None:
        raise BadInput("a static segment has no rules; add customers with `cs segments add`")
    if document is not None:
        check_rules(session, document, segment_name=name)
    segment = Segment(
        name=name,
        segment_type=segment_type,
        description=description,
        rules=document,
        ai_confidence=ai_confidence,
        ai_reasoning=ai_reasoning,
        created_at=now,
    )
    session.add(segment)
    session.flush()
    audit(session, actor, "segment.created", "segment", segment.id, at=now, details={"name": name})
    return segment_row(segment)


def update_segment(
    session: Session,
    actor: Actor,
    ref: str,
    *,
    new_name: str | None = None,
    description: str | None = None,
    document: dict[str, Any] | None = None,
    is_active: bool | None = None,
    now: dt.datetime,
) -> SegmentRow:
    """Change a segment's name, description, rules or whether it is active.
    New rules take effect at its next refresh."""
    require_role(actor, *EDITORS, doing="changing a segment")
    segment = find_segment(session, ref)
    changes: dict[str, Any] = {}
    if new_name is not None and new_name != segment.name:
        new_name = _valid_name(new_name)
        if session.scalar(sa.select(Segment.id).where(Segment.name == new_name)) is not None:
            raise BadInput(f"a segment named '{new_name}' already exists")
        _refuse_if_named(session, segment, "renamed")
        changes["name"] = (segment.name, new_name)
        segment.name = new_name
    if description is not None:
        changes["description"] = (segment.description, description)
        segment.description = description
    if document is not None:
        if segment.segment_type == SegmentType.STATIC:
            raise BadInput(f"'{segment.name}' is a static segment; it has no rules")
        check_rules(session, document, segment_name=segment.name)
        changes["rules"] = (segment.rules, document)
        segment.rules = document
    if is_active is not None and is_active != segment.is_active:
        changes["is_active"] = (segment.is_active, is_active)
        segment.is_active = is_active
    if not changes:
        raise BadInput("nothing to change: give --name, --description, --rules or --active/--inactive")
    segment.updated_at = now
    audit(
        session,
        actor,
        "segment.updated",
        "segment",
        segment.id,
        at=now,
        details={k: {"from": old, "to": new} for k, (old, new) in changes.items()},
    )
    session.flush()
    return segment_row(segment)


def delete_segment(session: Session, actor: Actor, ref: str, *, now: dt.datetime) -> SegmentRow:
    """Remove a segment and its membership history. Refused while another
    segment's rules or a playbook trigger name it."""
    require_role(actor, *EDITORS, doing="deleting a segment")
    segment = find_segment(session, ref)
    _refuse_if_named(session, segment, "deleted")
    row = segment_row(segment)
    audit(session, actor, "segment.deleted", "segment", segment.id, at=now, details={"name": segment.name})
    session.delete(segment)
    session.flush()
    return row


def check_rules(session: Session, document: dict[str, Any], *, segment_name: str) -> rules.Node:
    """Parse the rules and check every segment they name exists and that no
    chain of in_segment conditions leads back to this segment."""
    node = rules.parse_document(document)
    named = rules.segments_named(node)
    if not named:
        return node
    known = {name: r for name, r in session.execute(sa.select(Segment.name, Segment.rules))}
    missing = sorted(n for n in named if n not in known and n != segment_name)
    if missing:
        raise BadInput(f"rules: in_segment names no segment '{missing[0]}'")
    graph = {name: _names_in(r) for name, r in known.items()}
    graph[segment_name] = named
    if _reaches(graph, segment_name):
        raise BadInput(f"rules: segment '{segment_name}' would depend on itself through in_segment")
    return node


def refresh_order(segments: list[Segment]) -> list[Segment]:
    """Segments ordered so that one named by another's in_segment comes first."""
    by_name = {s.name: s for s in segments}
    done: list[Segment] = []
    seen: set[str] = set()

    def visit(segment: Segment) -> None:
        if segment.name in seen:
            return
        seen.add(segment.name)
        for name in sorted(_names_in(segment.rules)):
            if name in by_name:
                visit(by_name[name])
        done.append(segment)

    for segment in sorted(segments, key=lambda s: s.name):
        visit(segment)
    return done


def preview(
    session: Session, actor: Actor, document: dict[str, Any], *, as_of: dt.date, sample: int = 10
) -> SegmentPreview:
    """How many of the customers you can see the rules select today, their
    ARR and average health, and a sample; nothing is saved."""
    node = check_rules(session, document, segment_name="")
    compiled = rules.compile_rule(node, dialect=dialect.name(session), as_of=as_of)
    matching = compiled.customer_ids().where(customer_scope(actor)).subquery("matching")
    override = active(as_of)
    score = sa.func.coalesce(override.c.overall_score, HealthScore.overall_score)
    totals = session.execute(
        sa.select(sa.func.count(), sa.func.sum(Customer.arr), sa.func.avg(score))
        .select_from(matching)
        .join(Customer, Customer.id == matching.c.id)
        .outerjoin(HealthScore, HealthScore.customer_id == Customer.id)
        .outerjoin(override, override.c.customer_id == Customer.id)
    ).one()
    rows = session.execute(
        customer_row_query()
        .where(Customer.id.in_(sa.select(matching.c.id)))
        .order_by(Customer.arr.desc().nulls_last(), Customer.id)
        .limit(sample)
    )
    return SegmentPreview(
        count=totals[0],
        total_arr=totals[1],
        avg_health_score=None if totals[2] is None else round(float(totals[2]), 1),
        sample=[CustomerRow(**r._mapping) for r in rows],
    )


def _refuse_if_named(session: Session, segment: Segment, doing: str) -> None:
    """A segment other segments' rules or an active playbook's trigger name
    cannot change its name or go away under them."""
    users = _referenced_by(session, segment.name, exclude=segment.id)
    if users:
        raise BadInput(
            f"segment '{segment.name}' cannot be {doing}: the rules of {', '.join(users)} name it; "
            "change those rules first"
        )
    playbooks = session.scalars(
        sa.select(Playbook.key).where(Playbook.trigger_segment_id == segment.id, Playbook.is_active)
    ).all()
    if playbooks:
        raise BadInput(
            f"segment '{segment.name}' cannot be {doing}: it triggers the playbooks {', '.join(playbooks)}; "
            "change their triggers and `cs playbooks load` first"
        )


def _valid_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100:
        raise BadInput("a segment name is 1 to 100 characters")
    if not name.isprintable():
        raise BadInput(f"a segment name is printable text; {name!r} is not")
    return name


def _names_in(document: dict[str, Any] | None) -> set[str]:
    if not document:
        return set()
    try:
        return rules.segments_named(rules.parse(document))
    except rules.RuleError:
        return set()


def _referenced_by(session: Session, name: str, *, exclude: int) -> list[str]:
    rows = session.execute(
        sa.select(Segment.id, Segment.name, Segment.rules).where(Segment.rules.is_not(None))
    )
    return sorted(n for i, n, r in rows if i != exclude and name in _names_in(r))


def _reaches(graph: dict[str, set[str]], start: str) -> bool:
    stack, seen = list(graph.get(start, ())), set()
    while stack:
        name = stack.pop()
        if name == start:
            return True
        if name not in seen:
            seen.add(name)
            stack.extend(graph.get(name, ()))
    return False
