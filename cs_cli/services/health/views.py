"""Reading health scores: listings, one customer's explained score, history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import (
    Contact,
    Customer,
    HealthScore,
    HealthScoreHistory,
    Invoice,
    NpsResponse,
    ScorecardVersion,
    SupportTicket,
    Touchpoint,
    UsageEvent,
    User,
)
from cs_cli.domain import Actor, HealthDetail, HealthRow, HealthStatus, HistoryPoint, Page, ScoreTrend
from cs_cli.enums import UNJUDGED_STATUSES
from cs_cli.errors import BadInput, NotFound
from cs_cli.services.access import customer_scope
from cs_cli.services.audit import record_read
from cs_cli.services.customers import find_customer
from cs_cli.services.health.overrides import active

if TYPE_CHECKING:
    from cs_cli.specs.scorecard import Scorecard

SORT_KEYS = {
    "score": HealthScore.overall_score,
    "change": HealthScore.score_change_30d,
    "name": Customer.name,
    "renewal": HealthScore.days_to_renewal,
}


@dataclass(frozen=True)
class HealthFilter:
    status: HealthStatus | None = None
    csm: str | None = None
    min_score: int | None = None
    max_score: int | None = None
    trend: ScoreTrend | None = None
    # Churned customers are left out unless asked for (or --status churned).
    churned: bool = True
    # So are the statuses the score does not judge (onboarding, insufficient data).
    unjudged: bool = True


def list_scores(
    session: Session,
    actor: Actor,
    flt: HealthFilter,
    *,
    as_of: dt.date,
    sort: str = "score",
    offset: int = 0,
    limit: int | None = 50,
) -> Page:
    """Current scores of the customers the actor may see, filtered and sorted;
    an override in force on `as_of` stands in for the computed score."""
    override = active(as_of)
    score = sa.func.coalesce(override.c.overall_score, HealthScore.overall_score)
    status = sa.func.coalesce(override.c.health_status, HealthScore.health_status)
    stmt = (
        sa.select(
            Customer.external_id,
            Customer.name,
            User.email.label("csm_email"),
            score.label("overall_score"),
            status.label("health_status"),
            HealthScore.score_trend,
            HealthScore.score_change_30d,
            HealthScore.product_adoption_score,
            HealthScore.engagement_score,
            HealthScore.relationship_score,
            HealthScore.financial_score,
            HealthScore.support_score,
            HealthScore.days_to_renewal,
            HealthScore.as_of,
            override.c.customer_id.is_not(None).label("overridden"),
        )
        .join(HealthScore, HealthScore.customer_id == Customer.id)
        .outerjoin(User, User.id == Customer.csm_id)
        .outerjoin(override, override.c.customer_id == Customer.id)
        .where(customer_scope(actor))
    )
    left_out: dict[str, int] = {}
    if flt.status:
        stmt = stmt.where(status == flt.status.value)
    else:
        if not flt.churned:
            stmt = stmt.where(status != HealthStatus.CHURNED.value)
        if not flt.unjudged:
            unjudged = [s.value for s in UNJUDGED_STATUSES]
            left_out = {s.value: 0 for s in UNJUDGED_STATUSES}
            apart = stmt.where(status.in_(unjudged)).subquery()
            left_out.update(
                session.execute(
                    sa.select(apart.c.health_status, sa.func.count()).group_by(apart.c.health_status)
                ).all()
            )
            stmt = stmt.where(status.not_in(unjudged))
    if flt.csm:
        stmt = stmt.where(sa.or_(sa.func.lower(User.email) == flt.csm.lower(), User.login == flt.csm))
    if flt.min_score is not None:
        stmt = stmt.where(score >= flt.min_score)
    if flt.max_score is not None:
        stmt = stmt.where(score <= flt.max_score)
    if flt.trend:
        stmt = stmt.where(HealthScore.score_trend == flt.trend)
    key = sort.lstrip("-")
    if key not in SORT_KEYS:
        raise BadInput(f"cannot sort by '{key}' (choose from: {', '.join(SORT_KEYS)})")
    column = score if key == "score" else SORT_KEYS[key]
    order = column.desc().nulls_last() if sort.startswith("-") else column.asc().nulls_last()
    total = session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    stmt = stmt.order_by(order, Customer.id).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = [
        HealthRow(
            **{**r._mapping, "health_status": HealthStatus(r.health_status), "overridden": bool(r.overridden)}
        )
        for r in session.execute(stmt)
    ]
    return Page(rows=rows, total=total, offset=offset, limit=limit, left_out=left_out)


def score_detail(
    session: Session,
    actor: Actor,
    ref: str,
    *,
    as_of: dt.date | None = None,
    today: dt.date | None = None,
    record: bool = True,
) -> HealthDetail:
    """The customer's current score (or the one of `as_of`) with its
    explanation; `record`: an audit entry of the read (not when a larger
    read that records itself, the Customer 360, asks)."""
    customer = find_customer(session, actor, ref)
    if record:
        record_read(session, actor, "health", customer_id=customer.id, details={"as_of": as_of})
    current = session.scalar(sa.select(HealthScore).where(HealthScore.customer_id == customer.id))
    if as_of is None:
        if current is None:
            raise _why_unscored(session, customer, today)
        as_of = current.as_of
    h = session.scalar(
        sa.select(HealthScoreHistory).where(
            HealthScoreHistory.customer_id == customer.id, HealthScoreHistory.as_of == as_of
        )
    )
    if h is None:
        raise NotFound(
            f"{customer.external_id} has no health score for {as_of}", hint="see `cs health history`"
        )
    # Scoring and scorecards are imported where a score is explained: a
    # listing does without them (a fifth of its start-up).
    from cs_cli.services.health.scoring import explain, kept
    from cs_cli.services.health.writes import COMPONENT_COLUMNS

    components = {c: getattr(h, col) for c, col in COMPONENT_COLUMNS.items()}
    card = _scorecard(session, h.scorecard_version)
    is_current = current is not None and current.as_of == h.as_of
    override = active(today or h.as_of)
    in_force = session.execute(sa.select(override).where(override.c.customer_id == customer.id)).first()
    return HealthDetail(
        external_id=customer.external_id,
        name=customer.name,
        as_of=h.as_of,
        overall_score=h.overall_score,
        health_status=h.health_status,
        score_trend=current.score_trend if is_current else None,
        score_change_30d=current.score_change_30d if is_current else None,
        components=components,
        explanation=explain(card, components, kept(card, h.raw_values, h.signal_values, h.measures)),
        scorecard_version=h.scorecard_version,
        days_since_last_login=current.days_since_last_login if is_current else None,
        days_to_renewal=current.days_to_renewal if is_current else None,
        override=(
            {k: v for k, v in in_force._mapping.items() if k != "customer_id"}
            if in_force is not None
            else None
        ),
    )


# Where each component's data comes from, for saying what a customer lacks.
_SOURCES = (
    ("usage events", UsageEvent),
    ("touchpoints", Touchpoint),
    ("contacts", Contact),
    ("NPS responses", NpsResponse),
    ("invoices", Invoice),
    ("support tickets", SupportTicket),
)


def _why_unscored(session: Session, customer: Customer, today: dt.date | None) -> NotFound:
    """Why a customer has no score: nothing was ever scored, it is not a
    customer yet, or cs recalc found no data for it (and which)."""
    ext = customer.external_id
    if session.scalar(sa.select(HealthScore.id).limit(1)) is None:
        return NotFound(f"{ext} has no health score yet", hint="run `cs recalc`")
    if customer.contract_start is not None and today is not None and customer.contract_start > today:
        return NotFound(f"{ext} has no health score: it is a customer from {customer.contract_start}")
    missing = [
        what
        for what, model in _SOURCES
        if session.scalar(sa.select(model.customer_id).where(model.customer_id == customer.id).limit(1))
        is None
    ]
    if len(missing) < len(_SOURCES):
        return NotFound(
            f"{ext} has no health score yet: it has data cs recalc has not scored",
            hint="run `cs recalc` (or `cs recalc --customer ID`)",
        )
    return NotFound(
        f"{ext} has no health score: cs recalc found no data to score it"
        f" (no {', '.join(missing[:-1])} or {missing[-1]})",
        hint="import its data with `cs import` (docs/importing.md); ARR alone is not enough",
    )


def status_bands(session: Session, version: str | None) -> tuple[int, int]:
    """The status thresholds (at risk, healthy) of the scorecard that made a
    score (by version), else of the shipped one."""
    from cs_cli.specs.scorecard import load_scorecard

    card = _scorecard(session, version) if version else load_scorecard().card
    return card.status.at_risk, card.status.healthy


def _scorecard(session: Session, version: str | None) -> Scorecard:
    """The scorecard that made a score (kept by version), else the shipped one.
    Kept for the session: a version is a hash of the text, so what it names
    never changes, and the 360 asks for it twice (explanation, bands)."""
    from cs_cli.specs.scorecard import load_scorecard, scorecard_from_text

    read: dict[str, Scorecard] = session.info.setdefault("cs_scorecards", {})
    if version and version in read:
        return read[version]
    text = session.scalar(sa.select(ScorecardVersion.content).where(ScorecardVersion.version == version))
    if not text:
        return load_scorecard().card
    card = read[version] = scorecard_from_text(text)
    return card


def history(
    session: Session, actor: Actor, ref: str, *, since: dt.date | None = None, until: dt.date | None = None
) -> tuple[str, list[HistoryPoint]]:
    """The customer's daily scores, oldest first."""
    customer = find_customer(session, actor, ref)
    h = HealthScoreHistory
    stmt = sa.select(
        h.as_of,
        h.overall_score,
        h.health_status,
        h.product_adoption_score,
        h.engagement_score,
        h.relationship_score,
        h.financial_score,
        h.support_score,
    ).where(h.customer_id == customer.id)
    if since:
        stmt = stmt.where(h.as_of >= since)
    if until:
        stmt = stmt.where(h.as_of <= until)
    return customer.external_id, [HistoryPoint(**r._mapping) for r in session.execute(stmt.order_by(h.as_of))]


def distribution(session: Session, actor: Actor) -> list[dict]:
    """Customers, share and ARR by health status, over the actor's scope."""
    rows = session.execute(
        sa.select(
            HealthScore.health_status,
            sa.func.count(),
            sa.func.sum(Customer.arr),
            sa.func.avg(HealthScore.overall_score),
        )
        .join(Customer, Customer.id == HealthScore.customer_id)
        .where(customer_scope(actor))
        .group_by(HealthScore.health_status)
    ).all()
    found = {status: (count, arr, avg) for status, count, arr, avg in rows}
    total = sum(count for count, _, _ in found.values()) or 1
    out = []
    for status in HealthStatus:
        count, arr, avg = found.get(status, (0, None, None))
        out.append(
            {
                "health_status": status,
                "customers": count,
                "share": round(count / total, 3),
                "arr": arr,
                "average_score": round(float(avg), 1) if avg is not None else None,
            }
        )
    return out
