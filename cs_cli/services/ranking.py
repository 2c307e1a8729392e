"""How well a number ranks an outcome: ROC AUC with a bootstrap interval,
and the lift of the riskiest fraction. Plain numpy, for arrays of any size.

The same customer is often measured on many days, so rows are not
independent: the bootstrap resamples customers (clusters), not rows, and
an interval is as wide as the number of customers says it should be.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse

# Replicates of the bootstrap: enough for a stable 95% interval; fewer on
# very large inputs, where each replicate costs a pass over every row.
REPLICATES = 1000
REPLICATES_LARGE = 200
LARGE = 500_000


@dataclass(frozen=True)
class Auc:
    """ROC AUC (0.5: no better than chance) with its 95% interval."""

    auc: float | None
    low: float | None
    high: float | None
    positives: int
    negatives: int
    replicates: int = 0


def _auc_of(positive: np.ndarray, negative: np.ndarray) -> np.ndarray:
    """AUC from histograms by dense rank (higher: riskier), one per row: the
    chance that a positive ranks above a negative, ties counting half (NaN
    when a row has no positive or no negative)."""
    below = np.cumsum(negative, axis=-1) - negative
    p, n = positive.sum(axis=-1), negative.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        got = (positive * (below + 0.5 * negative)).sum(axis=-1) / (p * n)
    return np.where((p > 0) & (n > 0), got, np.nan)


# Replicates judged together: a block's draws are a dense (clusters x
# replicates) matrix and its histograms a dense (ranks x replicates) one,
# kept under about CELLS cells.
BLOCK = 25
CELLS = 2_000_000


def auc(
    values: np.ndarray,
    labels: np.ndarray,
    clusters: np.ndarray,
    *,
    riskier_when_higher: bool,
    seed: int = 0,
    replicates: int | None = None,
) -> Auc:
    """The AUC of `values` as a ranking of `labels` (1: the outcome
    happened), rows with a NaN value left out; its interval resamples the
    `clusters` (e.g. customer ids) with replacement."""
    values = np.asarray(values, dtype=float)
    keep = ~np.isnan(values)
    values, labels, clusters = values[keep], np.asarray(labels, float)[keep], np.asarray(clusters)[keep]
    positives = int(labels.sum())
    negatives = int(len(labels) - positives)
    if positives == 0 or negatives == 0:
        return Auc(None, None, None, positives, negatives)
    risk = values if riskier_when_higher else -values
    levels, ranks = np.unique(risk, return_inverse=True)
    groups, members = np.unique(clusters, return_inverse=True)
    # Each cluster's histogram of positives and of negatives by rank. A
    # replicate weighs each cluster by how often it was drawn, so its
    # histograms are a sum of these: one sparse product per block of
    # replicates, not a pass over every row for each (a cluster's rows
    # share few ranks, so the histograms are much smaller than the rows).
    shape = (len(groups), len(levels))
    by_cluster = [
        sparse.csr_matrix((weight, (members, ranks)), shape=shape).T.tocsr()
        for weight in (labels, 1.0 - labels)
    ]
    positive, negative = (np.asarray(h.sum(axis=1)).ravel() for h in by_cluster)
    point = float(_auc_of(positive, negative))
    if replicates is None:
        replicates = REPLICATES if len(labels) < LARGE else REPLICATES_LARGE
    rng = np.random.default_rng(seed)
    estimates = []
    block = max(1, min(BLOCK, CELLS // max(shape)))
    for start in range(0, replicates, block):
        drawn = np.stack(
            [
                np.bincount(rng.integers(0, len(groups), len(groups)), minlength=len(groups))
                for _ in range(min(block, replicates - start))
            ],
            axis=1,
        ).astype(float)
        got = _auc_of(*((h @ drawn).T for h in by_cluster))
        estimates.extend(got[~np.isnan(got)].tolist())
    if not estimates:
        return Auc(point, None, None, positives, negatives, replicates)
    low, high = np.percentile(estimates, [2.5, 97.5])
    return Auc(point, float(low), float(high), positives, negatives, replicates)


def top_lift(
    values: np.ndarray,
    labels: np.ndarray,
    groups: np.ndarray,
    *,
    riskier_when_higher: bool,
    fraction: float = 0.1,
) -> float | None:
    """The outcome's rate among the riskiest `fraction` of each group (e.g.
    each snapshot day) over its rate among all; rows tied at the cut count
    in proportion to the places left for them."""
    values = np.asarray(values, dtype=float)
    labels = np.asarray(labels, dtype=float)
    groups = np.asarray(groups)
    risk = values if riskier_when_higher else -values
    picked = hits = 0.0
    for group in np.unique(groups):
        inside = groups == group
        r, y = risk[inside], labels[inside]
        slots = math.ceil(fraction * len(r))
        order = np.argsort(-r, kind="stable")
        r, y = r[order], y[order]
        cut = r[slots - 1]
        above = r > cut
        tied = r == cut
        left = slots - above.sum()
        hits += y[above].sum() + y[tied].sum() * left / tied.sum()
        picked += slots
    base = labels.mean() if len(labels) else 0.0
    if picked == 0 or base == 0:
        return None
    return float(hits / picked / base)


def positives_needed(half_width: float = 0.1, auc_value: float = 0.7) -> int:
    """Outcomes needed for an AUC interval about ±half_width wide, with many
    more negatives than positives (Hanley and McNeil's variance)."""
    q1 = auc_value / (2 - auc_value)
    return math.ceil((1.96 / half_width) ** 2 * (q1 - auc_value**2))
