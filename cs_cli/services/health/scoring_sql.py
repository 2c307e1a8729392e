"""The scorecard compiled into SQL: band scores as CASE expressions, component
and overall scores as weighted averages over what has data, multipliers and
status, for every customer of a measure query at once.

It computes exactly what scoring.py computes for one customer (a test checks
every score it writes against scoring.py): whole numbers round half up
(floor(x + 0.5)), the overall score is truncated, and the sums run in the
same order.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.base import FloatArray, JSONType
from cs_cli.domain import HealthStatus, ScoreTrend
from cs_cli.services.health.measures import MeasureQuery
from cs_cli.services.health.scoring import SIGNAL_VALUES
from cs_cli.specs.scorecard import SIZE_MEASURES, Component, Scorecard

# Each level is a subquery that uses the columns of the one below several
# times. A planner that merges subqueries into their parent would copy those
# expressions into every use, growing the statement at each level (seconds
# of work on Postgres); OFFSET 0 keeps each level a subquery on both dialects.


def _band_case(card: Scorecard, name: str, raw: sa.ColumnElement) -> sa.ColumnElement:
    measure = card.measure(name)
    if measure.values is not None:
        # Text (or a boolean) matched regardless of case against the table.
        lowered = sa.func.lower(raw)
        whens = [(lowered == key.lower(), sa.literal(score)) for key, score in measure.values.items()]
        other = sa.null() if measure.other is None else sa.literal(measure.other)
        return sa.case((raw.is_(None), sa.null()), *whens, else_=other)
    bands = measure.bands
    assert bands is not None
    whens = [(raw.is_(None), sa.null())]
    if bands[0].lower is not None:
        whens.append((raw < bands[0].lower, sa.null()))
    for band in bands[:-1]:
        whens.append((raw < band.upper, sa.literal(band.score)))
    last = bands[-1]
    if last.upper is not None:
        whens.append((raw < last.upper, sa.literal(last.score)))
        return sa.case(*whens, else_=sa.null())
    return sa.case(*whens, else_=sa.literal(last.score))


def _weighted(pairs: list[tuple[float, sa.ColumnElement]]) -> tuple[sa.ColumnElement, sa.ColumnElement]:
    """(sum of weight * value, sum of weights) over the values that are not null."""
    zero = sa.literal(0.0, sa.Float)
    numerator: sa.ColumnElement = zero
    denominator: sa.ColumnElement = zero
    for weight, value in pairs:
        w = sa.literal(float(weight), sa.Float)
        numerator = numerator + sa.case((value.is_not(None), w * sa.cast(value, sa.Float)), else_=zero)
        denominator = denominator + sa.case((value.is_not(None), w), else_=zero)
    return numerator, denominator


def _divide(numerator: sa.ColumnElement, denominator: sa.ColumnElement) -> sa.ColumnElement:
    """Floating-point division (as in Python), NULL when nothing to divide by."""
    return numerator / sa.cast(sa.func.nullif(denominator, sa.literal(0.0, sa.Float)), sa.Float)


def _coverage(card: Scorecard, s: sa.Subquery) -> sa.ColumnElement:
    """The share of the component weights whose component has data beyond
    size alone (a measure like contract_value says how big, not how healthy)."""
    total = sum(w for w in card.weights.values() if w > 0)
    covered: sa.ColumnElement = sa.literal(0.0, sa.Float)
    for component, spec in card.components.items():
        weight = card.weights.get(component, 0.0)
        signals = [s.c[f"score_{name}"].is_not(None) for name in spec.measures if name not in SIZE_MEASURES]
        if weight <= 0 or not signals:
            continue
        covered = covered + sa.case((sa.or_(*signals), sa.literal(weight / total, sa.Float)), else_=0.0)
    return covered


def scored_select(
    session: Session,
    card: Scorecard,
    mq: MeasureQuery,
    previous: sa.Subquery,
    *,
    flat: bool = False,
) -> sa.Select:
    """One row per customer with any data: scores, status, trend, the raw
    measures and the signals behind the multipliers (as history keeps them). `previous`
    has (customer_id, overall_score) of the score 30 days before. `flat`:
    each raw measure in a column of its own (raw_NAME) instead of the JSON,
    for reading many customers fast."""
    # Level 1: raw measures and signals.
    raw_names = list(mq.raw)
    m = (
        sa.select(
            mq.customer_id.label("customer_id"),
            mq.churned.label("churned"),
            mq.days_to_renewal.label("days_to_renewal"),
            mq.days_since_last_login.label("days_since_last_login"),
            mq.open_escalations.label("open_escalations"),
            mq.champion_left.label("champion_left"),
            mq.tenure_days.label("tenure_days"),
            *(expr.label(f"raw_{name}") for name, expr in mq.raw.items()),
        )
        .select_from(mq.source)
        .where(mq.condition)
        .offset(0)  # see _fence
        .subquery("m")
    )
    # Level 2: band scores.
    s = (
        sa.select(
            m, *(_band_case(card, name, m.c[f"raw_{name}"]).label(f"score_{name}") for name in raw_names)
        )
        .offset(0)
        .subquery("s")
    )
    # Level 3: component scores, rounded half up.
    components = {}
    for component in Component:
        spec = card.components.get(component)
        if spec is None:
            components[component] = sa.cast(sa.null(), sa.Integer)
            continue
        numerator, denominator = _weighted(
            [(mm.weight, s.c[f"score_{name}"]) for name, mm in spec.measures.items()]
        )
        components[component] = sa.case(
            (denominator > 0, dialect.floor_int(session, _divide(numerator, denominator) + 0.5)),
            else_=sa.cast(sa.null(), sa.Integer),
        )
    c = (
        sa.select(
            s,
            *(expr.label(f"component_{k.value}") for k, expr in components.items()),
            _coverage(card, s).label("coverage"),
        )
        .offset(0)
        .subquery("c")
    )
    # Level 4: base score, multipliers, overall score and status.
    numerator, denominator = _weighted(
        [
            (card.weights.get(k, 0.0), c.c[f"component_{k.value}"])
            for k in Component
            if card.weights.get(k, 0.0) > 0
        ]
    )
    base = _divide(numerator, denominator)
    mult = card.multipliers
    factor_renewal = sa.case(
        (
            sa.and_(c.c.days_to_renewal >= 0, c.c.days_to_renewal < mult.renewal_within_days),
            sa.literal(mult.renewal, sa.Float),
        ),
        else_=sa.literal(1.0, sa.Float),
    )
    factor_escalation = sa.case(
        (c.c.open_escalations > 0, sa.literal(mult.open_escalation, sa.Float)),
        else_=sa.literal(1.0, sa.Float),
    )
    factor_champion = sa.case(
        (c.c.champion_left > 0, sa.literal(mult.champion_left, sa.Float)), else_=sa.literal(1.0, sa.Float)
    )
    product = base * factor_renewal * factor_escalation * factor_champion
    overall = dialect.least(session, sa.literal(100), dialect.floor_int(session, product + sa.literal(1e-9)))
    o = (
        sa.select(c, base.label("base"), overall.label("overall"))
        .where(denominator > 0)
        .offset(0)
        .subquery("o")
    )
    status = sa.case(
        (o.c.churned, HealthStatus.CHURNED.value),
        (o.c.tenure_days < card.min_tenure_days, HealthStatus.ONBOARDING.value),
        (
            sa.or_(o.c.coverage <= 0, o.c.coverage < card.min_coverage - 1e-9),
            HealthStatus.INSUFFICIENT_DATA.value,
        ),
        (o.c.overall >= card.status.healthy, HealthStatus.HEALTHY.value),
        (o.c.overall >= card.status.at_risk, HealthStatus.AT_RISK.value),
        else_=HealthStatus.CRITICAL.value,
    )
    change = o.c.overall - previous.c.overall_score
    trend = sa.case(
        (change.is_(None), sa.null()),
        (change >= card.trend.improving, ScoreTrend.IMPROVING.value),
        (change <= -card.trend.declining, ScoreTrend.DECLINING.value),
        else_=ScoreTrend.STABLE.value,
    )
    # What history keeps to explain the score: each measure's raw value, the
    # signals behind the multipliers, and the base score, as arrays of
    # numbers in a known order (SIGNAL_VALUES, the scorecard's measures).
    # Band scores are not kept: they follow from the raw values and the
    # scorecard version. A JSON object of the same numbers cost a third of
    # the whole statement (each number converted for JSONB); text raw values
    # (attribute measures scored by a table) are the only JSON left.
    numeric = {name: not card.measure(name).is_categorical for name in raw_names}
    signal_columns = {**{name: o.c[name] for name in SIGNAL_VALUES if name != "base"}, "base": o.c.base}
    texts = [name for name in raw_names if not numeric[name]]
    text_json = (
        dialect.json_object(
            session, {"raw": dialect.json_object(session, {name: o.c[f"raw_{name}"] for name in texts})}
        )
        if texts
        else sa.cast(sa.null(), JSONType)
    )
    explained = (
        [o.c[f"raw_{name}"] for name in raw_names]
        if flat
        else [
            sa.type_coerce(
                dialect.float_array(
                    session, [o.c[f"raw_{name}"] if numeric[name] else sa.null() for name in raw_names]
                ),
                FloatArray,
            ).label("raw_values"),
            sa.type_coerce(
                dialect.float_array(session, [signal_columns[name] for name in SIGNAL_VALUES]), FloatArray
            ).label("signal_values"),
            sa.type_coerce(text_json, JSONType).label("measures"),
        ]
    )
    return (
        sa.select(
            o.c.customer_id,
            sa.cast(o.c.overall, sa.Integer).label("overall_score"),
            status.label("health_status"),
            *(o.c[f"component_{k.value}"].label(f"component_{k.value}") for k in Component),
            o.c.days_to_renewal,
            o.c.days_since_last_login,
            change.label("score_change_30d"),
            trend.label("score_trend"),
            *explained,
        )
        .select_from(o)
        .outerjoin(previous, previous.c.customer_id == o.c.customer_id)
    )
