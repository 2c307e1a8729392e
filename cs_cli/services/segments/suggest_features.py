"""The features `cs segments suggest` clusters the active book on, read as of
a day in a handful of set-based statements (never one per customer).

Each feature but sentiment is also a field of the rule language, computed
here the way a rule computes it, so the rules found for a cluster select on
refresh what they selected here. Sentiment has no rule field: it shapes the
clusters and their profile, never their rules.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.base import UTCDateTime
from cs_cli.db.models import Customer, HealthScore, HealthScoreHistory, Touchpoint
from cs_cli.enums import HealthStatus
from cs_cli.rules.compile import UsageKey, usage_facts
from cs_cli.services.facts import day_end, day_start, facts_as_of

USAGE_DAYS = 30
SENTIMENT_DAYS = 90


@dataclass(frozen=True)
class Feature:
    name: str
    words: str  # how the profile names it
    integer: bool  # a rule compares whole numbers
    log: bool  # clustered on log(1 + x): long-tailed (ARR)
    in_rules: bool  # a field of the rule language
    low: str  # the name's word for a cluster below the book
    high: str  # ... and above it
    # What a missing value counts as when clustering: None, the book's median.
    neutral: float | None = None


FEATURES: tuple[Feature, ...] = (
    Feature("health_score", "health", True, False, True, "low health", "high health"),
    Feature(
        "relationship_score",
        "relationship score",
        True,
        False,
        True,
        "weak relationships",
        "strong relationships",
    ),
    Feature("support_score", "support score", True, False, True, "support trouble", "smooth support"),
    Feature("financial_score", "financial score", True, False, True, "billing trouble", "sound billing"),
    Feature("active_days_30", f"active days in {USAGE_DAYS}", True, False, True, "little use", "heavy use"),
    Feature("arr", "ARR", False, True, True, "small ARR", "large ARR"),
    Feature("tenure_days", "days a customer", True, False, True, "new", "long-standing"),
    Feature("days_to_renewal", "days to renewal", True, False, True, "renewing soon", "renewal far off"),
    Feature(
        "sentiment_90d",
        f"touchpoint sentiment ({SENTIMENT_DAYS} days)",
        False,
        False,
        False,
        "unhappy",
        "happy",
        # No analysed touchpoint says nothing either way: neutral, not the
        # book's median (which a happy majority would make positive).
        neutral=0.0,
    ),
)
BY_NAME = {f.name: f for f in FEATURES}
# Health components that are features: the signals of trouble that usage and
# the overall score blur (a champion gone, support trouble, late invoices).
# Their rule fields and score columns have the same names.
COMPONENTS = COMPONENT_COLUMNS = ("relationship_score", "support_score", "financial_score")


@dataclass(frozen=True)
class BookFeatures:
    """One row per active customer, in customer id order."""

    ids: np.ndarray
    external_ids: list[str]
    values: dict[str, np.ndarray]  # feature -> float values, NaN where missing
    churn_probability: np.ndarray  # NaN where the model has not scored
    troubled: np.ndarray  # bool: health status at_risk or critical
    grew: np.ndarray  # float 1/0: ARR up on a year before; NaN: not a customer then


def usage_rule(**comparison: Any) -> dict[str, Any]:
    """The usage condition that computes `active_days_30`."""
    return {"usage": {"last_days": USAGE_DAYS, "measure": "active_days", **comparison}}


def read_features(session: Session, as_of: dt.date) -> BookFeatures:
    """The active book's features as of the end of `as_of`: customer facts in
    force then, the last health score by then, usage and sentiment in their
    windows, and whether ARR grew over the year before."""
    facts = facts_as_of(session, as_of)
    rows = session.execute(
        sa.select(
            facts.c.customer_id,
            Customer.external_id,
            facts.c.arr,
            facts.c.contract_start,
            facts.c.renewal_date,
        )
        .join(Customer, Customer.id == facts.c.customer_id)
        .where(facts.c.is_customer, sa.not_(facts.c.churned))
        .order_by(facts.c.customer_id)
    ).all()
    n = len(rows)
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=n)
    at = {int(i): k for k, i in enumerate(ids)}
    values = {f.name: np.full(n, np.nan) for f in FEATURES}
    for k, (_id, _ext, arr, start, renewal) in enumerate(rows):
        if arr is not None:
            values["arr"][k] = float(arr)
        # As the rule language counts them: as_of minus the start, the renewal minus as_of.
        if start is not None:
            values["tenure_days"][k] = (as_of - start).days
        if renewal is not None:
            values["days_to_renewal"][k] = (renewal - as_of).days

    churn = np.full(n, np.nan)
    troubled = np.zeros(n, dtype=bool)
    bad = {HealthStatus.AT_RISK, HealthStatus.CRITICAL}
    scored_on: dict[int, dt.date] = {}
    for cid, day, score, status, probability, *parts in _health(session, as_of):
        k = at.get(cid)
        # The newest score by the day wins, from the history or the current row.
        if k is None or (k in scored_on and scored_on[k] >= day):
            continue
        scored_on[k] = day
        values["health_score"][k] = score
        for name, part in zip(COMPONENTS, parts, strict=True):
            values[name][k] = np.nan if part is None else part
        troubled[k] = status in bad
        churn[k] = np.nan if probability is None else probability

    # A customer with no events in the window has 0 active days, as in a rule.
    values["active_days_30"][:] = 0.0
    _facts, select = usage_facts(
        {UsageKey(None, USAGE_DAYS, "active_days")}, dialect=dialect.name(session), as_of=as_of
    )
    for cid, days in session.execute(select):
        k = at.get(cid)
        if k is not None:
            values["active_days_30"][k] = float(days or 0)

    t = Touchpoint.__table__
    since = day_start(as_of - dt.timedelta(days=SENTIMENT_DAYS - 1))
    for cid, mean in session.execute(
        sa.select(t.c.customer_id, sa.func.avg(t.c.sentiment_score))
        .where(
            t.c.sentiment_score.is_not(None),
            t.c.occurred_at >= sa.literal(since, UTCDateTime()),
            t.c.occurred_at < sa.literal(day_end(as_of), UTCDateTime()),
        )
        .group_by(t.c.customer_id)
    ):
        k = at.get(cid)
        if k is not None and mean is not None:
            values["sentiment_90d"][k] = float(mean)

    grew = np.full(n, np.nan)
    before = facts_as_of(session, as_of - dt.timedelta(days=365))
    for cid, arr in session.execute(
        sa.select(before.c.customer_id, before.c.arr).where(before.c.is_customer, sa.not_(before.c.churned))
    ):
        k = at.get(cid)
        if k is not None and arr is not None and not np.isnan(values["arr"][k]):
            grew[k] = 1.0 if values["arr"][k] > float(arr) else 0.0
    return BookFeatures(ids, [r[1] for r in rows], values, churn, troubled, grew)


def _health(session: Session, as_of: dt.date):
    """(customer id, day, overall score, status, churn probability): each
    customer's score in the history for the latest day by `as_of`, and its
    current score when made by then (a current score without a day, written
    directly, counts as of `as_of`)."""
    h = HealthScoreHistory.__table__
    ranked = (
        sa.select(
            h.c.customer_id,
            h.c.as_of,
            h.c.overall_score,
            h.c.health_status,
            h.c.churn_probability,
            *(h.c[c] for c in COMPONENT_COLUMNS),
            sa.func.row_number().over(partition_by=h.c.customer_id, order_by=h.c.as_of.desc()).label("pick"),
        )
        .where(h.c.as_of <= as_of)
        .subquery()
    )
    yield from session.execute(
        sa.select(
            ranked.c.customer_id,
            ranked.c.as_of,
            ranked.c.overall_score,
            ranked.c.health_status,
            ranked.c.churn_probability,
            *(ranked.c[c] for c in COMPONENT_COLUMNS),
        ).where(ranked.c.pick == 1)
    )
    c = HealthScore.__table__
    for cid, day, *rest in session.execute(
        sa.select(
            c.c.customer_id,
            c.c.as_of,
            c.c.overall_score,
            c.c.health_status,
            c.c.churn_probability,
            *(c.c[col] for col in COMPONENT_COLUMNS),
        ).where(sa.or_(c.c.as_of.is_(None), c.c.as_of <= as_of))
    ):
        yield (cid, day or as_of, *rest)
