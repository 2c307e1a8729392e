"""The scorecard: how raw measures of a customer become a health score.

A scorecard names the weight of each component, the measures behind each
component (with their look-back windows and the bands that turn a raw value
into 0-100), the risk multipliers, the status thresholds and the trend
thresholds. docs/health.md explains every measure.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from enum import StrEnum
from functools import cached_property
from itertools import pairwise
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Component(StrEnum):
    ADOPTION = "adoption"
    ENGAGEMENT = "engagement"
    RELATIONSHIP = "relationship"
    FINANCIAL = "financial"
    SUPPORT = "support"


# Every measure cs can compute, the component it belongs to, and whether it
# looks back over a window of days. The SQL for each is in services/health/measures.py.
MEASURES: dict[str, tuple[Component, bool, str]] = {
    "feature_breadth": (Component.ADOPTION, True, "share of the product's features used (0-1)"),
    "active_days": (Component.ADOPTION, True, "share of days with any usage (0-1)"),
    "active_users": (Component.ADOPTION, True, "distinct active users per seat (0-1, capped)"),
    "touchpoints": (Component.ENGAGEMENT, True, "calls, meetings, QBRs and renewal talks"),
    "email_engagement": (Component.ENGAGEMENT, True, "emails opened or clicked per email sent"),
    "webinars": (Component.ENGAGEMENT, True, "webinars attended"),
    "touchpoint_recency": (Component.ENGAGEMENT, False, "days since the last touchpoint"),
    "champion": (Component.RELATIONSHIP, False, "1 when a champion is in place, else 0"),
    "exec_sponsor": (Component.RELATIONSHIP, False, "1 when an executive sponsor is in place, else 0"),
    "nps": (Component.RELATIONSHIP, True, "average NPS score (0-10)"),
    "arr_growth": (Component.FINANCIAL, True, "change in invoiced amount, window on the one before"),
    "late_invoices": (Component.FINANCIAL, True, "invoices due in the window paid late or unpaid"),
    "contract_value": (Component.FINANCIAL, False, "ARR"),
    "tickets_per_seat": (Component.SUPPORT, True, "tickets opened per seat"),
    "open_escalations": (Component.SUPPORT, False, "escalated tickets still open"),
    "csat": (Component.SUPPORT, True, "average satisfaction of tickets closed (1-5)"),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Band(_Strict):
    """Raw values in [from, to) score `score`; an open end is unbounded."""

    lower: float | None = Field(default=None, alias="from")
    upper: float | None = Field(default=None, alias="to")
    score: int = Field(ge=0, le=100)


class MeasureKind(StrEnum):
    """What a measure of your own (a name not in MEASURES) measures."""

    EVENT_COUNT = "event_count"  # usage events of some names in a window
    ATTRIBUTE = "attribute"  # a customer attribute, as of the day
    TENURE = "tenure"  # days the customer has been one


class EventCount(StrEnum):
    EVENTS = "events"
    DAYS = "days"
    USERS = "users"


# The built-in measures that read usage events, and so take `events` and `exclude`.
USAGE_MEASURES = ("feature_breadth", "active_days", "active_users")
# Measures of size: data for them alone never decides a status (a book with
# ARR and nothing else is "insufficient data", not critical).
SIZE_MEASURES = ("contract_value",)
_NAME = re.compile(r"[a-z][a-z0-9_]{0,49}")


class Measure(_Strict):
    weight: float = Field(gt=0)
    window_days: int | None = Field(default=None, gt=0)
    bands: list[Band] | None = Field(default=None, min_length=1)
    # A measure of your own says what it measures.
    kind: MeasureKind | None = None
    # Usage measures: the event names that count (globs: * and ?), and the
    # ones that never do; without them, the scorecard's `usage` lists.
    events: list[str] | None = Field(default=None, min_length=1)
    exclude: list[str] | None = None
    # event_count: count events, distinct days or distinct users; per seat.
    count: EventCount = EventCount.EVENTS
    per_seat: bool = False
    # attribute: its name; numbers go through `bands`, text and booleans
    # through `values` (value -> score, matched regardless of case), and a
    # value not listed scores `other` (no data without it).
    attribute: str | None = Field(default=None, min_length=1, max_length=200)
    values: dict[str, int] | None = Field(default=None, min_length=1)
    other: int | None = Field(default=None, ge=0, le=100)

    @field_validator("bands")
    @classmethod
    def _contiguous(cls, bands: list[Band] | None) -> list[Band] | None:
        if bands is None:
            return None
        for index, (before, after) in enumerate(pairwise(bands), start=1):
            if before.upper is None or after.lower is None:
                raise ValueError(f"band {index} is open-ended but more bands follow")
            if after.lower < before.upper:
                raise ValueError(
                    f"bands {index} and {index + 1} overlap ({after.lower:g} < {before.upper:g})"
                )
            if after.lower > before.upper:
                raise ValueError(
                    f"gap between bands {index} and {index + 1} ({before.upper:g} to {after.lower:g})"
                )
        for index, band in enumerate(bands, start=1):
            if band.lower is not None and band.upper is not None and band.upper <= band.lower:
                raise ValueError(f"band {index} is empty (from {band.lower:g} to {band.upper:g})")
        return bands

    @field_validator("values", mode="before")
    @classmethod
    def _value_keys(cls, values: Any) -> Any:
        # YAML reads `Yes:`, `true:` and `1:` as a boolean or a number key.
        if isinstance(values, dict):
            return {_text_key(k): v for k, v in values.items()}
        return values

    @field_validator("values")
    @classmethod
    def _scores(cls, values: dict[str, int] | None) -> dict[str, int] | None:
        for key, score in (values or {}).items():
            if not 0 <= score <= 100:
                raise ValueError(f"'{key}' scores {score}: scores are 0-100")
        if values and len({k.lower() for k in values}) != len(values):
            raise ValueError("a value is listed twice (values match regardless of case)")
        return values

    @field_validator("events", "exclude")
    @classmethod
    def _names(cls, names: list[str] | None) -> list[str] | None:
        for name in names or []:
            if not name or len(name) > 100:
                raise ValueError("event names are 1 to 100 characters")
        return names

    @property
    def is_categorical(self) -> bool:
        return self.values is not None


def _text_key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


def check_measure(component: Component, name: str, measure: Measure) -> None:
    """What a measure needs, and takes, by its kind; raises ValueError naming
    its key path."""
    where = f"components.{component}.measures.{name}"
    builtin = name in MEASURES
    if builtin and measure.kind is not None:
        raise ValueError(f"{where}.kind: '{name}' is a built-in measure; give yours another name")
    if not builtin:
        if measure.kind is None:
            known = ", ".join(m for m, (c, _, _) in MEASURES.items() if c == component)
            raise ValueError(
                f"{where}: unknown measure '{name}' (built-in here: {known}; "
                f"a measure of your own needs a kind: {', '.join(k.value for k in MeasureKind)})"
            )
        if not _NAME.fullmatch(name):
            raise ValueError(f"{where}: a measure's name is lower-case letters, digits and _ ")
    else:
        owner, windowed, _ = MEASURES[name]
        if owner != component:
            raise ValueError(f"{where}: belongs to {owner.value}")
        if windowed and measure.window_days is None:
            raise ValueError(f"{where}: needs window_days")
    kind = measure.kind
    takes = {
        "events": name in USAGE_MEASURES or kind == MeasureKind.EVENT_COUNT,
        "exclude": name in USAGE_MEASURES or kind == MeasureKind.EVENT_COUNT,
        "count": kind == MeasureKind.EVENT_COUNT,
        "per_seat": kind == MeasureKind.EVENT_COUNT,
        "attribute": kind == MeasureKind.ATTRIBUTE,
        "values": kind == MeasureKind.ATTRIBUTE,
        "other": kind == MeasureKind.ATTRIBUTE and measure.values is not None,
        "window_days": builtin or kind == MeasureKind.EVENT_COUNT,
    }
    for key, allowed in takes.items():
        if not allowed and key in measure.model_fields_set:
            raise ValueError(f"{where}.{key}: not taken by {'this measure' if builtin else kind.value}")
    if kind == MeasureKind.EVENT_COUNT:
        if measure.events is None:
            raise ValueError(f"{where}: needs events (the event names to count)")
        if measure.window_days is None:
            raise ValueError(f"{where}: needs window_days")
    if kind == MeasureKind.ATTRIBUTE:
        if measure.attribute is None:
            raise ValueError(f"{where}: needs attribute (the attribute's name)")
        if (measure.bands is None) == (measure.values is None):
            raise ValueError(f"{where}: give bands (a number) or values (text), one of them")
        return
    if measure.bands is None:
        raise ValueError(f"{where}: needs bands")


class ComponentSpec(_Strict):
    measures: dict[str, Measure] = Field(min_length=1)


class Multipliers(_Strict):
    renewal_within_days: int = Field(default=30, ge=0)
    renewal: float = Field(default=0.95, gt=0, le=1)
    open_escalation: float = Field(default=0.90, gt=0, le=1)
    champion_left: float = Field(default=0.85, gt=0, le=1)
    champion_left_within_days: int = Field(default=90, gt=0)


class Status(_Strict):
    healthy: int = Field(default=80, ge=0, le=100)
    at_risk: int = Field(default=60, ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> Status:
        if self.at_risk > self.healthy:
            raise ValueError("at_risk must not be above healthy")
        return self


class Trend(_Strict):
    """Points of change over 30 days that count as improving or declining."""

    improving: int = Field(default=5, gt=0)
    declining: int = Field(default=5, gt=0)


class UsageEvents(_Strict):
    """Usage events that count as use of the product (globs: * and ?)."""

    events: list[str] | None = Field(default=None, min_length=1)
    exclude: list[str] = []


class Scorecard(_Strict):
    name: str
    description: str | None = None
    weights: dict[Component, float]
    components: dict[Component, ComponentSpec]
    multipliers: Multipliers = Multipliers()
    status: Status = Status()
    trend: Trend = Trend()
    # A score falling below one of these writes a health.below_threshold
    # event (the automation rules act on it), whatever its status does.
    below_thresholds: list[int] = Field(default=[50], max_length=10)
    # The product's features, for feature breadth; without it, every event
    # name seen across the book in the window counts as a feature.
    features: list[str] | None = None
    # Which usage events count for the usage measures that do not say.
    usage: UsageEvents = UsageEvents()
    # A customer younger than this (days) is onboarding, not judged.
    min_tenure_days: int = Field(default=30, ge=0, le=3650)
    # The share of the weights of components with data (size alone is no
    # data) a score needs to be judged; below it, "insufficient data".
    min_coverage: float = Field(default=0.25, ge=0, le=1)

    @cached_property
    def band_tables(self) -> dict[str, tuple[list[float], list[int], float | None]]:
        """Per measure: the bands' lower bounds (the first unbounded), their
        scores, and the last band's upper bound; for a bisect, not a scan."""
        tables = {}
        for spec in self.components.values():
            for name, measure in spec.measures.items():
                if measure.bands is None:
                    continue
                lowers = [float("-inf") if b.lower is None else b.lower for b in measure.bands]
                tables[name] = (lowers, [b.score for b in measure.bands], measure.bands[-1].upper)
        return tables

    @field_validator("below_thresholds")
    @classmethod
    def _thresholds(cls, thresholds: list[int]) -> list[int]:
        if any(not 0 < t <= 100 for t in thresholds):
            raise ValueError("thresholds must be between 1 and 100")
        if len(set(thresholds)) != len(thresholds):
            raise ValueError("thresholds must not repeat")
        return sorted(thresholds, reverse=True)

    @field_validator("weights")
    @classmethod
    def _weights(cls, weights: dict[Component, float]) -> dict[Component, float]:
        if any(w < 0 for w in weights.values()):
            raise ValueError("weights must not be negative")
        total = sum(weights.values())
        if abs(total - 100) > 1e-9:
            raise ValueError(f"weights must sum to 100, not {total:g}")
        return weights

    @model_validator(mode="after")
    def _measures(self) -> Scorecard:
        for component, spec in self.components.items():
            for name, measure in spec.measures.items():
                check_measure(component, name, measure)
        names = [name for spec in self.components.values() for name in spec.measures]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"components: the measure '{twice[0]}' is under two components")
        for component, weight in self.weights.items():
            if weight > 0 and component not in self.components:
                raise ValueError(f"weights.{component}: has weight but no measures under components")
        return self

    def measure(self, name: str) -> Measure:
        return next(spec.measures[name] for spec in self.components.values() if name in spec.measures)

    def component_of(self, name: str) -> Component:
        return next(c for c, spec in self.components.items() if name in spec.measures)


class LoadedScorecard(BaseModel):
    """A scorecard with its version: a hash of the file's content."""

    model_config = ConfigDict(frozen=True)

    card: Scorecard
    version: str
    path: str
    text: str


SHIPPED = "shipped"  # in an assignment file: the scorecard that ships with cs
DEFAULT_PATH = Path(__file__).resolve().parent.parent / "scorecards" / "default.yaml"


def load_scorecard(path: Path | None = None) -> LoadedScorecard:
    """Read and check a scorecard file (the shipped default when None)."""
    from cs_cli.specs.loader import load_model

    path = path or DEFAULT_PATH
    card, text = load_model(path, Scorecard)
    return LoadedScorecard(card=card, version=scorecard_version(text), path=str(path), text=text)


def scorecard_version(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def scorecard_from_text(text: str) -> Scorecard:
    """A scorecard kept in the database (by version), parsed again."""
    from cs_cli.specs.documents import load_yaml_text

    return Scorecard.model_validate(load_yaml_text(text, "(stored scorecard)")[0])


# -- several scorecards, assigned to customers by rule


class ScorecardRule(BaseModel):
    """Customers matching `when` (the segment rule language) are scored with
    `scorecard`."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    scorecard: str = Field(min_length=1)
    when: dict[str, Any]


class ScorecardAssignment(BaseModel):
    """Which scorecard scores which customers: the first rule that matches
    wins; the default scores the rest."""

    model_config = ConfigDict(extra="forbid")

    default: str = SHIPPED
    assign: list[ScorecardRule] = Field(min_length=1)


@dataclass(frozen=True)
class AssignedScorecard:
    name: str
    when: dict[str, Any]
    node: Any  # the parsed rule (cs_cli.rules.Node)
    scorecard: LoadedScorecard


@dataclass(frozen=True)
class ScorecardPlan:
    """The scorecards of one recalculation: rules in order, then the default."""

    default: LoadedScorecard
    assigned: list[AssignedScorecard] = dc_field(default_factory=list)


def load_scorecards(path: Path | None = None) -> ScorecardPlan:
    """Read a scorecard file, or an assignment file (a file with `assign:`)
    naming several scorecards by rule; paths in it are relative to it."""
    from cs_cli.errors import FileError
    from cs_cli.rules import RuleError, parse
    from cs_cli.specs.loader import line_of, load_model, load_yaml

    if path is None:
        return ScorecardPlan(load_scorecard())
    data, root = load_yaml(path)
    if not (isinstance(data, dict) and "assign" in data):
        return ScorecardPlan(load_scorecard(path))
    spec, _ = load_model(path, ScorecardAssignment)

    def card(name: str, where: tuple) -> LoadedScorecard:
        if name == SHIPPED:
            return load_scorecard()
        target = (path.parent / name).resolve()
        if not target.is_file():
            keys = ".".join(str(p) for p in where)
            raise FileError(str(path), line_of(root, where), None, f"{keys}: no scorecard file '{name}'")
        return load_scorecard(target)

    assigned = []
    names = set()
    for i, rule in enumerate(spec.assign):
        if rule.name in names:
            raise FileError(
                str(path), line_of(root, ("assign", i, "name")), None, f"assign.{i}.name: '{rule.name}' twice"
            )
        names.add(rule.name)
        try:
            node = parse(rule.when)
        except RuleError as exc:
            where = ("assign", i, "when", *exc.path)
            keys = ".".join(str(p) for p in where)
            raise FileError(str(path), line_of(root, where), None, f"{keys}: {exc.reason}") from None
        assigned.append(
            AssignedScorecard(rule.name, rule.when, node, card(rule.scorecard, ("assign", i, "scorecard")))
        )
    return ScorecardPlan(card(spec.default, ("default",)), assigned)
