"""Churn risk on a day: the active book in bands of predicted churn
probability, with the churn and ARR the model expects of each band, and the
riskiest accounts. With no prediction on the day (no model trained, or none
run), the bands are health statuses instead, and the result says so."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import Customer, PredictionModel
from cs_cli.domain import Actor, ChurnRisk, HealthStatus, RiskBand, RiskyCustomer
from cs_cli.services.metrics.filters import Filters
from cs_cli.services.metrics.standing import NOT_SCORED, active_book

# Lower bounds of the probability bands, riskiest first.
BANDS = ((0.5, "50% and over"), (0.25, "25-50%"), (0.10, "10-25%"), (0.0, "under 10%"))
NOT_PREDICTED = "not predicted"


def churn_risk(
    session: Session, actor: Actor, filters: Filters, *, as_of: dt.date, top: int | None = 10
) -> ChurnRisk:
    """The active customers of `filters` on `as_of` by churn risk, and the
    `top` riskiest (all of them when `top` is None)."""
    facts, health, source, wanted = active_book(session, actor, filters, as_of)
    p = health.c.churn_probability
    customers, predicted = session.execute(
        sa.select(sa.func.count(), sa.func.count(p)).select_from(source).where(*wanted)
    ).one()
    by_model = bool(predicted)
    if by_model:
        band = sa.case(*((p >= low, label) for low, label in BANDS[:-1]), (p.is_not(None), BANDS[-1][1]))
        band = sa.func.coalesce(band, NOT_PREDICTED)
        order = [*(label for _, label in BANDS), NOT_PREDICTED]
    else:
        band = sa.func.coalesce(sa.type_coerce(health.c.health_status, sa.String), NOT_SCORED)
        order = [*(s.value for s in HealthStatus if s != HealthStatus.CHURNED), NOT_SCORED]
    arr = sa.func.coalesce(facts.c.arr, 0)
    rows = session.execute(
        sa.select(band, sa.func.count(), sa.func.sum(arr), sa.func.sum(p), sa.func.sum(p * arr))
        .select_from(source)
        .where(*wanted)
        .group_by(band)
    ).all()
    found = {str(getattr(b, "value", b)): r for b, *r in rows}
    bands = []
    for label in order:
        n, arr_sum, p_sum, p_arr = found.get(label, (0, 0, None, None))
        bands.append(
            RiskBand(
                band=label,
                customers=int(n),
                arr=float(arr_sum or 0),
                expected_churns=float(p_sum or 0) if by_model and label != NOT_PREDICTED else None,
                expected_arr=float(p_arr or 0) if by_model and label != NOT_PREDICTED else None,
            )
        )
    riskiest = _riskiest(session, facts, health, source, wanted, by_model, top)
    horizon, auc = _model(session) if by_model else (None, None)
    return ChurnRisk(
        as_of=as_of,
        source="model" if by_model else "health",
        customers=int(customers),
        predicted=int(predicted),
        horizon_days=horizon,
        model_auc=auc,
        bands=bands,
        riskiest=riskiest,
    )


def _riskiest(session, facts, health, source, wanted, by_model: bool, top: int | None) -> list[RiskyCustomer]:
    p, score = health.c.churn_probability, health.c.overall_score
    # Riskiest first: the highest probability, else the lowest score; the
    # unscored last, then by ARR (the bigger loss first) and id for a
    # stable order.
    first = [p.is_(None), p.desc()] if by_model else [score.is_(None), score]
    stmt = (
        sa.select(
            Customer.external_id,
            Customer.name,
            facts.c.arr,
            p,
            sa.type_coerce(health.c.health_status, sa.String),
            score,
            facts.c.renewal_date,
        )
        .select_from(source)
        .where(*wanted)
        .order_by(*first, facts.c.arr.desc(), Customer.id)
    )
    if top is not None:
        stmt = stmt.limit(top)
    out = []
    for ext, name, arr, prob, status, overall, renewal in session.execute(stmt):
        if isinstance(renewal, str):  # SQLite keeps dates as text
            renewal = dt.date.fromisoformat(renewal)
        out.append(
            RiskyCustomer(
                external_id=ext,
                name=name,
                arr=float(arr or 0),
                churn_probability=None if prob is None else float(prob),
                health_status=None if status is None else str(getattr(status, "value", status)),
                overall_score=overall,
                renewal_date=renewal,
            )
        )
    return out


def _model(session: Session) -> tuple[int | None, float | None]:
    """The active churn model's horizon and time-split test AUC."""
    row = session.execute(
        sa.select(PredictionModel.horizon_days, PredictionModel.metrics).where(
            PredictionModel.target == "churn", PredictionModel.active
        )
    ).first()
    if row is None:
        return None, None
    auc = ((row.metrics or {}).get("model") or {}).get("auc")
    return row.horizon_days, None if auc is None else float(auc)
