"""`cs churn train` and `cs churn evaluate`: observations from the book's own
past (services/churn/features.py), validated out of time (learn.py), and
the chosen model stored with its report (store.py).

Observations are (customer, snapshot day) pairs: every customer active at
the end of the day, with its features as of then, labelled 1 when it
churned within the horizon after the day (churned_at known). Snapshot days
run back from the last day whose horizon has passed, `every_days` apart.

A book with no dated history (no usage, touchpoints, tickets or NPS with a
date, or too few snapshot days) is learned from as it stands: one
observation per customer, its facts and attributes, labelled by its status,
cross-validated; every report says so.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from cs_cli.domain import (
    Actor,
    CalibrationBin,
    ChurnReport,
    NpsReport,
    PredictionError,
    SignalRanking,
)
from cs_cli.errors import BadInput
from cs_cli.services import ranking
from cs_cli.services.churn import features as feats
from cs_cli.services.churn import labels as labelling
from cs_cli.services.churn import learn, snapshot, targets
from cs_cli.services.churn.targets import CHURN, EXPANSION_SHARE, Target
from cs_cli.services.facts import over_many_days
from cs_cli.services.health.backtest import first_day, snapshot_days
from cs_cli.services.health.usage import usage_range
from cs_cli.specs.scorecard import LoadedScorecard

MIN_SNAPSHOT_DAYS = 4
HISTORY = "time split"
NO_HISTORY = "cross-validated (no dated history: facts and attributes only)"


@dataclass
class Observations:
    features: feats.FeatureSet
    frame: feats.Frame
    labels: np.ndarray
    days: list[dt.date]
    # NPS: each observation's last response before its day (NaN: none).
    last: np.ndarray | None = None


@dataclass(frozen=True)
class Trained:
    """What training produced: the fitted model and all that is stored with it."""

    model: object
    algorithm: str
    features: feats.FeatureSet
    calibration: tuple[float, float]
    reference: dict[str, float | str | None]
    report: ChurnReport | NpsReport
    days: list[dt.date]


def observations(
    session: Session,
    actor: Actor,
    scorecard: LoadedScorecard | None,
    *,
    days: list[dt.date],
    horizon_days: int,
    history: bool,
    target: Target = CHURN,
    share: float = EXPANSION_SHARE,
    progress: Callable[..., None] | None = None,
) -> Observations:
    """The observations of `days` that count for `target`, their features
    (chosen from them) and their labels."""
    if not history and target is not CHURN:
        raise BadInput(
            f"{target.name} is learned from the book's dated history ({_WHAT_HISTORY[target.name]}), "
            "and this book has none"
        )
    features, frame = features_of(session, actor, scorecard, days=days, history=history, progress=progress)
    if not history:
        return Observations(features, frame, frame.churned.copy(), [days[-1]])
    if progress:
        progress(0, "labelling what happened after each day")
    labels = labelling.label(session, actor, target, frame, days, horizon_days=horizon_days, share=share)
    if not labels.keep.all():
        frame = feats.take(frame, labels.keep)
    features, frame = feats.without_empty(features, frame)
    last = None if labels.last is None else labels.last[labels.keep]
    return Observations(features, frame, labels.values[labels.keep], list(days), last)


_WHAT_HISTORY = {
    "expansion": "ARR recorded over time, as imports and edits leave it",
    "nps": "NPS responses with their dates",
}


def features_of(
    session: Session,
    actor: Actor,
    scorecard: LoadedScorecard | None,
    *,
    days: list[dt.date],
    history: bool,
    features: feats.FeatureSet | None = None,
    customers: list[int] | None = None,
    progress: Callable[..., None] | None = None,
) -> tuple[feats.FeatureSet, feats.Frame]:
    """Every customer's features on each of `days` (fixed to `features`, or
    chosen from them when None; empty columns are kept, see without_empty)."""
    if not history:
        day = days[-1]
        columns = snapshot.day_frame(
            session,
            actor,
            day,
            scorecard=None,
            usage=None,
            event_names=[],
            include_churned=True,
            customers=customers,
        )
        choosing = features is None
        features = features or feats.choose(session, None, [columns], history=False)
        frame = feats.assemble(features, columns, 0)
        if choosing:
            features, frame = feats.without_empty(features, frame)
        if progress:
            progress(len(days))
        return features, frame

    health_days = sorted(
        {d - dt.timedelta(days=back) for d in days for back in (0, *feats.HEALTH_CHANGES)}
        if scorecard is not None
        else set(days)
    )
    cards = [scorecard.card] if scorecard is not None else []
    collected: list[feats.DayColumns] = []
    with usage_range(session, cards, health_days, window=feats.LOOK_BACK_DAYS, customers=customers) as usage:
        health = (
            snapshot.health_reader(session, actor, scorecard, usage, customers)
            if scorecard is not None
            else None
        )
        if health is not None:
            for day in health_days:  # oldest first: the usage range carries forward
                health(day)
        names = features.event_names if features is not None else None
        if names is None:
            names = feats.top_event_names(session, usage)
        for day in days:
            collected.append(
                snapshot.day_frame(
                    session,
                    actor,
                    day,
                    scorecard=scorecard,
                    usage=usage,
                    event_names=names,
                    health=health,
                    customers=customers,
                )
            )
            if progress:
                progress(1)
        if features is None:
            features = feats.choose(session, usage, collected, history=True, event_names=names)
    frames = [feats.assemble(features, columns, index) for index, columns in enumerate(collected)]
    return features, feats.concat(frames)


def plan_days(
    session: Session,
    *,
    since: dt.date | None,
    until: dt.date | None,
    every_days: int,
    horizon_days: int,
    today: dt.date,
) -> tuple[list[dt.date], bool]:
    """The snapshot days and whether the book has the dated history to
    learn from them (else it is learned from as it stands, as of today)."""
    if first_day(session) is None:
        return [today], False
    days, _ = snapshot_days(
        session, since=since, until=until, every_days=every_days, horizon_days=horizon_days, today=today
    )
    if len(days) < MIN_SNAPSHOT_DAYS:
        return [today], False
    return days, True


@over_many_days
def train(
    session: Session,
    actor: Actor,
    scorecard: LoadedScorecard | None,
    *,
    days: list[dt.date],
    history: bool,
    horizon_days: int,
    every_days: int,
    target: Target = CHURN,
    share: float = EXPANSION_SHARE,
    shuffle: bool = False,
    progress: Callable[..., None] | None = None,
) -> Trained:
    """Learn `target` from the book's past: validate the candidates, pick
    one, calibrate it and fit it on every observation. Raises BadInput when
    there is too little to learn from, saying how much is needed."""
    seen = observations(
        session,
        actor,
        scorecard,
        days=days,
        horizon_days=horizon_days,
        history=history,
        target=target,
        share=share,
        progress=progress,
    )
    labels = seen.labels
    if progress:
        # The reading is done; fitting has no units to count, but says so.
        progress(0, "validating and fitting the models")
    if shuffle:
        labels = np.random.default_rng(learn.SEED).permutation(labels)
    judge = fit_and_judge_score if target.kind == targets.SCORE else fit_and_judge
    return judge(
        seen,
        labels,
        history=history,
        horizon_days=horizon_days,
        every_days=every_days,
        shuffled=shuffle,
        target=target,
        share=share,
    )


def fit_and_judge(
    seen: Observations,
    labels: np.ndarray,
    *,
    history: bool,
    horizon_days: int,
    every_days: int,
    shuffled: bool = False,
    target: Target = CHURN,
    share: float = EXPANSION_SHARE,
) -> Trained:
    features, frame = seen.features, seen.frame
    if not len(labels):
        raise BadInput(f"nothing to learn from: no {target.observed} on those days{_HOW_TO_FILL}")
    positives = int(labels.sum())
    negatives = len(labels) - positives
    needed = ranking.positives_needed()
    if positives < learn.MIN_POSITIVES or negatives < learn.MIN_POSITIVES:
        other = "stayed" if target is CHURN else "did not"
        raise BadInput(
            f"too little to learn from: {positives} {target.happened} and {negatives} {other} among "
            f"{len(labels):,} observations; at least {learn.MIN_POSITIVES} of each are needed "
            f"({needed} {target.happened} for an AUC interval about ±0.1 wide)"
            + ("" if history else "; the book has no dated history, so each customer counts once")
        )
    x = feats.encode(features, frame)
    numeric, categorical = len(features.numeric), len(features.categorical)
    if history:
        folds = learn.time_folds(frame.day, seen.days, horizon_days)
        folds = [f for f in folds if len(np.unique(labels[f.train])) == 2 and labels[f.test].any()]
        if not folds:
            raise BadInput(
                f"too little to learn from: no snapshot day has {target.name} within {horizon_days} days "
                "after it "
                f"and {horizon_days} days of earlier snapshots to learn from; "
                f"use a longer history (--from) or a shorter --every"
            )
    else:
        folds = learn.stratified_folds(labels)
    names = learn.candidate_names(score=False)
    predicted: dict[str, np.ndarray] = {}
    scores: dict[str, tuple[float, list[float]]] = {}
    tested = np.concatenate([f.test for f in folds])
    for name in names:
        predicted[name] = learn.out_of_fold(name, x, labels, folds, numeric, categorical)
        pooled = _auc(predicted[name][tested], labels[tested])
        scores[name] = (pooled, learn.fold_aucs(predicted[name], labels, folds))
    algorithm = learn.pick(scores)
    chosen = predicted[algorithm]
    calibration = learn.platt(chosen[tested], labels[tested])
    calibrated = learn.cross_calibrated(chosen, labels, folds)

    # The report, on the test rows.
    y = labels[tested]
    p = calibrated[tested]
    customers = frame.customer[tested]
    groups = frame.day[tested] if history else np.zeros(len(tested), dtype=np.int64)
    model_auc = ranking.auc(p, y, customers, riskier_when_higher=True)
    health = None
    if "health_score" in features.numeric:
        column = frame.numeric[tested, features.numeric.index("health_score")]
        got = ranking.auc(column, y, customers, riskier_when_higher=target.health_rises_with_it)
        health = SignalRanking("health score", "score", got.auc, got.low, got.high, _coverage(column))
    baseline = _baseline(features, frame, labels, folds, tested)
    from sklearn.metrics import average_precision_score

    base_rate = float(y.mean())
    report = ChurnReport(
        method=HISTORY if history else NO_HISTORY,
        algorithm=algorithm,
        horizon_days=horizon_days,
        every_days=every_days,
        days=[d.isoformat() for d in seen.days],
        test_days=[seen.days[f.day].isoformat() for f in folds] if history else [],
        customers=len(np.unique(frame.customer)),
        observations=len(labels),
        churned=positives,
        test_observations=len(tested),
        test_churned=int(y.sum()),
        needed=needed,
        model=SignalRanking(
            f"{target.name} model", "model", model_auc.auc, model_auc.low, model_auc.high, 1.0
        ),
        health=health,
        baseline=baseline,
        candidates={name: (None if math.isnan(s[0]) else s[0]) for name, s in scores.items()},
        pr_auc=float(average_precision_score(y, p)) if y.any() else None,
        base_rate=base_rate,
        brier=float(np.mean((p - y) ** 2)),
        brier_base_rate=float(base_rate * (1 - base_rate)),
        top_decile_lift=ranking.top_lift(p, y, groups, riskier_when_higher=True) if y.any() else None,
        calibration=_calibration_bins(p, y),
        leakage=_leakage(features, frame, x, labels, tested, model_auc.auc),
        shuffled=shuffled,
        target=target.name,
        expansion_share=share if target is not CHURN else None,
    )
    model = learn.fit(algorithm, x, labels, numeric, categorical)
    return Trained(model, algorithm, features, calibration, _reference(features, frame), report, seen.days)


_HOW_TO_FILL = " (cs import customers FILE, or cs demo)"
# Test responses needed before an NPS error is worth reading.
MIN_RESPONSES = 30


def fit_and_judge_score(
    seen: Observations,
    labels: np.ndarray,
    *,
    history: bool,
    horizon_days: int,
    every_days: int,
    shuffled: bool = False,
    target: Target,
    share: float = EXPANSION_SHARE,
) -> Trained:
    """fit_and_judge for a score (the next NPS response): ridge regression
    or boosting by mean absolute error out of time, against "the same as the
    last response" and the book's mean."""
    del share
    features, frame = seen.features, seen.frame
    if len(labels) < learn.MIN_POSITIVES:
        raise BadInput(
            f"too little to learn from: {len(labels):,} NPS responses followed a snapshot day within "
            f"{horizon_days} days; at least {learn.MIN_POSITIVES} are needed ({MIN_RESPONSES} in the "
            "test days for an error worth reading)"
        )
    x = feats.encode(features, frame)
    numeric, categorical = len(features.numeric), len(features.categorical)
    folds = learn.time_folds(frame.day, seen.days, horizon_days)
    folds = [f for f in folds if len(f.train) >= learn.MIN_POSITIVES and len(f.test)]
    if not folds:
        raise BadInput(
            f"too little to learn from: no snapshot day has NPS responses within {horizon_days} days after "
            f"it and {horizon_days} days of earlier responses to learn from; use a longer history (--from) "
            "or a shorter --every"
        )
    names = learn.candidate_names(score=True)
    predicted: dict[str, np.ndarray] = {}
    errors: dict[str, tuple[float, list[float]]] = {}
    tested = np.concatenate([f.test for f in folds])
    for name in names:
        predicted[name] = np.clip(
            learn.out_of_fold(name, x, labels, folds, numeric, categorical, score=True), 0, 10
        )
        errors[name] = (
            _mae(predicted[name][tested], labels[tested]),
            learn.fold_errors(predicted[name], labels, folds),
        )
    algorithm = learn.pick_score(errors)
    y, p, customers = labels[tested], predicted[algorithm][tested], frame.customer[tested]
    train_mean = np.full(len(labels), np.nan)
    for fold in folds:
        train_mean[fold.test] = labels[fold.train].mean()
    last = seen.last[tested] if seen.last is not None else np.full(len(tested), np.nan)
    has_last = ~np.isnan(last)
    report = NpsReport(
        method=HISTORY,
        algorithm=algorithm,
        horizon_days=horizon_days,
        every_days=every_days,
        days=[d.isoformat() for d in seen.days],
        test_days=[seen.days[f.day].isoformat() for f in folds],
        customers=len(np.unique(frame.customer)),
        observations=len(labels),
        test_observations=len(tested),
        needed=MIN_RESPONSES,
        model=_error("nps model", p, y, customers),
        rmse=float(np.sqrt(np.mean((p - y) ** 2))),
        same_as_last=_error("same as the last response", last[has_last], y[has_last], customers[has_last])
        if has_last.any()
        else None,
        model_on_last=_error("nps model", p[has_last], y[has_last], customers[has_last])
        if has_last.any()
        else None,
        book_mean=_error("the book's mean response", train_mean[tested], y, customers),
        candidates={name: (None if math.isnan(e[0]) else e[0]) for name, e in errors.items()},
        shuffled=shuffled,
    )
    model = learn.fit(algorithm, x, labels, numeric, categorical, score=True)
    return Trained(model, algorithm, features, (1.0, 0.0), _reference(features, frame), report, seen.days)


def _mae(p: np.ndarray, y: np.ndarray) -> float:
    keep = ~np.isnan(p)
    return float(np.abs(p[keep] - y[keep]).mean()) if keep.any() else math.nan


def _error(predictor: str, p: np.ndarray, y: np.ndarray, customers: np.ndarray) -> PredictionError:
    """The mean absolute error with a 95% bootstrap interval, customers
    resampled (a customer's responses on several days are not independent)."""
    err = np.abs(p - y)
    ids, where = np.unique(customers, return_inverse=True)
    sums = np.bincount(where, weights=err, minlength=len(ids))
    counts = np.bincount(where, minlength=len(ids)).astype(float)
    rng = np.random.default_rng(learn.SEED)
    replicates = ranking.REPLICATES if len(ids) <= 20_000 else ranking.REPLICATES_LARGE
    replicated = np.empty(replicates)
    for r in range(replicates):
        draw = rng.integers(0, len(ids), size=len(ids))
        replicated[r] = sums[draw].sum() / max(counts[draw].sum(), 1.0)
    low, high = np.percentile(replicated, [2.5, 97.5])
    return PredictionError(predictor, float(err.mean()), float(low), float(high), len(err))


def _auc(values: np.ndarray, labels: np.ndarray) -> float:
    keep = ~np.isnan(values)
    got = ranking.auc(
        values[keep], labels[keep], np.arange(keep.sum()), riskier_when_higher=True, replicates=0
    )
    return math.nan if got.auc is None else got.auc


def _coverage(values: np.ndarray) -> float:
    return float((~np.isnan(values)).mean()) if len(values) else 0.0


def _baseline(features, frame, labels, folds, tested) -> SignalRanking | None:
    """A plain logistic regression on 28-day event counts and tenure, on the
    same folds: what the model has to beat."""
    wanted = [n for n in ("events_28d", "tenure_days") if n in features.numeric]
    if "events_28d" not in wanted:
        return None
    columns = frame.numeric[:, [features.numeric.index(n) for n in wanted]]
    x = np.sign(columns) * np.log1p(np.abs(columns))
    predicted = learn.out_of_fold("logistic:1.0", x, labels, folds, len(wanted), 0)
    got = ranking.auc(predicted[tested], labels[tested], frame.customer[tested], riskier_when_higher=True)
    return SignalRanking(
        "28-day events + tenure (logistic)",
        "baseline",
        got.auc,
        got.low,
        got.high,
        _coverage(predicted[tested]),
    )


def _calibration_bins(p: np.ndarray, y: np.ndarray, bins: int = 10) -> list[CalibrationBin]:
    order = np.argsort(p, kind="stable")
    out = []
    for part in np.array_split(order, bins):
        if len(part):
            out.append(CalibrationBin(len(part), float(p[part].mean()), float(y[part].mean())))
    return out


def _leakage(features, frame, x, labels, tested, model_auc) -> list[SignalRanking]:
    """When the model ranks churn almost perfectly (AUC over 0.95), the
    features that alone come closest to it: the likely leaks."""
    if model_auc is None or model_auc <= 0.95:
        return []
    found = []
    for j, name in enumerate(features.names):
        column = x[tested, j]
        # Over every test row, a missing value taken as the usual one: a
        # feature few customers have cannot look perfect on those few.
        if np.isnan(column).all():
            continue
        column = np.where(np.isnan(column), np.nanmedian(column), column)
        got = _auc(column, labels[tested])
        if math.isnan(got):
            continue
        strength = max(got, 1 - got)
        found.append(SignalRanking(name, "feature", strength, None, None, _coverage(column)))
    found.sort(key=lambda s: -(s.auc or 0))
    return found[:3]


def _reference(features: feats.FeatureSet, frame: feats.Frame) -> dict[str, float | str | None]:
    """The usual value of each feature, on the latest snapshot: the median
    number, the commonest category. Explanations measure against it."""
    latest = frame.day == frame.day.max() if len(frame) else np.zeros(0, dtype=bool)
    out: dict[str, float | str | None] = {}
    for j, name in enumerate(features.numeric):
        column = frame.numeric[latest, j]
        column = column[~np.isnan(column)]
        out[name] = float(np.median(column)) if len(column) else None
    for j, name in enumerate(features.categorical):
        values = [v for v, keep in zip(frame.categorical[j], latest.tolist(), strict=True) if keep and v]
        out[name] = max(set(values), key=values.count) if values else None
    return out


def report_json(report: ChurnReport | NpsReport) -> dict:
    return dataclasses.asdict(report)


def report_from_json(data: dict) -> ChurnReport | NpsReport:
    data = dict(data)
    if data.get("target") == "nps":
        for key in ("model", "same_as_last", "model_on_last", "book_mean"):
            if data.get(key) is not None:
                data[key] = PredictionError(**data[key])
        return NpsReport(**data)
    for key in ("model", "health", "baseline"):
        if data.get(key) is not None:
            data[key] = SignalRanking(**data[key])
    data["calibration"] = [CalibrationBin(**b) for b in data.get("calibration", [])]
    data["leakage"] = [SignalRanking(**s) for s in data.get("leakage", [])]
    return ChurnReport(**data)
