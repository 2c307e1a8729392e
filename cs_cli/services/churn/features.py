"""What a churn model reads about a customer on a day: the features, their
words and groups, and how a day's values (snapshot.py computes them, as of
the end of the day and nothing later) become the model's input.

A feature set (`FeatureSet`) is fixed when a model is trained (which event
names, which attributes, which categorical values) and stored with it, so
a prediction computes exactly the columns the model learned from.

Numbers are float64 columns with NaN for "no data"; categorical features
are integer codes of the set's vocabulary (NaN: missing or unseen).
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.errors import BadInput
from cs_cli.services.health.usage import UsageRange
from cs_cli.services.health.writes import COMPONENT_COLUMNS

# How far back the features look; the usage read for a day covers this.
LOOK_BACK_DAYS = 90
# Event names and categorical values kept: the most widespread ones.
TOP_EVENT_NAMES = 12
TOP_VALUES = 30
MIN_VALUE_ROWS = 10
HEALTH_CHANGES = (30, 60, 90)

# The fixed features: name, words for an explanation, and whether it is a
# count (skewed: the model reads log(1 + x)).
FIXED: dict[str, tuple[str, bool]] = {
    "tenure_days": ("days as a customer", True),
    "days_to_renewal": ("days to renewal", False),
    "arr": ("ARR", True),
    "seats": ("seats", True),
    "arr_change_90d": ("ARR change over 90 days (share)", False),
    "seats_change_90d": ("seats change over 90 days", False),
    "plan_changed_90d": ("plan changed in the last 90 days", False),
    "events_7d": ("usage events in the last 7 days", True),
    "events_28d": ("usage events in the last 28 days", True),
    "events_90d": ("usage events in the last 90 days", True),
    "events_trend": ("usage trend (last 28 days against the 28 before, log ratio)", False),
    "active_days_28d": ("active days in the last 28 days", False),
    "users_28d": ("active users in the last 28 days", True),
    "users_per_seat": ("active users per seat (28 days)", False),
    "days_since_event": ("days since the last usage event", True),
    "tickets_90d": ("support tickets opened in 90 days", True),
    "open_tickets": ("open support tickets", True),
    "escalations_90d": ("escalated tickets in 90 days", True),
    "csat_90d": ("average CSAT in 90 days", False),
    "ticket_sentiment_90d": ("sentiment of tickets opened in 90 days", False),
    "nps_last": ("last NPS response", False),
    "nps_change": ("NPS change since the response before", False),
    "days_since_nps": ("days since the last NPS response", True),
    "touchpoints_90d": ("calls and meetings in 90 days", True),
    "sentiment_90d": ("touchpoint sentiment in 90 days", False),
    "sentiment_trend": ("touchpoint sentiment in 30 days against the 60 before", False),
    "days_since_touchpoint": ("days since the last touchpoint", True),
    "champion": ("a champion in place", False),
    "exec_sponsor": ("an executive sponsor in place", False),
    "champion_left_90d": ("champions who left in 90 days", False),
    "sponsor_left_90d": ("executive sponsors who left in 90 days", False),
    "late_invoices_180d": ("late invoices in 180 days", True),
    "overdue_invoices": ("invoices overdue now", True),
    "health_score": ("health score", False),
    **{f"health_{name}": (f"{name.replace('_', ' ')} score", False) for name in COMPONENT_COLUMNS},
    **{f"health_change_{days}d": (f"health score change over {days} days", False) for days in HEALTH_CHANGES},
}
CATEGORICAL_FACTS = ("plan", "industry", "region")

# Features that move together are explained together: setting usage in 28
# days to its usual value while usage in 7 and 90 days stay at zero asks
# the model about a customer that cannot exist. Each group: its words and
# the feature shown for it.
GROUPS: dict[str, tuple[str, str]] = {
    "usage": ("usage (events in 28 days)", "events_28d"),
    "health": ("health score", "health_score"),
    "support": ("support (tickets in 90 days)", "tickets_90d"),
    "nps": ("NPS (last response)", "nps_last"),
    "relationship": ("relationship (calls, meetings in 90 days)", "touchpoints_90d"),
    "billing": ("late invoices (180 days)", "late_invoices_180d"),
    "renewal": ("days to renewal", "days_to_renewal"),
    "tenure": ("days as a customer", "tenure_days"),
    "size": ("ARR (and seats)", "arr"),
}
_GROUP_OF = {
    **dict.fromkeys(
        (
            "events_7d",
            "events_28d",
            "events_90d",
            "events_trend",
            "active_days_28d",
            "users_28d",
            "users_per_seat",
            "days_since_event",
        ),
        "usage",
    ),
    **dict.fromkeys(
        ("tickets_90d", "open_tickets", "escalations_90d", "csat_90d", "ticket_sentiment_90d"), "support"
    ),
    **dict.fromkeys(("nps_last", "nps_change", "days_since_nps"), "nps"),
    **dict.fromkeys(
        (
            "touchpoints_90d",
            "sentiment_90d",
            "sentiment_trend",
            "days_since_touchpoint",
            "champion",
            "exec_sponsor",
            "champion_left_90d",
            "sponsor_left_90d",
        ),
        "relationship",
    ),
    **dict.fromkeys(("late_invoices_180d", "overdue_invoices"), "billing"),
    "days_to_renewal": "renewal",
    "tenure_days": "tenure",
    **dict.fromkeys(("arr", "seats", "arr_change_90d", "seats_change_90d", "plan_changed_90d"), "size"),
}


def group_of(name: str) -> str:
    """The explanation group of a feature (an attribute or a fact is its own)."""
    if name.startswith(("events_28d:", "trend:")):
        return "usage"
    if name.startswith("health_"):
        return "health"
    return _GROUP_OF.get(name, name)


@dataclass(frozen=True)
class FeatureSet:
    """The columns a model reads, fixed at training: `numeric` then
    `categorical` names; `vocabulary` the known values of each categorical
    (its code is the position); `counts` the numeric columns read as
    log(1 + x); `history` False for a book with no dated history (the
    model reads facts and attributes only)."""

    numeric: list[str]
    categorical: list[str]
    vocabulary: dict[str, list[str]]
    event_names: list[str]
    numeric_attributes: list[str]
    counts: list[str]
    history: bool = True

    @property
    def names(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    def to_json(self) -> dict:
        return {
            "numeric": self.numeric,
            "categorical": self.categorical,
            "vocabulary": self.vocabulary,
            "event_names": self.event_names,
            "numeric_attributes": self.numeric_attributes,
            "counts": self.counts,
            "history": self.history,
        }

    @classmethod
    def from_json(cls, data: dict) -> FeatureSet:
        return cls(**data)

    def describe(self, name: str) -> str:
        """The feature in words."""
        if name in FIXED:
            return FIXED[name][0]
        kind, _, rest = name.partition(":")
        return {
            "events_28d": f"'{rest}' events in the last 28 days",
            "trend": f"'{rest}' trend (28 days against the 28 before)",
            "attr": rest,
            "fact": rest,
        }.get(kind, name)


@dataclass
class Frame:
    """Observations: one row per (customer, snapshot day)."""

    customer: np.ndarray
    day: np.ndarray  # index into the snapshot days
    numeric: np.ndarray  # rows x numeric, float64, NaN missing
    categorical: list[list[str | None]]  # per categorical column, raw values
    churned: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __len__(self) -> int:
        return len(self.customer)


@dataclass
class DayColumns:
    """One day's features of each customer before they are fixed to a
    feature set: numbers by name, categorical facts, attributes."""

    customer: np.ndarray
    churned: np.ndarray
    columns: dict[str, np.ndarray]
    facts: list[list[str | None]]  # per CATEGORICAL_FACTS
    attributes: list[dict]


def encode(features: FeatureSet, frame: Frame) -> np.ndarray:
    """The model's input: numeric columns (counts as log(1 + x)) then the
    categorical codes of the vocabulary (NaN when missing or unseen)."""
    numeric = frame.numeric.copy()
    for i, name in enumerate(features.numeric):
        if name in features.counts:
            col = numeric[:, i]
            numeric[:, i] = np.sign(col) * np.log1p(np.abs(col))
    codes = np.full((len(frame), len(features.categorical)), np.nan)
    for j, name in enumerate(features.categorical):
        index = {value: k for k, value in enumerate(features.vocabulary[name])}
        other = index.get("(other)")
        values = frame.categorical[j]
        codes[:, j] = [
            np.nan if v is None else index.get(v, other if other is not None else np.nan) for v in values
        ]
    return np.hstack([numeric, codes]) if len(features.categorical) else numeric


# --- deciding the feature set ------------------------------------------------


def choose(
    session: Session,
    usage: UsageRange | None,
    raw: Sequence[DayColumns],
    *,
    history: bool,
    event_names: Sequence[str] | None = None,
) -> FeatureSet:
    """The feature set of a training run from its observations' attributes
    (`raw`: per day, the frame of fixed features and each row's attributes)
    and the event names in use. Attributes that are numbers in some rows and
    text in others are refused (BadInput), naming the attribute."""
    kinds: dict[str, set[str]] = {}
    values: dict[str, Counter] = {}
    for day in raw:
        for attrs in day.attributes:
            for key, value in (attrs or {}).items():
                if value is None or value == "":
                    continue
                if isinstance(value, bool | str):
                    kind = "text"
                    values.setdefault(key, Counter())[str(value)] += 1
                elif isinstance(value, int | float):
                    kind = "number"
                else:
                    continue  # lists and objects: not a feature
                kinds.setdefault(key, set()).add(kind)
    mixed = sorted(k for k, v in kinds.items() if len(v) > 1)
    if mixed:
        raise BadInput(
            f"attribute {mixed[0]!r} is a number in some customers and text in others; "
            "make it one or the other (or leave it out of the import) before training"
        )
    numeric_attributes = sorted(k for k, v in kinds.items() if v == {"number"})
    text_attributes = sorted(k for k, v in kinds.items() if v == {"text"})
    if event_names is None:
        event_names = top_event_names(session, usage) if usage is not None and history else []
    event_names = list(event_names)
    numeric = list(FIXED) if history else [n for n in FIXED if n in FACT_FEATURES]
    numeric += [f"events_28d:{n}" for n in event_names] + [f"trend:{n}" for n in event_names]
    numeric += [f"attr:{k}" for k in numeric_attributes]
    categorical = [f"fact:{n}" for n in CATEGORICAL_FACTS] + [f"attr:{k}" for k in text_attributes]
    counts = [n for n in numeric if (n in FIXED and FIXED[n][1]) or n.startswith("events_28d:")]
    vocabulary: dict[str, list[str]] = {}
    for name in categorical:
        counter: Counter = Counter()
        if name.startswith("fact:"):
            column = CATEGORICAL_FACTS.index(name[5:])
            for day in raw:
                counter.update(v for v in day.facts[column] if v is not None)
        else:
            counter = values.get(name[5:], Counter())
        kept = [v for v, n in counter.most_common(TOP_VALUES) if n >= MIN_VALUE_ROWS]
        vocabulary[name] = [*kept, "(other)"] if len(kept) < len(counter) else kept
    # A categorical with no value seen often enough says nothing.
    categorical = [n for n in categorical if vocabulary[n]]
    vocabulary = {n: vocabulary[n] for n in categorical}
    return FeatureSet(numeric, categorical, vocabulary, event_names, numeric_attributes, counts, history)


# Features a book with no dated history still has (its customers' facts).
FACT_FEATURES = ("tenure_days", "days_to_renewal", "arr", "seats")


def top_event_names(session: Session, usage: UsageRange) -> list[str]:
    g = usage.grains.c
    rows = session.execute(
        sa.select(g.event_name, sa.func.count(sa.distinct(g.customer_id)).label("n"))
        .group_by(g.event_name)
        .order_by(sa.desc("n"), g.event_name)
        .limit(TOP_EVENT_NAMES)
    ).all()
    return [name for name, _ in rows]


def assemble(features: FeatureSet, day: DayColumns, index: int) -> Frame:
    """The day's observations in the feature set's columns, marked as
    snapshot `index`."""
    got, attributes = day.columns, day.attributes
    rows = len(day.customer)
    numeric = np.empty((rows, len(features.numeric)))
    for j, name in enumerate(features.numeric):
        if name in got:
            numeric[:, j] = got[name]
        elif name.startswith("attr:"):
            numeric[:, j] = [number_of(a.get(name[5:])) for a in attributes]
        else:
            numeric[:, j] = np.nan
    categorical = []
    for name in features.categorical:
        if name.startswith("fact:"):
            categorical.append(day.facts[CATEGORICAL_FACTS.index(name[5:])])
        else:
            categorical.append([text_of(a.get(name[5:])) for a in attributes])
    return Frame(day.customer, np.full(rows, index, dtype=np.int64), numeric, categorical, day.churned)


def without_empty(features: FeatureSet, frame: Frame) -> tuple[FeatureSet, Frame]:
    """The feature set and frame without the numeric columns no observation
    has: nothing to learn from them (and boosting cannot bin them)."""
    keep = [j for j in range(len(features.numeric)) if not np.isnan(frame.numeric[:, j]).all()]
    if len(keep) == len(features.numeric):
        return features, frame
    numeric = [features.numeric[j] for j in keep]
    kept = dataclasses.replace(
        features,
        numeric=numeric,
        counts=[n for n in features.counts if n in numeric],
        numeric_attributes=[k for k in features.numeric_attributes if f"attr:{k}" in numeric],
    )
    return kept, Frame(frame.customer, frame.day, frame.numeric[:, keep], frame.categorical, frame.churned)


def take(frame: Frame, rows: np.ndarray) -> Frame:
    """The observations `rows` (a boolean mask or indexes) of a frame."""
    rows = np.flatnonzero(rows) if rows.dtype == bool else rows
    return Frame(
        frame.customer[rows],
        frame.day[rows],
        frame.numeric[rows],
        [[column[i] for i in rows.tolist()] for column in frame.categorical],
        frame.churned[rows],
    )


def concat(frames: Sequence[Frame]) -> Frame:
    if not frames:
        return Frame(
            np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros((0, 0)), [], np.zeros(0)
        )
    width = len(frames[0].categorical)
    return Frame(
        np.concatenate([f.customer for f in frames]),
        np.concatenate([f.day for f in frames]),
        np.vstack([f.numeric for f in frames]),
        [[v for f in frames for v in f.categorical[j]] for j in range(width)],
        np.concatenate([f.churned for f in frames]),
    )


def number_of(value) -> float:
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    value = float(value)
    return value if math.isfinite(value) else math.nan


def text_of(value) -> str | None:
    if value is None or value == "" or isinstance(value, dict | list):
        return None
    return str(value)
