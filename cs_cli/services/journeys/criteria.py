"""Conditions, goals and exit criteria, answered for a whole group of
enrollments at once: a rule document is compiled once and run over the
group's customers in one query; facts read the group's tasks and events in
one query each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.models import CSTask, Customer, DomainEvent
from cs_cli.rules import compile_rule, parse_document
from cs_cli.specs.journey import Criteria, Fact

_CHUNK = 5_000


class Enrolled(Protocol):
    id: int
    customer_id: int
    enrolled_at: dt.datetime
    facts: dict[str, Any]


def rules_hold(
    session: Session, document: dict[str, Any], customer_ids: set[int], *, today: dt.date
) -> set[int]:
    """The customers among `customer_ids` that the rule document matches today."""
    if not customer_ids:
        return set()
    rule = compile_rule(parse_document(document), dialect=dialect.name(session), as_of=today)
    found: set[int] = set()
    ids = sorted(customer_ids)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        found.update(session.scalars(rule.customer_ids().where(Customer.id.in_(chunk))))
    return found


def events_seen(
    session: Session, event_type: str, since: dict[int, dt.datetime], *, until: dt.datetime
) -> dict[int, dt.datetime]:
    """For each customer in `since`, when the first `event_type` event
    recorded for it at or after its own moment (and not after `until`) came."""
    if not since:
        return {}
    out: dict[int, dt.datetime] = {}
    ids = sorted(since)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        earliest = min(since[i] for i in chunk)
        rows = session.execute(
            sa.select(DomainEvent.customer_id, DomainEvent.occurred_at)
            .where(
                DomainEvent.event_type == event_type,
                DomainEvent.customer_id.in_(chunk),
                DomainEvent.occurred_at >= earliest,
                DomainEvent.occurred_at <= until,
            )
            .order_by(DomainEvent.occurred_at)
        )
        for customer_id, at in rows:
            if customer_id not in out and at >= since[customer_id]:
                out[customer_id] = at
    return out


def task_states(session: Session, task_ids: set[int]) -> dict[int, tuple[str, str | None]]:
    """(status, outcome) of each task."""
    if not task_ids:
        return {}
    out: dict[int, tuple[str, str | None]] = {}
    ids = sorted(task_ids)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for task_id, status, outcome in session.execute(
            sa.select(CSTask.id, CSTask.status, CSTask.outcome).where(CSTask.id.in_(chunk))
        ):
            out[task_id] = (str(status), str(outcome) if outcome is not None else None)
    return out


def facts_hold(
    session: Session, facts: Sequence[Fact], group: Sequence[Enrolled], *, now: dt.datetime
) -> set[int]:
    """The enrollments of `group` for which every fact holds."""
    holding = {e.id for e in group}
    for fact in facts:
        if not holding:
            break
        members = [e for e in group if e.id in holding]
        if fact.task is not None:
            ids = {_task_id(e, fact.task) for e in members} - {None}
            states = task_states(session, ids)  # type: ignore[arg-type]
            for e in members:
                state = states.get(_task_id(e, fact.task))  # type: ignore[arg-type]
                if not _task_matches(fact, state):
                    holding.discard(e.id)
        else:
            assert fact.event is not None
            since = {e.customer_id: e.enrolled_at for e in members}
            seen = events_seen(session, fact.event, since, until=now)
            wanted = fact.seen is not False
            for e in members:
                if (e.customer_id in seen) != wanted:
                    holding.discard(e.id)
    return holding


def _task_id(e: Enrolled, step_key: str) -> int | None:
    return ((e.facts.get("tasks") or {}).get(step_key) or {}).get("id")


def _task_matches(fact: Fact, state: tuple[str, str | None] | None) -> bool:
    if state is None:
        return False
    status, outcome = state
    if fact.status and status not in {s.value for s in fact.status}:
        return False
    return not fact.outcome or (status == "completed" and outcome in {o.value for o in fact.outcome})


def criteria_met(
    session: Session, criteria: Criteria, group: Sequence[Enrolled], *, now: dt.datetime
) -> set[int]:
    """The enrollments of `group` that meet the criteria now (every part given)."""
    members = list(group)
    if criteria.within_days is not None:
        limit = dt.timedelta(days=criteria.within_days)
        members = [e for e in members if now - e.enrolled_at <= limit]
    holding = {e.id for e in members}
    if criteria.rules is not None and holding:
        matched = rules_hold(session, criteria.rules, {e.customer_id for e in members}, today=now.date())
        holding = {e.id for e in members if e.customer_id in matched}
    if criteria.facts and holding:
        holding &= facts_hold(session, criteria.facts, [e for e in members if e.id in holding], now=now)
    if criteria.event is not None and holding:
        left = [e for e in members if e.id in holding]
        seen = events_seen(session, criteria.event, {e.customer_id: e.enrolled_at for e in left}, until=now)
        holding = {e.id for e in left if e.customer_id in seen}
    return holding
