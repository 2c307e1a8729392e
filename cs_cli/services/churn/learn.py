"""Learning from observations (customer-days with their features and their
label: churned or expanded within the horizon after the day, or the next
NPS score; see targets.py).

Two candidates: a regularized linear model (logistic regression for a
probability, ridge regression for a score; its strength chosen by the same
validation) and gradient boosting. They are judged by time-split
validation: each test day is predicted by a model trained only on days
whose horizon had passed by then, so no customer's future is in its past.
The simpler model wins unless boosting is clearly better (see `pick`).
Probabilities are calibrated with Platt scaling on the out-of-time
predictions. A book with no dated history is cross-validated instead
(stratified folds over customers), and says so.

Everything here is numpy and scikit-learn; nothing reads the database.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# At most this many observations fit one model: every churned one, and a
# sample of the others weighted back up (the probabilities stay honest).
MAX_FIT_ROWS = 250_000
PARALLEL_ROWS = 50_000
TEST_DAYS = 3
LOGISTIC_STRENGTHS = (0.03, 0.3, 3.0)
RIDGE_STRENGTHS = (100.0, 10.0, 1.0)  # alpha: most regularized first
# Boosting must beat the logistic regression by this much pooled AUC, and on
# most test days, to be chosen.
CLEARLY_BETTER = 0.01
TIE = 0.005
# For a score: boosting's mean absolute error must be this share lower to be
# chosen; linear strengths within TIE_ERROR of the best count as tied.
CLEARLY_LOWER = 0.02
TIE_ERROR = 0.005
MIN_POSITIVES = 19  # the same floor as the backtest's (services/ranking.py)
SEED = 0


@dataclass(frozen=True)
class Fold:
    """Rows to train on and rows to test, and the snapshot day tested."""

    train: np.ndarray
    test: np.ndarray
    day: int


def time_folds(day_index: np.ndarray, days: list, horizon_days: int, tests: int = TEST_DAYS) -> list[Fold]:
    """Folds testing each of the last `tests` snapshot days, each trained on
    the snapshot days whose horizon had passed by the test day."""
    folds = []
    for test_day in range(max(0, len(days) - tests), len(days)):
        known = [i for i, d in enumerate(days) if (days[test_day] - d).days >= horizon_days]
        if not known:
            continue
        train = np.flatnonzero(np.isin(day_index, known))
        test = np.flatnonzero(day_index == test_day)
        folds.append(Fold(train, test, test_day))
    return folds


def stratified_folds(labels: np.ndarray, k: int = 5) -> list[Fold]:
    from sklearn.model_selection import StratifiedKFold

    k = max(2, min(k, int(labels.sum()), int((1 - labels).sum())))
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=SEED)
    return [Fold(train, test, -1) for train, test in splitter.split(np.zeros(len(labels)), labels)]


def candidate_names(score: bool) -> list[str]:
    """The candidates, the linear ones most regularized first."""
    if score:
        return [f"ridge:{a}" for a in RIDGE_STRENGTHS] + ["boosting"]
    return [f"logistic:{c}" for c in LOGISTIC_STRENGTHS] + ["boosting"]


def candidate(name: str, numeric: int, categorical: int, score: bool = False):
    """An unfitted estimator: `logistic:C`, `ridge:alpha` or `boosting` (a
    classifier, or a regressor when `score`), over `numeric` columns then
    `categorical` integer codes (NaN: missing)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    if name == "boosting":
        boosting = HistGradientBoostingRegressor if score else HistGradientBoostingClassifier
        return boosting(
            learning_rate=0.05,
            max_iter=200,
            max_leaf_nodes=15,
            min_samples_leaf=50,
            l2_regularization=1.0,
            categorical_features=[False] * numeric + [True] * categorical if categorical else None,
            early_stopping=False,
            random_state=SEED,
        )
    strength = float(name.partition(":")[2])
    parts = [
        (
            "numbers",
            Pipeline(
                [
                    ("fill", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
                    ("scale", StandardScaler()),
                ]
            ),
            list(range(numeric)),
        )
    ]
    if categorical:
        parts.append(
            (
                "categories",
                Pipeline(
                    [
                        ("fill", SimpleImputer(strategy="constant", fill_value=-1, keep_empty_features=True)),
                        ("onehot", OneHotEncoder(handle_unknown="ignore")),
                    ]
                ),
                list(range(numeric, numeric + categorical)),
            )
        )
    model = (
        Ridge(alpha=strength) if name.startswith("ridge") else LogisticRegression(C=strength, max_iter=2000)
    )
    return Pipeline([("prepare", ColumnTransformer(parts)), ("model", model)])


def fit(
    name: str,
    x: np.ndarray,
    y: np.ndarray,
    numeric: int,
    categorical: int,
    rows: np.ndarray | None = None,
    score: bool = False,
):
    """Fit candidate `name` on `rows` of x (all when None), sampling down to
    MAX_FIT_ROWS: for a probability, the negatives, with weights that
    restore their share."""
    from threadpoolctl import threadpool_limits

    rows = np.arange(len(y)) if rows is None else rows
    rows, weights = _sample(rows, y, score)
    model = candidate(name, numeric, categorical, score)
    key = "sample_weight" if name == "boosting" else "model__sample_weight"
    # On small inputs, threads cost more than they save (and on a busy
    # machine, spinning OpenMP threads cost several times the work).
    with threadpool_limits(limits=1 if len(rows) < PARALLEL_ROWS else None):
        model.fit(x[rows], y[rows], **{key: weights})
    return model


def _sample(rows: np.ndarray, y: np.ndarray, score: bool) -> tuple[np.ndarray, np.ndarray]:
    if len(rows) <= MAX_FIT_ROWS:
        return rows, np.ones(len(rows))
    if score:
        chosen = np.random.default_rng(SEED).choice(rows, size=MAX_FIT_ROWS, replace=False)
        return chosen, np.ones(len(chosen))
    positive = rows[y[rows] == 1]
    negative = rows[y[rows] == 0]
    keep = max(MAX_FIT_ROWS - len(positive), 1)
    chosen = np.random.default_rng(SEED).choice(negative, size=min(keep, len(negative)), replace=False)
    weights = np.concatenate([np.ones(len(positive)), np.full(len(chosen), len(negative) / len(chosen))])
    return np.concatenate([positive, chosen]), weights


def risk(model, x: np.ndarray) -> np.ndarray:
    """The model's uncalibrated probability (or, for a regressor, its score)."""
    if hasattr(model, "predict_proba"):
        return model.predict_proba(x)[:, 1]
    return model.predict(x)


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def platt(p: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt scaling: a, b of sigmoid(a * logit(p) + b) fitted to labels."""
    from sklearn.linear_model import LogisticRegression

    if len(np.unique(y)) < 2:
        return 1.0, 0.0
    fitted = LogisticRegression(C=1e6, max_iter=1000).fit(logit(p).reshape(-1, 1), y)
    return float(fitted.coef_[0, 0]), float(fitted.intercept_[0])


def calibrate(p: np.ndarray, a: float, b: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(a * logit(p) + b)))


def out_of_fold(
    name: str,
    x: np.ndarray,
    y: np.ndarray,
    folds: list[Fold],
    numeric: int,
    categorical: int,
    score: bool = False,
) -> np.ndarray:
    """Each test row's uncalibrated prediction from its fold's model (NaN
    for rows no fold tests)."""
    predicted = np.full(len(y), np.nan)
    for fold in folds:
        if len(np.unique(y[fold.train])) < 2 or not len(fold.test):
            continue
        model = fit(name, x, y, numeric, categorical, fold.train, score)
        predicted[fold.test] = risk(model, x[fold.test])
    return predicted


def cross_calibrated(predicted: np.ndarray, y: np.ndarray, folds: list[Fold]) -> np.ndarray:
    """Out-of-fold predictions calibrated fold by fold with a Platt fit on
    the other folds' predictions, so the calibration is judged out of
    sample too."""
    calibrated = np.full(len(y), np.nan)
    tested = [f for f in folds if len(f.test) and not np.isnan(predicted[f.test]).all()]
    for fold in tested:
        others = np.concatenate([f.test for f in tested if f is not fold] or [np.zeros(0, dtype=np.int64)])
        a, b = platt(predicted[others], y[others]) if len(others) else (1.0, 0.0)
        calibrated[fold.test] = calibrate(predicted[fold.test], a, b)
    return calibrated


def pick(scores: dict[str, tuple[float, list[float]]]) -> str:
    """The candidate to keep, from each one's pooled AUC and per-fold AUCs:
    the best logistic regression, unless boosting beats it by CLEARLY_BETTER
    pooled and on most folds."""
    logistic = sorted(
        (n for n in scores if n.startswith("logistic")), key=lambda n: float(n.partition(":")[2])
    )
    # The most regularized one within TIE of the best: a strength picked for
    # a hair more AUC on a few test churns is picked for noise.
    top = max(_nan_low(scores[n][0]) for n in logistic)
    best = next(n for n in logistic if _nan_low(scores[n][0]) >= top - TIE)
    if "boosting" not in scores:
        return best
    pooled, per_fold = scores["boosting"]
    theirs = scores[best][1]
    wins = sum(1 for mine, other in zip(per_fold, theirs, strict=True) if mine > other)
    if _nan_low(pooled) >= _nan_low(scores[best][0]) + CLEARLY_BETTER and wins * 2 > len(per_fold):
        return "boosting"
    return best


def pick_score(errors: dict[str, tuple[float, list[float]]]) -> str:
    """For a score, from each candidate's pooled and per-fold mean absolute
    error: the best ridge regression (the most regularized within TIE_ERROR
    of the best), unless boosting's error is lower by CLEARLY_LOWER and on
    most folds."""
    ridge = [n for n in errors if n.startswith("ridge")]  # most regularized first
    low = min(_nan_high(errors[n][0]) for n in ridge)
    best = next(n for n in ridge if _nan_high(errors[n][0]) <= low * (1 + TIE_ERROR))
    if "boosting" not in errors:
        return best
    pooled, per_fold = errors["boosting"]
    wins = sum(1 for mine, other in zip(per_fold, errors[best][1], strict=True) if mine < other)
    if _nan_high(pooled) <= _nan_high(errors[best][0]) * (1 - CLEARLY_LOWER) and wins * 2 > len(per_fold):
        return "boosting"
    return best


def _nan_high(value: float) -> float:
    return math.inf if value is None or math.isnan(value) else value


def fold_errors(predicted: np.ndarray, y: np.ndarray, folds: list[Fold]) -> list[float]:
    """Each fold's mean absolute error (NaN where nothing was predicted)."""
    out = []
    for fold in folds:
        p, labels = predicted[fold.test], y[fold.test]
        keep = ~np.isnan(p)
        out.append(float(np.abs(p[keep] - labels[keep]).mean()) if keep.any() else math.nan)
    return out


def _nan_low(value: float) -> float:
    return -1.0 if value is None or math.isnan(value) else value


def fold_aucs(predicted: np.ndarray, y: np.ndarray, folds: list[Fold]) -> list[float]:
    from sklearn.metrics import roc_auc_score

    out = []
    for fold in folds:
        p, labels = predicted[fold.test], y[fold.test]
        keep = ~np.isnan(p)
        if keep.sum() and len(np.unique(labels[keep])) == 2:
            out.append(float(roc_auc_score(labels[keep], p[keep])))
        else:
            out.append(math.nan)
    return out
