"""`cs health backtest`: would the health score have warned of the churn
that happened? For each snapshot day, every active customer's score as of
that day (computed point in time, see services/facts.py) against whether it
churned within the horizon after it.

What it reports, pooled over the snapshot days (observations are
customer-days; intervals resample customers, see services/ranking.py):
the score's ROC AUC with a 95% interval beside a baseline (events in the
last 28 days alone), the lift of the lowest-scored tenth of each day, churn
rates by status and by score band, each component's and measure's own AUC
as the scorecard uses it (its band scores), and suggested weights.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import (
    Customer,
    NpsResponse,
    SupportTicket,
    Touchpoint,
    UsageEvent,
)
from cs_cli.domain import (
    Actor,
    Backtest,
    ChurnRate,
    CustomerStatus,
    HealthStatus,
    ScorecardBacktest,
    SignalRanking,
)
from cs_cli.errors import BadInput
from cs_cli.services import ranking
from cs_cli.services.access import customer_scope
from cs_cli.services.facts import day_end
from cs_cli.services.health.history import day_rows
from cs_cli.services.health.scoring import band_score
from cs_cli.services.health.usage import UsageRange, usage_day, usage_range
from cs_cli.specs.scorecard import Component, LoadedScorecard, Scorecard

BASELINE_DAYS = 28
STATUSES = (
    HealthStatus.HEALTHY,
    HealthStatus.AT_RISK,
    HealthStatus.CRITICAL,
    HealthStatus.ONBOARDING,
    HealthStatus.INSUFFICIENT_DATA,
)


def snapshot_days(
    session: Session,
    *,
    since: dt.date | None,
    until: dt.date | None,
    every_days: int,
    horizon_days: int,
    today: dt.date,
) -> tuple[list[dt.date], int]:
    """The snapshot days, counted back from the last one, and how many asked
    for were left out because their horizon has not passed by `today`.
    Defaults: the last day whose horizon has passed, and a year before it
    (or the book's first day)."""
    if every_days < 1 or horizon_days < 1:
        raise BadInput("--every and --horizon must be at least one day")
    last_known = today - dt.timedelta(days=horizon_days)
    until = until or last_known
    if since is None:
        first = first_day(session) or until
        since = max(until - dt.timedelta(days=364), first)
    if since > until:
        raise BadInput(f"--from {since} is after --to {until}")
    days = []
    day = until
    while day >= since:
        days.append(day)
        day -= dt.timedelta(days=every_days)
    days.reverse()
    kept = [d for d in days if d <= last_known]
    return kept, len(days) - len(kept)


def first_day(session: Session) -> dt.date | None:
    """The book's first day of recorded activity: usage, touchpoints,
    tickets or NPS (a score before any of them judges nothing)."""
    firsts = [
        session.scalar(sa.select(sa.func.min(column)))
        for column in (
            UsageEvent.occurred_at,
            Touchpoint.occurred_at,
            SupportTicket.opened_at,
            NpsResponse.responded_at,
        )
    ]
    days = [f.astimezone(dt.UTC).date() for f in firsts if f is not None]
    return min(days) if days else None


def churn_moments(session: Session, actor: Actor) -> dict[int, dt.datetime]:
    """When each churned customer the actor may see churned (those with a
    date: a churn without one cannot be placed in time)."""
    return dict(
        session.execute(
            sa.select(Customer.id, Customer.churned_at).where(
                customer_scope(actor),
                Customer.status == CustomerStatus.CHURNED,
                Customer.churned_at.is_not(None),
            )
        ).all()
    )


def backtest(
    session: Session,
    actor: Actor,
    scorecards: Sequence[LoadedScorecard],
    *,
    days: Sequence[dt.date],
    every_days: int,
    horizon_days: int,
    censored: int = 0,
    progress: Callable[[int], None] | None = None,
) -> Backtest:
    """Score the actor's book with each scorecard as of each of `days` and
    judge the scores against the churn within `horizon_days` after each."""
    churned_at = churn_moments(session, actor)
    horizon = dt.timedelta(days=horizon_days)
    collected = [_Columns() for _ in scorecards]
    stored = [0 for _ in scorecards]
    baseline_rows = _Columns()
    cards = [loaded.card for loaded in scorecards]
    with usage_range(session, cards, days, window=BASELINE_DAYS) as usage:
        for index, day in enumerate(days):
            end = day_end(day)

            def churns(customer_id: int, end: dt.datetime = end) -> bool:
                moment = churned_at.get(customer_id)
                return moment is not None and end <= moment < end + horizon

            for which, loaded in enumerate(scorecards):
                rows, from_history = day_rows(session, actor, loaded, day, usage)
                stored[which] += from_history
                rows = [r for r in rows if r.health_status != HealthStatus.CHURNED.value]
                collected[which].add(rows, index, churns, loaded.card)
                if which == 0:
                    counts = _recent_events(session, usage, day)
                    baseline_rows.add_baseline(rows, index, churns, counts)
            if progress:
                progress(1)

    names = [loaded.card.name for loaded in scorecards]
    labels_of = [
        name if names.count(name) == 1 else f"{name} ({Path(loaded.path).name}, {loaded.version[:6]})"
        for name, loaded in zip(names, scorecards, strict=True)
    ]
    results = [
        _judge(loaded, label, columns, from_history)
        for loaded, label, columns, from_history in zip(scorecards, labels_of, collected, stored, strict=True)
    ]
    first = collected[0]
    customers = np.asarray(first.customer, dtype=np.int64)
    labels = np.asarray(first.label, dtype=float)
    baseline = None
    if len(baseline_rows.customer):
        b = ranking.auc(
            np.asarray(baseline_rows.value, dtype=float),
            np.asarray(baseline_rows.label, dtype=float),
            np.asarray(baseline_rows.customer),
            riskier_when_higher=False,
        )
        values = np.asarray(baseline_rows.value, dtype=float)
        # A book without usage events has no baseline: every count is 0, and
        # an AUC of 0.5 would say "as good as chance" of a number that is not there.
        used = float((values > 0).mean())
        baseline = SignalRanking(
            f"usage events in the last {BASELINE_DAYS} days",
            "baseline",
            b.auc if used else None,
            b.low if used else None,
            b.high if used else None,
            used,
        )
    churned_customers = len(set(customers[labels == 1].tolist())) if len(customers) else 0
    return Backtest(
        days=list(days),
        every_days=every_days,
        horizon_days=horizon_days,
        censored=censored,
        customers=len(set(customers.tolist())),
        observations=len(customers),
        churned_customers=churned_customers,
        churned_observations=int(labels.sum()),
        needed=ranking.positives_needed(),
        baseline=baseline,
        scorecards=results,
    )


class _Columns:
    """The observations of one scorecard, column by column."""

    def __init__(self) -> None:
        self.customer: list[int] = []
        self.day: list[int] = []
        self.label: list[int] = []
        self.score: list[float] = []
        self.status: list[str] = []
        self.components: dict[str, list[float]] = {c.value: [] for c in Component}
        self.measures: dict[str, list[float]] = {}
        self.value: list[float] = []

    def add(self, rows, index: int, churns, card: Scorecard) -> None:
        names = [name for spec in card.components.values() for name in spec.measures]
        for name in names:
            self.measures.setdefault(name, [])
        # Band scores of each distinct raw value, worked out once.
        cache: dict[tuple[str, object], float] = {}

        def band(name: str, raw: object) -> float:
            if raw is None:
                return math.nan
            key = (name, raw)
            if key not in cache:
                got = band_score(card, name, raw)  # type: ignore[arg-type]
                cache[key] = math.nan if got is None else float(got)
            return cache[key]

        for r in rows:
            self.customer.append(r.customer_id)
            self.day.append(index)
            self.label.append(1 if churns(r.customer_id) else 0)
            self.score.append(float(r.overall_score))
            self.status.append(r.health_status)
            for c in Component:
                value = r._mapping[f"component_{c.value}"]
                self.components[c.value].append(math.nan if value is None else float(value))
            for name in names:
                self.measures[name].append(band(name, r._mapping[f"raw_{name}"]))

    def add_baseline(self, rows, index: int, churns, counts: dict[int, int]) -> None:
        for r in rows:
            self.customer.append(r.customer_id)
            self.day.append(index)
            self.label.append(1 if churns(r.customer_id) else 0)
            self.value.append(float(counts.get(r.customer_id, 0)))


def _recent_events(session: Session, usage: UsageRange, day: dt.date) -> dict[int, int]:
    """Usage events of the last BASELINE_DAYS days up to the end of `day`, by customer."""
    g = usage.grains.c
    first = day - dt.timedelta(days=BASELINE_DAYS - 1)
    return dict(
        session.execute(
            sa.select(g.customer_id, sa.func.sum(g.events))
            .where(g.day >= usage_day(session, first), g.day <= usage_day(session, day))
            .group_by(g.customer_id)
        ).all()
    )


def _judge(loaded: LoadedScorecard, label: str, columns: _Columns, from_history: int) -> ScorecardBacktest:
    card = loaded.card
    customers = np.asarray(columns.customer, dtype=np.int64)
    days = np.asarray(columns.day, dtype=np.int64)
    labels = np.asarray(columns.label, dtype=float)
    scores = np.asarray(columns.score, dtype=float)
    statuses = np.asarray(columns.status, dtype=object)

    def ranked(name: str, kind: str, values) -> SignalRanking:
        values = np.asarray(values, dtype=float)
        got = ranking.auc(values, labels, customers, riskier_when_higher=False)
        coverage = float((~np.isnan(values)).mean()) if len(values) else 0.0
        return SignalRanking(name, kind, got.auc, got.low, got.high, coverage)

    score = ranked("health score", "score", scores)
    lift = (
        ranking.top_lift(scores, labels, days, riskier_when_higher=False)
        if len(scores) and labels.any()
        else None
    )
    by_status = [
        ChurnRate(
            status.value, int((statuses == status.value).sum()), int(labels[statuses == status.value].sum())
        )
        for status in STATUSES
    ]
    by_band = []
    for low in range(0, 100, 10):
        high = 100 if low == 90 else low + 9
        inside = (scores >= low) & (scores <= high)
        by_band.append(ChurnRate(f"{low}-{high}", int(inside.sum()), int(labels[inside].sum())))
    weighted = [c for c in Component if card.weights.get(c, 0) > 0]
    signals = [ranked(c.value, "component", columns.components[c.value]) for c in weighted]
    signals += [ranked(name, "measure", values) for name, values in columns.measures.items()]
    weights = _suggested_weights({s.signal: s.auc for s in signals if s.kind == "component"})
    suggested_auc = None
    if weights:
        total = np.zeros(len(scores))
        present = np.zeros(len(scores))
        for name, weight in weights.items():
            values = np.asarray(columns.components[name], dtype=float)
            has = ~np.isnan(values)
            total[has] += weight * values[has]
            present[has] += weight
        base = np.where(present > 0, total / np.where(present > 0, present, 1), np.nan)
        suggested_auc = ranking.auc(base, labels, customers, riskier_when_higher=False, replicates=0).auc
    return ScorecardBacktest(
        name=card.name,
        version=loaded.version,
        label=label,
        observations=len(scores),
        churned=int(labels.sum()),
        score=score,
        top_decile_lift=lift,
        by_status=by_status,
        by_band=by_band,
        signals=signals,
        suggested_weights=weights,
        suggested_auc=suggested_auc,
        days_from_history=from_history,
    )


def _suggested_weights(aucs: dict[str, float | None]) -> dict[str, int]:
    """Weights summing to 100 in proportion to AUC - 0.5 (largest remainders
    rounded up); none when no component ranks better than chance."""
    lead = {name: auc - 0.5 for name, auc in aucs.items() if auc is not None and auc > 0.5}
    total = sum(lead.values())
    if total <= 0:
        return {}
    exact = {name: 100 * v / total for name, v in lead.items()}
    weights = {name: math.floor(v) for name, v in exact.items()}
    for name in sorted(exact, key=lambda n: exact[n] - weights[n], reverse=True)[
        : 100 - sum(weights.values())
    ]:
        weights[name] += 1
    return {name: weights.get(name, 0) for name in aucs}
