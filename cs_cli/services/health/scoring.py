"""Turning one customer's raw measures into a health score. Pure functions:
no database, so every formula can be checked by hand (docs/health.md)."""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any

from cs_cli.domain import HealthStatus
from cs_cli.specs.scorecard import SIZE_MEASURES, Component, Scorecard


@dataclass(frozen=True)
class Signals:
    """What the multipliers look at."""

    days_to_renewal: int | None = None
    open_escalations: int = 0
    champion_left_recently: bool = False
    # Days a customer (None: its start is unknown); under the scorecard's
    # min_tenure_days it is onboarding.
    tenure_days: int | None = None


@dataclass(frozen=True)
class Scored:
    """A health score and everything needed to explain it."""

    overall: int
    status: HealthStatus
    components: dict[str, int | None]
    # measure -> {"raw": value or None, "score": 0-100 or None}
    measures: dict[str, dict[str, float | None]]
    missing: list[str]
    # component -> points it added to the score before multipliers
    contributions: dict[str, float]
    base: float
    multipliers: list[tuple[str, float]] = field(default_factory=list)
    # The share of component weight with data beyond size alone.
    coverage: float = 1.0


def band_score(card: Scorecard, measure: str, value: float | str) -> int | None:
    """The score of the band that holds `value` (None outside every band);
    for a measure scored by a table of values, the value's score."""
    spec = card.measure(measure)
    if spec.values is not None:
        wanted = str(value).lower()
        return next((v for k, v in spec.values.items() if k.lower() == wanted), spec.other)
    if isinstance(value, str):
        return None
    lowers, scores, upper = card.band_tables[measure]
    if upper is not None and value >= upper:
        return None
    index = bisect_right(lowers, value) - 1
    return scores[index] if index >= 0 else None


def component_score(
    card: Scorecard, component: Component, raw: dict[str, float | None]
) -> tuple[int | None, dict[str, dict[str, float | None]]]:
    """The weighted average of the component's measure scores that have data."""
    spec = card.components.get(component)
    if spec is None:
        return None, {}
    explained: dict[str, dict[str, float | None]] = {}
    total = weights = 0.0
    for name, measure in spec.measures.items():
        value = raw.get(name)
        score = band_score(card, name, value) if value is not None else None
        explained[name] = {"raw": value, "score": score}
        if score is not None:
            total += measure.weight * score
            weights += measure.weight
    if weights == 0:
        return None, explained
    # Half up, as floor(x + 0.5) in SQL (Python's round() goes half to even).
    return math.floor(total / weights + 0.5), explained


def coverage(card: Scorecard, scores: dict[str, int | None]) -> float:
    """The share of the component weights whose component has a measure
    with data other than a size measure (summed as in SQL)."""
    total = sum(w for w in card.weights.values() if w > 0)
    covered = 0.0
    for component, spec in card.components.items():
        weight = card.weights.get(component, 0.0)
        signals = [name for name in spec.measures if name not in SIZE_MEASURES]
        if weight <= 0 or not signals:
            continue
        if any(scores.get(name) is not None for name in signals):
            covered += weight / total
    return covered


def status_for(
    card: Scorecard,
    overall: int,
    *,
    churned: bool,
    tenure_days: int | None = None,
    covered: float = 1.0,
) -> HealthStatus:
    if churned:
        return HealthStatus.CHURNED
    if tenure_days is not None and tenure_days < card.min_tenure_days:
        return HealthStatus.ONBOARDING
    if covered <= 0 or covered < card.min_coverage - 1e-9:
        return HealthStatus.INSUFFICIENT_DATA
    if overall >= card.status.healthy:
        return HealthStatus.HEALTHY
    if overall >= card.status.at_risk:
        return HealthStatus.AT_RISK
    return HealthStatus.CRITICAL


def score(
    card: Scorecard,
    raw: dict[str, float | None],
    signals: Signals,
    *,
    churned: bool,
    components: dict[str, int | None] | None = None,
    covered: float | None = None,
) -> Scored | None:
    """The health score, or None when no component has any data.

    A component without data is left out and its weight is shared out among
    the others in proportion to their weights (the score records which were
    missing). Multipliers then apply; the score is truncated to a whole number.
    """
    measures: dict[str, dict[str, float | None]] = {}
    if components is None:  # else: component scores already known (explaining a stored score)
        components = {}
        for component in Component:
            value, explained = component_score(card, component, raw)
            components[component.value] = value
            measures.update(explained)
    weighted = {c: card.weights.get(Component(c), 0.0) for c, v in components.items() if v is not None}
    present_weight = sum(weighted.values())
    if present_weight == 0:
        return None
    contributions = {c: w / present_weight * (components[c] or 0) for c, w in weighted.items()}
    # Summed as in SQL: the weighted scores, then one division.
    base = sum(w * (components[c] or 0) for c, w in weighted.items()) / present_weight
    multipliers = []
    m = card.multipliers
    if signals.days_to_renewal is not None and 0 <= signals.days_to_renewal < m.renewal_within_days:
        multipliers.append(("renewal_within_days", m.renewal))
    if signals.open_escalations > 0:
        multipliers.append(("open_escalation", m.open_escalation))
    if signals.champion_left_recently:
        multipliers.append(("champion_left", m.champion_left))
    overall = base
    for _, factor in multipliers:
        overall *= factor
    overall_int = max(0, min(100, int(overall + 1e-9)))
    missing = [c.value for c in Component if card.weights.get(c, 0) > 0 and components[c.value] is None]
    if covered is None:
        covered = coverage(card, {name: m["score"] for name, m in measures.items()})
    status = status_for(card, overall_int, churned=churned, tenure_days=signals.tenure_days, covered=covered)
    return Scored(
        overall=overall_int,
        status=status,
        components=components,
        measures=measures,
        missing=missing,
        contributions={c: round(v, 2) for c, v in contributions.items()},
        base=round(base, 2),
        multipliers=multipliers,
        coverage=covered,
    )


# What a history row keeps beside each measure's raw value, in this order
# (its signal_values): the signals behind the multipliers, the share of the
# weights with data, and the base score before the multipliers.
SIGNAL_VALUES = ("days_to_renewal", "open_escalations", "champion_left", "tenure_days", "coverage", "base")
_WHOLE_SIGNALS = ("days_to_renewal", "open_escalations", "champion_left", "tenure_days")


def measure_names(card: Scorecard) -> list[str]:
    """The scorecard's measures in the order history keeps their raw values."""
    return [name for spec in card.components.values() for name in spec.measures]


def kept(
    card: Scorecard,
    raw_values: list[float | None] | None,
    signal_values: list[float | None] | None,
    measures: dict[str, Any] | None,
) -> dict[str, Any]:
    """What a history row keeps to explain its score, as {"raw": {measure:
    value}, "signals": {...}, "base": ...}: from its arrays (in the order of
    the scorecard that made it) and its text raw values, or from the JSON of
    rows written before the arrays (which holds all of it)."""
    measures = measures or {}
    if raw_values is None and signal_values is None:
        return measures
    texts = measures.get("raw", {})
    raw: dict[str, Any] = {}
    for name, value in zip(measure_names(card), raw_values or [], strict=False):
        raw[name] = texts.get(name, value)
    values = dict(zip(SIGNAL_VALUES, signal_values or [], strict=False))
    signals = {
        name: int(value) if name in _WHOLE_SIGNALS and value is not None else value
        for name, value in values.items()
        if name != "base"
    }
    return {"raw": raw, "signals": signals, "base": values.get("base")}


def explain(card: Scorecard, components: dict[str, int | None], stored: dict[str, Any]) -> dict[str, Any]:
    """The explanation of a stored score: what history kept (each measure's
    raw value, the signals, the base score) and what follows from it with
    the scorecard that made it (band scores, points, missing components,
    multipliers applied)."""
    weighted = {c: card.weights.get(Component(c), 0.0) for c, v in components.items() if v is not None}
    present = sum(weighted.values()) or 1.0
    signals = stored.get("signals", {})
    result = score(
        card,
        {},
        Signals(
            days_to_renewal=signals.get("days_to_renewal"),
            open_escalations=signals.get("open_escalations") or 0,
            champion_left_recently=bool(signals.get("champion_left")),
        ),
        churned=False,
        components=components,
        covered=1.0,
    )
    raw = stored.get("raw", {})
    known = {name for spec in card.components.values() for name in spec.measures}
    # History keeps raw values only: each band score follows from the raw
    # value and the scorecard that made it (rows written before that change
    # also carry their band scores, which are the same).
    scores = stored.get("score") or {
        name: band_score(card, name, value) if value is not None and name in known else None
        for name, value in raw.items()
    }
    return {
        "scorecard": card.name,
        "weights": {c.value: card.weights.get(c, 0.0) for c in Component},
        "measures": {name: {"raw": raw.get(name), "score": scores.get(name)} for name in raw},
        "missing": [
            c.value for c in Component if card.weights.get(c, 0) > 0 and components.get(c.value) is None
        ],
        "contributions": {c: round(w / present * (components[c] or 0), 2) for c, w in weighted.items()},
        "base": round(stored["base"], 2) if stored.get("base") is not None else None,
        "coverage": signals.get("coverage"),
        "min_coverage": card.min_coverage,
        "tenure_days": signals.get("tenure_days"),
        "min_tenure_days": card.min_tenure_days,
        "multipliers": [
            [name, factor, _multiplier_label(card, name)]
            for name, factor in (result.multipliers if result else [])
        ],
    }


def _multiplier_label(card: Scorecard, name: str) -> str:
    m = card.multipliers
    return {
        "renewal_within_days": f"renewal within {m.renewal_within_days} days",
        "open_escalation": "an escalated ticket is open",
        "champion_left": f"a champion left within {m.champion_left_within_days} days",
    }.get(name, name.replace("_", " "))
