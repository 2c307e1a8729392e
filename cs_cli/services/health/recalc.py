"""`recalc`: score the book for a day, set-based, in batches of customers.

Per batch a fixed number of statements: the measure queries (one per source
table), the scores of 30 days before and the current scores, then one upsert
of history rows, one of current scores and one insert of domain events.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.models import Customer, DomainEvent, HealthScore, HealthScoreHistory
from cs_cli.domain import Actor, HealthStatus
from cs_cli.errors import BadInput
from cs_cli.services.access import customer_scope
from cs_cli.services.health import scoring
from cs_cli.services.health.measures import collect, feature_count
from cs_cli.specs.scorecard import LoadedScorecard

COMPONENT_COLUMNS = {
    "adoption": "product_adoption_score",
    "engagement": "engagement_score",
    "relationship": "relationship_score",
    "financial": "financial_score",
    "support": "support_score",
}


@dataclass(frozen=True)
class DayResult:
    """What one as-of day's recalculation did."""

    as_of: dt.date
    scored: int
    by_status: dict[str, int]
    without_data: int
    dropped: int
    # Per customer (dry runs only): external id -> (score, status).
    preview: dict[str, tuple[int, str]] = field(default_factory=dict)


def target_ids(session: Session, actor: Actor, customers: Sequence[str] | None = None) -> list[int]:
    """The ids to score: those named (by external id), else every customer in scope."""
    stmt = sa.select(Customer.id, Customer.external_id).where(customer_scope(actor)).order_by(Customer.id)
    if customers:
        stmt = stmt.where(Customer.external_id.in_(list(customers)))
        found = dict((ext, cid) for cid, ext in session.execute(stmt))
        unknown = [c for c in customers if c not in found]
        if unknown:
            raise BadInput(
                f"no customer {unknown[0]!r}" + (" that you can see" if actor.role != "admin" else "")
            )
        return sorted(found.values())
    return list(session.scalars(sa.select(Customer.id).where(customer_scope(actor)).order_by(Customer.id)))


def recalc_day(
    session: Session,
    actor: Actor,
    scorecard: LoadedScorecard,
    ids: list[int],
    *,
    as_of: dt.date,
    now: dt.datetime,
    batch_size: int = 10_000,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> DayResult:
    """Score `ids` as of the end of `as_of`: write one history row per customer
    for that day (replacing a previous one), move the current score forward
    when this day is not older than it, and record status drops as events."""
    card = scorecard.card
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    features = feature_count(session, card, end)
    by_status: Counter[str] = Counter()
    without = dropped_count = scored_count = 0
    preview: dict[str, tuple[int, str]] = {}
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        wanted = set(chunk)
        measures = collect(session, card, chunk[0], chunk[-1], as_of=as_of, features=features)
        before = _scores_on_or_before(session, chunk[0], chunk[-1], as_of - dt.timedelta(days=30))
        current = {
            row.customer_id: row
            for row in session.execute(
                sa.select(HealthScore.customer_id, HealthScore.health_status, HealthScore.as_of).where(
                    HealthScore.customer_id.between(chunk[0], chunk[-1])
                )
            )
        }
        history_rows: list[dict[str, Any]] = []
        current_rows: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        for customer_id in chunk:
            m = measures.get(customer_id)
            if m is None or customer_id not in wanted:
                continue
            result = scoring.score(card, m.raw, m.signals, churned=m.churned)
            if result is None:
                without += 1
                continue
            scored_count += 1
            by_status[result.status.value] += 1
            explanation = {
                "scorecard": card.name,
                "measures": result.measures,
                "missing": result.missing,
                "contributions": result.contributions,
                "base": result.base,
                "multipliers": [[name, factor] for name, factor in result.multipliers],
            }
            change = result.overall - before[customer_id] if customer_id in before else None
            components = {COMPONENT_COLUMNS[c]: v for c, v in result.components.items()}
            history_rows.append(
                {
                    "customer_id": customer_id,
                    "as_of": as_of,
                    "overall_score": result.overall,
                    "health_status": result.status,
                    **components,
                    "scorecard_version": scorecard.version,
                    "measures": explanation,
                    "calculated_at": now,
                    "created_at": now,
                }
            )
            previous = current.get(customer_id)
            if previous is not None and previous.as_of is not None and previous.as_of > as_of:
                continue  # a backfill of an older day leaves the current score alone
            current_rows.append(
                {
                    "customer_id": customer_id,
                    "overall_score": result.overall,
                    "health_status": result.status,
                    **components,
                    "days_since_last_login": m.days_since_last_login,
                    "days_to_renewal": m.days_to_renewal,
                    "score_trend": scoring.trend(card, change),
                    "score_change_30d": change,
                    "calculated_at": now,
                    "created_at": now,
                    "as_of": as_of,
                    "scorecard_version": scorecard.version,
                }
            )
            old_status = previous.health_status if previous is not None else None
            if scoring.dropped(old_status, result.status):
                dropped_count += 1
                events.append(
                    {
                        "event_type": "health.status_dropped",
                        "customer_id": customer_id,
                        "occurred_at": end - dt.timedelta(microseconds=1),
                        "data": {
                            "from": old_status.value if old_status else None,
                            "to": result.status.value,
                            "score": result.overall,
                            "as_of": as_of.isoformat(),
                        },
                        "actor_name": actor.name,
                        "created_at": now,
                    }
                )
        if dry_run:
            names = dict(
                session.execute(
                    sa.select(Customer.id, Customer.external_id).where(
                        Customer.id.between(chunk[0], chunk[-1])
                    )
                ).all()
            )
            for row in history_rows:
                preview[names[row["customer_id"]]] = (row["overall_score"], row["health_status"].value)
        else:
            _write(session, history_rows, current_rows, events)
        if progress:
            progress(len(chunk))
    return DayResult(
        as_of=as_of,
        scored=scored_count,
        by_status=dict(by_status),
        without_data=without,
        dropped=dropped_count,
        preview=preview,
    )


def _scores_on_or_before(session: Session, lo: int, hi: int, day: dt.date) -> dict[int, int]:
    """Each customer's latest history score on or before `day`."""
    h = HealthScoreHistory
    latest = (
        sa.select(h.customer_id, sa.func.max(h.as_of).label("as_of"))
        .where(h.customer_id.between(lo, hi), h.as_of <= day)
        .group_by(h.customer_id)
        .subquery()
    )
    return dict(
        session.execute(
            sa.select(h.customer_id, h.overall_score).join(
                latest, sa.and_(h.customer_id == latest.c.customer_id, h.as_of == latest.c.as_of)
            )
        ).all()
    )


def _write(
    session: Session,
    history_rows: list[dict[str, Any]],
    current_rows: list[dict[str, Any]],
    events: list[dict[str, Any]],
) -> None:
    history = HealthScoreHistory.__table__
    current = HealthScore.__table__
    if history_rows:
        dialect.upsert(
            session,
            history,
            history_rows,
            key=("customer_id", "as_of"),
            update=[c for c in history_rows[0] if c not in ("customer_id", "as_of", "created_at")],
        )
    if current_rows:
        dialect.upsert(
            session,
            current,
            current_rows,
            key="customer_id",
            update=[c for c in current_rows[0] if c not in ("customer_id", "created_at")],
        )
    if events:
        session.execute(sa.insert(DomainEvent.__table__), events)


def status_counts(results: Sequence[DayResult]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for r in results:
        total.update(r.by_status)
    return {s.value: total.get(s.value, 0) for s in HealthStatus}
