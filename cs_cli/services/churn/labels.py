"""Labelling observations for each target (targets.py says what each one
means). Labels look after the day by design (that is what is predicted);
the features never do."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import CustomerHistory, NpsResponse
from cs_cli.domain import Actor
from cs_cli.services.churn.features import Frame
from cs_cli.services.churn.targets import CHURN, EXPANSION, EXPANSION_SHARE, NPS, Target
from cs_cli.services.facts import day_end, facts_as_of
from cs_cli.services.health.backtest import churn_moments


@dataclass(frozen=True)
class Labels:
    """One label per observation, the observations that count (`keep`) and,
    for NPS, each one's last response before the day (NaN: none)."""

    values: np.ndarray
    keep: np.ndarray
    last: np.ndarray | None = None


def label(
    session: Session,
    actor: Actor,
    target: Target,
    frame: Frame,
    days: list[dt.date],
    *,
    horizon_days: int,
    share: float = EXPANSION_SHARE,
) -> Labels:
    """The labels of `frame`'s observations (frame.day indexes `days`)."""
    horizon = dt.timedelta(days=horizon_days)
    if target is CHURN:
        churned_at = churn_moments(session, actor)
        values = np.zeros(len(frame))
        for row, (customer, index) in enumerate(
            zip(frame.customer.tolist(), frame.day.tolist(), strict=True)
        ):
            moment = churned_at.get(customer)
            end = day_end(days[index])
            values[row] = 1.0 if moment is not None and end <= moment < end + horizon else 0.0
        return Labels(values, np.ones(len(frame), dtype=bool))
    by_day = [
        (_expansion if target is EXPANSION else _next_response)(session, day, horizon, share) for day in days
    ]
    values = np.full(len(frame), np.nan)
    last = np.full(len(frame), np.nan)
    for row, (customer, index) in enumerate(zip(frame.customer.tolist(), frame.day.tolist(), strict=True)):
        got = by_day[index].get(customer)
        if got is not None:
            values[row], last[row] = got
    return Labels(np.nan_to_num(values), ~np.isnan(values), last if target is NPS else None)


def _expansion(
    session: Session, day: dt.date, horizon: dt.timedelta, share: float
) -> dict[int, tuple[float, float]]:
    """customer -> (1.0 when it expanded within the horizon else 0.0, NaN)
    for every customer with ARR on the day."""
    end = day_end(day)
    h = CustomerHistory.__table__
    f = facts_as_of(session, day)
    peak = (
        sa.select(h.c.customer_id, sa.func.max(h.c.arr).label("peak"))
        .where(h.c.effective_at >= end, h.c.effective_at < end + horizon)
        .group_by(h.c.customer_id)
        .subquery("peak")
    )
    rows = session.execute(
        sa.select(f.c.customer_id, f.c.arr, peak.c.peak)
        .select_from(f.outerjoin(peak, peak.c.customer_id == f.c.customer_id))
        .where(f.c.is_customer, f.c.arr > 0)
    ).all()
    return {
        r.customer_id: (
            1.0 if r.peak is not None and float(r.peak) >= float(r.arr) * (1 + share) else 0.0,
            np.nan,
        )
        for r in rows
    }


def _next_response(
    session: Session, day: dt.date, horizon: dt.timedelta, share: float
) -> dict[int, tuple[float, float]]:
    """customer -> (its first NPS score within the horizon, its last score
    before the day or NaN) for every customer who responded in the horizon."""
    del share
    end = day_end(day)
    n = NpsResponse

    def ranked(where, newest_first: bool) -> sa.Subquery:
        order = (n.responded_at.desc(), n.id.desc()) if newest_first else (n.responded_at, n.id)
        return (
            sa.select(
                n.customer_id,
                n.score,
                sa.func.row_number().over(partition_by=n.customer_id, order_by=order).label("k"),
            )
            .where(where)
            .subquery()
        )

    after = ranked(sa.and_(n.responded_at >= end, n.responded_at < end + horizon), newest_first=False)
    before = ranked(n.responded_at < end, newest_first=True)
    rows = session.execute(
        sa.select(after.c.customer_id, after.c.score, before.c.score.label("last"))
        .select_from(
            after.outerjoin(before, sa.and_(before.c.customer_id == after.c.customer_id, before.c.k == 1))
        )
        .where(after.c.k == 1)
    ).all()
    return {r.customer_id: (float(r.score), np.nan if r.last is None else float(r.last)) for r in rows}


def with_arr(session: Session, day: dt.date) -> set[int]:
    """The customers with ARR on the day: those an expansion is predicted for."""
    f = facts_as_of(session, day)
    return set(session.scalars(sa.select(f.c.customer_id).where(f.c.is_customer, f.c.arr > 0)))
