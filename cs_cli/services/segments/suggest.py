"""Segments suggested from the book: cluster the active customers, then find
rules in the segment rule language that describe each cluster.

1. Features (suggest_features.py): health and three of its components,
   usage, ARR (as log), tenure, renewal and touchpoint sentiment, missing
   values filled with the book's median (sentiment: neutral), standardized
   and clipped at 3 standard deviations so that a few huge accounts do not
   take a cluster of their own. `focus` weighs some
   features up (FOCUS_WEIGHTS).
2. k-means, seeded, so the same book and options give the same clusters:
   `--accept N` computes them again rather than storing them. Fitted on a
   seeded sample of FIT_SAMPLE customers. With no k, every k from 2 to
   MAX_K is tried and the one with the best silhouette on a seeded sample
   of SAMPLE customers wins.
3. Rules: per cluster, a decision tree of depth 3, the cluster against the
   rest, on the rule-language features only; the paths to the leaves where
   the cluster is the majority become `all` groups under one `any`; leaves
   that do not improve the match are dropped. Thresholds are rounded
   (whole numbers; ARR to hundreds or thousands) and the rules are scored
   as rounded, with the rule language's treatment of missing values.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from cs_cli import rules
from cs_cli.domain import Actor, SegmentRow, SegmentSuggestion, SegmentType, Suggestions
from cs_cli.errors import BadInput, CsError
from cs_cli.services.segments.suggest_features import (
    BY_NAME,
    FEATURES,
    BookFeatures,
    read_features,
    usage_rule,
)

MAX_K = 8
MIN_CUSTOMERS = 30  # fewer and clusters say nothing
PER_CLUSTER = 5  # at least this many customers per cluster asked for
SAMPLE = 4000  # customers the silhouette is computed on
FIT_SAMPLE = 20_000  # customers k-means is fitted on
SEED = 0
CLIP = 3.0
DEPTH = 3
FOCUSES = ("churn", "expansion")
# What a focus weighs up: churn, the risk signals; expansion, size and use.
FOCUS_WEIGHTS = {
    "churn": {
        "health_score": 2.0,
        "active_days_30": 2.0,
        "sentiment_90d": 2.0,
        "days_to_renewal": 1.5,
        "relationship_score": 1.5,
        "support_score": 1.5,
        "financial_score": 1.5,
    },
    "expansion": {"arr": 2.0, "active_days_30": 2.0, "health_score": 1.5, "tenure_days": 1.5},
}


def parse_k(text: str | None) -> int | None:
    """`--k`: a whole number from 2 to MAX_K, or `auto` (None)."""
    if text is None or text.strip().lower() == "auto":
        return None
    try:
        k = int(text)
    except ValueError:
        raise BadInput(f"--k is a number from 2 to {MAX_K} or 'auto', not '{text}'") from None
    if not 2 <= k <= MAX_K:
        raise BadInput(f"--k is a number from 2 to {MAX_K} or 'auto', not {k}")
    return k


# (units done, stage now under way): 100 units in all; the CLI draws a bar.
Progress = Callable[[float, str | None], None]


def suggest(
    session: Session,
    actor: Actor,
    *,
    k: int | None,
    focus: str | None,
    as_of: dt.date,
    progress: Progress | None = None,
) -> Suggestions:
    """Cluster the active book as of `as_of` and propose rules for each
    cluster; saves nothing. The same book and options give the same result."""
    return suggest_with_members(session, actor, k=k, focus=focus, as_of=as_of, progress=progress)[0]


def suggest_with_members(
    session: Session,
    actor: Actor,
    *,
    k: int | None,
    focus: str | None,
    as_of: dt.date,
    progress: Progress | None = None,
) -> tuple[Suggestions, dict[str, int]]:
    """`suggest`, and each active customer's suggestion number (by external
    id): the clusters themselves, for measuring them against known groups."""
    if focus is not None and focus not in FOCUSES:
        raise BadInput(f"--focus is churn or expansion, not '{focus}'")
    if progress:
        progress(0, "reading features")
    book = read_features(session, as_of)
    n = len(book.ids)
    least = max(MIN_CUSTOMERS, PER_CLUSTER * (k or 2))
    if n < least:
        raise CsError(
            f"too few active customers to suggest segments: {n:,} as of {as_of}, "
            f"and clustering needs at least {least}" + (f" for --k {k}" if k else "")
        )
    step = progress or (lambda n, stage: None)
    step(20, "clustering")
    names, matrix = _standardized(book, focus)
    from threadpoolctl import threadpool_limits

    # One thread: k-means' OpenMP threads spin against each other on a busy
    # machine (100,000 customers, k = 8: 1.0 s on one thread, 7.9 s on two
    # cores shared with other work), and on one core they gain nothing.
    with threadpool_limits(1):
        labels, chosen, silhouettes = _cluster(matrix, k, step)
    step(0, "finding rules")
    everyone = np.ones(n, dtype=bool)
    churn, grew = _churn_risk(book, everyone), _share(book.grew, everyone)
    found = []
    for c in range(chosen):
        if (labels == c).any():
            found.append((_with_reasoning(_describe(book, labels, c), book, churn, grew), c))
        step(20 / chosen, None)
    if focus == "churn":
        found.sort(key=lambda item: (-(item[0].churn_risk or 0.0), -item[0].customers))
    elif focus == "expansion":
        found.sort(key=lambda item: (-(item[0].expansion_rate or 0.0), -item[0].customers))
    else:
        found.sort(key=lambda item: -item[0].customers)
    numbered = _numbered([s for s, _ in found])
    number_of = {c: i for i, (_, c) in enumerate(found, 1)}
    members = {ext: number_of[int(c)] for ext, c in zip(book.external_ids, labels, strict=True)}
    result = Suggestions(
        as_of=as_of,
        customers=n,
        k=chosen,
        k_chosen_by="given" if k else "silhouette",
        silhouette=silhouettes.get(chosen),
        silhouettes=silhouettes,
        features=names,
        focus=focus,
        suggestions=numbered,
    )
    return result, members


def accept(
    session: Session,
    actor: Actor,
    number: int,
    *,
    name: str,
    k: int | None,
    focus: str | None,
    as_of: dt.date,
    now: dt.datetime,
) -> tuple[SegmentRow, SegmentSuggestion]:
    """Save suggestion `number` (as `suggest` numbers them with the same
    options) as an ai_generated segment with its rules, confidence and
    reasoning; it refreshes like a dynamic segment."""
    from cs_cli.services.access import require_role
    from cs_cli.services.segments.definitions import EDITORS, create_segment

    require_role(actor, *EDITORS, doing="creating a segment")
    found = suggest(session, actor, k=k, focus=focus, as_of=as_of).suggestions
    if not 1 <= number <= len(found):
        raise BadInput(f"--accept takes a suggestion's number, 1 to {len(found)}, not {number}")
    chosen = found[number - 1]
    row = create_segment(
        session,
        actor,
        name=name,
        segment_type=SegmentType.AI_GENERATED,
        description=f"Suggested by cs segments suggest as of {as_of}: {chosen.name}",
        document=chosen.rules,
        now=now,
        ai_confidence=round(chosen.confidence, 4),
        ai_reasoning=chosen.reasoning,
    )
    return row, chosen


# clustering


def _standardized(book: BookFeatures, focus: str | None) -> tuple[list[str], np.ndarray]:
    weights = FOCUS_WEIGHTS.get(focus or "", {})
    names, columns = [], []
    for f in FEATURES:
        x = book.values[f.name].copy()
        known = ~np.isnan(x)
        if not known.any():
            continue  # e.g. no touchpoint carries a sentiment yet
        if f.log:
            x[known] = np.log1p(np.maximum(x[known], 0.0))
        x[~known] = np.median(x[known]) if f.neutral is None else f.neutral
        sd = x.std()
        if sd == 0:
            continue
        z = np.clip((x - x.mean()) / sd, -CLIP, CLIP) * weights.get(f.name, 1.0)
        names.append(f.name)
        columns.append(z)
    if not columns:
        raise CsError("the active customers do not differ in any feature; nothing to cluster on")
    return names, np.column_stack(columns)


def _cluster(matrix: np.ndarray, k: int | None, step: Progress) -> tuple[np.ndarray, int, dict[int, float]]:
    """k-means fitted on a seeded sample of at most FIT_SAMPLE customers (the
    whole book when smaller), every customer then given its nearest centre:
    the centres of 20,000 customers are those of 100,000 to a hair, for a
    fifth of the time. The silhouette of each k is measured on SAMPLE of them."""
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import silhouette_score

    n = len(matrix)
    rng = np.random.default_rng(SEED)
    fit = np.sort(rng.choice(n, size=min(n, FIT_SAMPLE), replace=False))
    sample = np.sort(rng.choice(n, size=min(n, SAMPLE), replace=False))
    candidates = [k] if k else list(range(2, min(MAX_K, n // PER_CLUSTER) + 1))
    best: tuple[float, int, np.ndarray] | None = None
    silhouettes: dict[int, float] = {}
    for c in candidates:
        with warnings.catch_warnings():
            # Fewer distinct customers than clusters: k-means says so on
            # stderr; the empty clusters are simply not suggested.
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = KMeans(n_clusters=c, n_init=4, random_state=SEED).fit(matrix[fit])
        labels = model.predict(matrix)
        picked = labels[sample]
        score = float(silhouette_score(matrix[sample], picked)) if len(set(picked.tolist())) > 1 else -1.0
        silhouettes[c] = round(score, 4)
        if best is None or score > best[0]:
            best = (score, c, labels)
        step(60 / len(candidates), None)
    assert best is not None
    return best[2], best[1], silhouettes


# rules


def _describe(book: BookFeatures, labels: np.ndarray, cluster: int) -> SegmentSuggestion:
    members = labels == cluster
    document, selected = _rules_for(book, members)
    true = int((selected & members).sum())
    precision = true / max(1, int(selected.sum()))
    recall = true / int(members.sum())
    f1 = 0.0 if true == 0 else 2 * precision * recall / (precision + recall)
    arr = np.nan_to_num(book.values["arr"][members])
    profile = {
        f.name: (
            None
            if np.isnan(book.values[f.name][members]).all()
            else float(np.nanmean(book.values[f.name][members]))
        )
        for f in FEATURES
    }
    return SegmentSuggestion(
        number=0,
        name="",
        customers=int(members.sum()),
        share=float(members.mean()),
        total_arr=Decimal(str(round(float(arr.sum()), 2))),
        avg_arr=Decimal(str(round(float(arr.mean()), 2))),
        churn_risk=_churn_risk(book, members),
        expansion_rate=_share(book.grew, members),
        precision=round(precision, 4),
        recall=round(recall, 4),
        confidence=round(f1, 4),
        rules=document,
        reasoning="",
        profile=profile,
    )


def _rules_for(book: BookFeatures, members: np.ndarray) -> tuple[dict[str, Any], np.ndarray]:
    """Rules for one cluster and the customers they select (as refresh would)."""
    from sklearn.tree import DecisionTreeClassifier

    usable = [f for f in FEATURES if f.in_rules and not np.isnan(book.values[f.name]).all()]
    raw = np.column_stack([book.values[f.name] for f in usable])
    filled = raw.copy()
    for j in range(raw.shape[1]):
        gap = np.isnan(filled[:, j])
        filled[gap, j] = np.nanmedian(raw[:, j])
    n = len(members)
    tree = DecisionTreeClassifier(
        max_depth=DEPTH, min_samples_leaf=max(1, n // 100), class_weight="balanced", random_state=SEED
    ).fit(filled, members)
    paths = _positive_paths(tree, usable)
    if not paths:  # no leaf where the cluster is the majority: its best leaf
        paths = _positive_paths(tree, usable, best_only=True)
    masks = [_path_mask(p, book) for p in paths]

    def f1(chosen: list[int]) -> float:
        if not chosen:
            return 0.0
        sel = np.logical_or.reduce([masks[i] for i in chosen])
        true = (sel & members).sum()
        return 0.0 if true == 0 else 2 * true / (sel.sum() + members.sum())

    # Drop leaves that do not help: simpler rules that match as well.
    keep = list(range(len(paths)))
    improved = True
    while improved and len(keep) > 1:
        improved = False
        for i in sorted(keep, key=lambda i: masks[i].sum()):
            rest = [j for j in keep if j != i]
            if f1(rest) >= f1(keep):
                keep, improved = rest, True
                break
    selected = np.logical_or.reduce([masks[i] for i in keep])
    conditions = [_conditions(paths[i]) for i in keep]
    status = {"status": "active"}
    if len(conditions) == 1:
        document = {"all": [status, *conditions[0]]}
    else:
        document = {"all": [status, {"any": [{"all": c} for c in conditions]}]}
    rules.parse_document(document)  # a rule this module writes must be one the language reads
    return document, selected


Bounds = dict[str, tuple[float | None, float | None]]  # feature -> (more than, at most)


def _positive_paths(tree, usable, best_only: bool = False) -> list[Bounds]:
    t = tree.tree_
    found: list[tuple[float, Bounds]] = []

    def walk(node: int, bounds: Bounds) -> bool:
        """Collect the node's positive leaves; True when all its leaves are
        positive, so the parent takes its path instead (one condition fewer)."""
        if t.children_left[node] == -1:
            neg, pos = t.value[node][0][0], t.value[node][0][1]
            return best_only or pos > neg
        f = usable[t.feature[node]]
        cut = _round(f.name, float(t.threshold[node]))
        lo, hi = bounds.get(f.name, (None, None))
        sides = (
            (t.children_left[node], {**bounds, f.name: (lo, cut if hi is None else min(hi, cut))}),
            (t.children_right[node], {**bounds, f.name: (cut if lo is None else max(lo, cut), hi)}),
        )
        whole = [walk(child, b) for child, b in sides]
        if all(whole) and not best_only:
            return True
        for (child, b), positive in zip(sides, whole, strict=True):
            if positive:
                found.append((_purity(child), b))
        return False

    def _purity(node: int) -> float:
        neg, pos = t.value[node][0][0], t.value[node][0][1]
        return pos / max(pos + neg, 1e-12)

    if walk(0, {}):
        found.append((_purity(0), {}))
    found.sort(key=lambda item: -item[0])
    if best_only:
        return [found[0][1]] if found else []
    # Empty intervals (rounding closed them) select no one.
    return [b for _, b in found if all(lo is None or hi is None or lo < hi for lo, hi in b.values())]


def _round(name: str, cut: float) -> float:
    """A threshold as the rule will state it: `x <= cut` keeps the same
    customers for whole numbers at floor(cut); ARR to 100 or 1,000."""
    if BY_NAME[name].integer:
        return float(math.floor(cut))
    step = 1000 if abs(cut) >= 10_000 else 100
    return float(round(cut / step) * step)


def _path_mask(bounds: Bounds, book: BookFeatures) -> np.ndarray:
    # NaN compares false both ways: a customer without the value is not
    # matched, as in the rule language.
    mask = np.ones(len(book.ids), dtype=bool)
    with np.errstate(invalid="ignore"):
        for name, (lo, hi) in bounds.items():
            x = book.values[name]
            if lo is not None:
                mask &= x > lo
            if hi is not None:
                mask &= x <= hi
    return mask


def _conditions(bounds: Bounds) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for f in FEATURES:
        if f.name not in bounds:
            continue
        lo, hi = bounds[f.name]
        comparison: dict[str, Any] = {}
        if f.integer:
            # x > 41 is x >= 42 for whole numbers: the way a person writes it.
            low = None if lo is None else int(lo) + 1
            high = None if hi is None else int(hi)
            if low is not None and high is not None:
                comparison = {"between": [low, high]}
            elif low is not None:
                comparison = {"gte": low}
            else:
                comparison = {"lte": high}
        else:
            if lo is not None:
                comparison["gt"] = _number(lo)
            if hi is not None:
                comparison["lte"] = _number(hi)
        if f.name == "active_days_30":
            out.append(usage_rule(**comparison))
        else:
            out.append({f.name: comparison})
    return out


def _number(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


# profile


def _churn_risk(book: BookFeatures, members: np.ndarray) -> float | None:
    """The mean churn probability where the churn model has scored most of
    the members; else the share of members at risk or critical."""
    scored = book.churn_probability[members]
    known = ~np.isnan(scored)
    if known.sum() * 2 >= len(scored) and known.any():
        return round(float(scored[known].mean()), 4)
    if not members.any():
        return None
    return round(float(book.troubled[members].mean()), 4)


def churn_basis(book_scored: bool) -> str:
    return "mean churn probability" if book_scored else "share at risk or critical"


def _share(values: np.ndarray, members: np.ndarray) -> float | None:
    x = values[members]
    x = x[~np.isnan(x)]
    return None if len(x) == 0 else round(float(x.mean()), 4)


def _with_reasoning(s: SegmentSuggestion, book: BookFeatures, churn: float | None, grew: float | None):
    apart = _apart(s, book)
    name = ", ".join(BY_NAME[f].low if z < 0 else BY_NAME[f].high for f, z, _ in apart[:2]) or "typical"
    name = name[0].upper() + name[1:]
    scored = (~np.isnan(book.churn_probability)).sum() * 2 >= len(book.ids)
    parts = [
        f"{s.customers:,} customers ({s.share:.0%} of the active book), "
        f"ARR {_money(s.total_arr)} in total, {_money(s.avg_arr)} on average.",
    ]
    if apart:
        parts.append(
            "Sets it apart: "
            + "; ".join(
                f"{BY_NAME[f].words} {_value(f, mine)} (book {_value(f, book_mean)})"
                for f, _, (mine, book_mean) in apart[:3]
            )
            + "."
        )
    if s.churn_risk is not None:
        parts.append(f"Churn risk {s.churn_risk:.0%} (book {churn:.0%}; {churn_basis(bool(scored))}).")
    if s.expansion_rate is not None and grew is not None:
        parts.append(f"ARR grew over the past year for {s.expansion_rate:.0%} (book {grew:.0%}).")
    parts.append(
        f"Of the customers the rules select, {s.precision:.0%} are in the cluster (precision); "
        f"they select {s.recall:.0%} of the cluster (recall)."
    )
    return SegmentSuggestion(**{**s.__dict__, "name": name, "reasoning": " ".join(parts)})


def _apart(s: SegmentSuggestion, book: BookFeatures) -> list[tuple[str, float, tuple[float, float]]]:
    """Features where the cluster's mean is furthest from the book's, in
    standard deviations of the book: (feature, z, (cluster mean, book mean))."""
    out = []
    for f in FEATURES:
        mine = s.profile.get(f.name)
        x = book.values[f.name]
        if mine is None or np.isnan(x).all():
            continue
        sd = float(np.nanstd(x))
        if sd == 0:
            continue
        mean = float(np.nanmean(x))
        z = (mine - mean) / sd
        if abs(z) >= 0.3:
            out.append((f.name, z, (mine, mean)))
    out.sort(key=lambda item: -abs(item[1]))
    return out


def _value(name: str, x: float) -> str:
    if name == "arr":
        return _money(Decimal(str(round(x))))
    if name == "sentiment_90d":
        return f"{x:+.2f}"
    return f"{x:,.0f}"


def _money(x: Decimal) -> str:
    v = float(x)
    if abs(v) >= 1_000_000_000:
        return f"{v / 1_000_000_000:.1f}B"
    if abs(v) >= 1_000_000:
        return f"{v / 1_000_000:.1f}M"
    if abs(v) >= 10_000:
        return f"{v / 1000:.0f}k"
    return f"{v:,.0f}"


def _numbered(found: list[SegmentSuggestion]) -> list[SegmentSuggestion]:
    seen: dict[str, int] = {}
    out = []
    for i, s in enumerate(found, 1):
        seen[s.name] = seen.get(s.name, 0) + 1
        name = s.name if seen[s.name] == 1 else f"{s.name} ({seen[s.name]})"
        out.append(SegmentSuggestion(**{**s.__dict__, "number": i, "name": name}))
    return out
