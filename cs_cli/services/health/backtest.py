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
from contextlib import ExitStack
from itertools import chain
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
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
from cs_cli.services.facts import day_end, day_start, over_many_days
from cs_cli.services.health.history import stored_day
from cs_cli.services.health.recalc import score_day
from cs_cli.services.health.scoring import band_score
from cs_cli.services.health.usage import UsageRange, usage_range
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


@over_many_days
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
    recent = _DailyEvents(session, actor, days[0] - dt.timedelta(days=BASELINE_DAYS - 1), days[-1])
    with ExitStack() as stack:
        # The usage events are read (once, see usage.py) only when a day is
        # not in the stored history and has to be scored afresh.
        usage: UsageRange | None = None
        for index, day in enumerate(days):
            end = day_end(day)

            def churns(customers: np.ndarray, end: dt.datetime = end) -> np.ndarray:
                moments = [churned_at.get(c) for c in customers.tolist()]
                return np.fromiter(
                    (m is not None and end <= m < end + horizon for m in moments),
                    dtype=bool,
                    count=len(moments),
                )

            for which, loaded in enumerate(scorecards):
                rows = stored_day(session, actor, loaded, day)
                if rows is None:
                    if usage is None:
                        usage = stack.enter_context(usage_range(session, cards, days[index:]))
                    rows = score_day(session, actor, loaded.card, as_of=day, flat=True, usage=usage)
                else:
                    stored[which] += 1
                rows = [r for r in rows if r.health_status != HealthStatus.CHURNED.value]
                collected[which].add(rows, index, churns, loaded.card)
                if which == 0:
                    customers = collected[0].last_customers
                    baseline_rows.add_baseline(customers, index, churns, recent.counts(day, customers))
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
    """The observations of one scorecard, column by column: numpy arrays a
    day at a time (a year of a big book is millions of customer-days; lists
    of Python floats took gigabytes and minutes), joined when judged."""

    def __init__(self) -> None:
        self._parts: dict[str, list[np.ndarray]] = {}
        self.last_customers = np.zeros(0, dtype=np.int64)

    def _put(self, name: str, values: np.ndarray) -> None:
        self._parts.setdefault(name, []).append(values)

    def column(self, name: str) -> np.ndarray:
        parts = self._parts.get(name, [])
        return np.concatenate(parts) if parts else np.zeros(0)

    @property
    def customer(self) -> np.ndarray:
        return self.column("customer").astype(np.int64)

    @property
    def day(self) -> np.ndarray:
        return self.column("day").astype(np.int64)

    @property
    def label(self) -> np.ndarray:
        return self.column("label").astype(float)

    @property
    def score(self) -> np.ndarray:
        return self.column("score").astype(float)

    @property
    def status(self) -> np.ndarray:
        return self.column("status")

    @property
    def value(self) -> np.ndarray:
        return self.column("value").astype(float)

    @property
    def components(self) -> dict[str, np.ndarray]:
        return {c.value: self.column(f"component:{c.value}").astype(float) for c in Component}

    @property
    def measures(self) -> dict[str, np.ndarray]:
        return {
            name[len("measure:") :]: self.column(name).astype(float)
            for name in self._parts
            if name.startswith("measure:")
        }

    def add(self, rows, index: int, churns, card: Scorecard) -> None:
        names = [name for spec in card.components.values() for name in spec.measures]
        columns = list(zip(*rows, strict=True)) if rows else []
        keys = list(rows[0]._fields) if rows else []

        def get(key: str) -> tuple:
            return columns[keys.index(key)] if rows else ()

        customers = np.asarray(get("customer_id"), dtype=np.int64)
        self.last_customers = customers
        self._put("customer", customers)
        self._put("day", np.full(len(customers), index, dtype=np.int32))
        self._put("label", churns(customers).astype(np.int8))
        self._put("score", np.asarray(get("overall_score"), dtype=np.float32))
        self._put("status", np.asarray(get("health_status"), dtype=object))
        for c in Component:
            self._put(f"component:{c.value}", np.asarray(get(f"component_{c.value}"), dtype=np.float32))
        for name in names:
            self._put(f"measure:{name}", _band_scores(card, name, get(f"raw_{name}")))

    def add_baseline(self, customers: np.ndarray, index: int, churns, counts: np.ndarray) -> None:
        self._put("customer", customers)
        self._put("day", np.full(len(customers), index, dtype=np.int32))
        self._put("label", churns(customers).astype(np.int8))
        self._put("value", counts)


def _band_scores(card: Scorecard, name: str, raw: tuple) -> np.ndarray:
    """The band score of each raw value as the scorecard scores it (NaN: no
    data, or outside every band), for a whole day at once."""
    if card.measure(name).values is not None:
        # A table of values: each distinct text scored once.
        texts = np.asarray(["" if v is None else str(v) for v in raw], dtype=object)
        distinct, where = np.unique(texts, return_inverse=True)
        scored = [math.nan if t == "" else band_score(card, name, t) for t in distinct.tolist()]
        table = np.array([math.nan if v is None else v for v in scored], dtype=np.float32)
        return table[where] if len(texts) else np.zeros(0, dtype=np.float32)
    try:
        values = np.asarray(raw, dtype=float)  # None is NaN
    except (TypeError, ValueError):
        values = np.array([math.nan if v is None or isinstance(v, str) else v for v in raw], dtype=float)
    lowers, scores, upper = card.band_tables[name]
    index = np.searchsorted(np.asarray(lowers, dtype=float), values, side="right") - 1
    inside = (index >= 0) & ~np.isnan(values)
    if upper is not None:
        inside &= values < upper
    table = np.asarray(scores, dtype=np.float32)
    return np.where(inside, table[np.clip(index, 0, len(table) - 1)], np.float32(math.nan)).astype(np.float32)


class _DailyEvents:
    """Usage events by customer and UTC day from `first` to `last`, read in
    one GROUP BY: the baseline's counts of the last BASELINE_DAYS days of
    each snapshot day are sums over these (numpy), not a query a day."""

    def __init__(self, session: Session, actor: Actor, first: dt.date, last: dt.date) -> None:
        ev = UsageEvent.__table__
        offset = dialect.days_until(session, dialect.utc_day(session, ev.c.occurred_at), first)
        select = (
            sa.select(ev.c.customer_id, offset.label("day"), sa.func.count())
            .join(Customer, Customer.id == ev.c.customer_id)
            .where(
                customer_scope(actor), ev.c.occurred_at >= day_start(first), ev.c.occurred_at < day_end(last)
            )
        )
        rows = session.connection().execute(select.group_by(ev.c.customer_id, offset)).all()
        # Rows are tuples to iterate, not arrays: np.asarray would probe
        # each for an array interface (minutes for millions).
        columns = np.fromiter(chain.from_iterable(rows), dtype=np.int64, count=3 * len(rows)).reshape(-1, 3)
        self.first = first
        self.customer, self.day, self.events = columns[:, 0], columns[:, 1], columns[:, 2]

    def counts(self, day: dt.date, customers: np.ndarray) -> np.ndarray:
        """Each of `customers`' events in the BASELINE_DAYS days to `day`."""
        last = (day - self.first).days
        inside = (self.day > last - BASELINE_DAYS) & (self.day <= last)
        ids, where = np.unique(np.concatenate([customers, self.customer[inside]]), return_inverse=True)
        totals = np.bincount(where[len(customers) :], weights=self.events[inside], minlength=len(ids))
        return totals[where[: len(customers)]].astype(np.float32)


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
