"""What a churn model reads about a customer on a day, computed as of the end
of that day and nothing later (the point-in-time reads of services/facts.py
and the health history): one set-based statement per day for the whole book.

A feature set (`FeatureSet`) is fixed when a model is trained (which event
names, which attributes, which categorical values) and stored with it, so
a prediction computes exactly the columns the model learned from.

Numbers are float64 columns with NaN for "no data"; categorical features
are integer codes of the set's vocabulary (NaN: missing or unseen).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.models import Contact, Customer, Invoice, NpsResponse, SupportTicket, Touchpoint
from cs_cli.domain import Actor
from cs_cli.errors import BadInput
from cs_cli.services.access import customer_scope
from cs_cli.services.facts import day_end, facts_as_of
from cs_cli.services.health.history import day_health
from cs_cli.services.health.measures import HUMAN_TOUCHPOINTS
from cs_cli.services.health.recalc import COMPONENT_COLUMNS
from cs_cli.services.health.usage import UsageRange, usage_day
from cs_cli.specs.scorecard import LoadedScorecard

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
    "nps_last": ("last NPS response", False),
    "nps_change": ("NPS change since the response before", False),
    "days_since_nps": ("days since the last NPS response", True),
    "touchpoints_90d": ("calls and meetings in 90 days", True),
    "sentiment_90d": ("touchpoint sentiment in 90 days", False),
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
    **dict.fromkeys(("tickets_90d", "open_tickets", "escalations_90d", "csat_90d"), "support"),
    **dict.fromkeys(("nps_last", "nps_change", "days_since_nps"), "nps"),
    **dict.fromkeys(
        (
            "touchpoints_90d",
            "sentiment_90d",
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


# --- computing them ----------------------------------------------------------


def day_frame(
    session: Session,
    actor: Actor,
    day: dt.date,
    *,
    scorecard: LoadedScorecard | None,
    usage: UsageRange | None,
    event_names: Sequence[str],
    health: Callable[[dt.date], dict[int, tuple]] | None = None,
    customers: Sequence[int] | None = None,
    include_churned: bool = False,
) -> DayColumns:
    """The fixed features (and event-name features) of every customer the
    actor may see that is a customer on `day` and has not churned by then
    (or only of `customers`; `include_churned`: churned ones too, for a
    book with no history), and each one's attributes as of the day."""
    end = day_end(day)
    f = facts_as_of(session, day)
    before = facts_as_of(session, day - dt.timedelta(days=LOOK_BACK_DAYS)).alias("before")
    c = Customer.__table__
    only = [] if customers is None else [c.c.id.in_(list(customers))]

    def since(days: int) -> dt.datetime:
        return end - dt.timedelta(days=days)

    def mine(column) -> list:
        return [] if customers is None else [column.in_(list(customers))]

    subs: dict[str, sa.Subquery] = {}
    columns: dict[str, sa.ColumnElement] = {}
    if usage is not None:
        g = usage.grains.c

        def on(first: dt.date, last: dt.date = day) -> sa.ColumnElement[bool]:
            return sa.and_(g.day >= usage_day(session, first), g.day <= usage_day(session, last))

        def back(days: int) -> dt.date:
            return day - dt.timedelta(days=days - 1)

        per_name = []
        for i, name in enumerate(event_names):
            per_name += [
                sa.func.sum(g.events).filter(g.event_name == name, on(back(28))).label(f"n{i}"),
                sa.func.sum(g.events).filter(g.event_name == name, on(back(56), back(29))).label(f"p{i}"),
            ]
        u = (
            sa.select(
                g.customer_id.label("customer_id"),
                sa.func.sum(g.events).filter(on(back(7))).label("e7"),
                sa.func.sum(g.events).filter(on(back(28))).label("e28"),
                sa.func.sum(g.events).filter(on(back(56), back(29))).label("p28"),
                sa.func.sum(g.events).label("e90"),
                sa.func.count(sa.distinct(g.day)).filter(on(back(28))).label("days28"),
                sa.func.count(sa.distinct(g.contact_id)).filter(on(back(28))).label("users28"),
                sa.func.max(g.last).label("last"),
                *per_name,
            )
            .where(on(back(LOOK_BACK_DAYS)), *mine(g.customer_id))
            .group_by(g.customer_id)
            .subquery("u")
        )
        subs["u"] = u
        ever = usage.firsts.c
        has_used = sa.and_(ever.first_at.is_not(None), ever.first_at < end)
        subs["ever"] = usage.firsts  # type: ignore[assignment]

        def zero(col):
            return sa.case((has_used, sa.func.coalesce(col, 0)))

        columns |= {
            "events_7d": zero(u.c.e7),
            "events_28d": zero(u.c.e28),
            "events_90d": zero(u.c.e90),
            "active_days_28d": zero(u.c.days28),
            "users_28d": zero(u.c.users28),
            "users_per_seat": sa.case(
                (sa.and_(has_used, f.c.seats > 0), sa.func.coalesce(u.c.users28, 0) * 1.0 / f.c.seats)
            ),
            # No event in the look-back: as many days as it covers, plus one.
            "days_since_event": sa.case(
                (u.c.last.is_not(None), dialect.whole_days_since(session, end, u.c.last)),
                (has_used, LOOK_BACK_DAYS + 1),
            ),
        }
        for i, _ in enumerate(event_names):
            columns[f"_n{i}"] = zero(u.c[f"n{i}"])
            columns[f"_p{i}"] = zero(u.c[f"p{i}"])
        columns["_e28"] = zero(u.c.e28)
        columns["_p28"] = zero(u.c.p28)

    t = SupportTicket
    escalated = sa.and_(t.escalated, sa.or_(t.escalated_at.is_(None), t.escalated_at < end))
    escalated_recently = sa.and_(
        escalated, sa.func.coalesce(t.escalated_at, t.opened_at) >= since(LOOK_BACK_DAYS)
    )
    subs["support"] = support = (
        sa.select(
            t.customer_id.label("customer_id"),
            sa.func.count().filter(t.opened_at >= since(LOOK_BACK_DAYS)).label("opened"),
            sa.func.count().filter(sa.or_(t.closed_at.is_(None), t.closed_at >= end)).label("open"),
            sa.func.count().filter(escalated_recently).label("escalated"),
            sa.func.avg(t.satisfaction)
            .filter(t.closed_at >= since(LOOK_BACK_DAYS), t.closed_at < end)
            .label("csat"),
        )
        .where(t.opened_at < end, *mine(t.customer_id))
        .group_by(t.customer_id)
        .subquery("support")
    )
    n = NpsResponse
    ranked = (
        sa.select(
            n.customer_id,
            n.score,
            n.responded_at,
            sa.func.row_number()
            .over(partition_by=n.customer_id, order_by=(n.responded_at.desc(), n.id.desc()))
            .label("k"),
        )
        .where(n.responded_at < end, *mine(n.customer_id))
        .subquery("ranked")
    )
    subs["nps"] = nps = (
        sa.select(
            ranked.c.customer_id.label("customer_id"),
            sa.func.max(sa.case((ranked.c.k == 1, ranked.c.score))).label("last"),
            sa.func.max(sa.case((ranked.c.k == 2, ranked.c.score))).label("previous"),
            sa.func.max(sa.case((ranked.c.k == 1, ranked.c.responded_at))).label("at"),
        )
        .where(ranked.c.k <= 2)
        .group_by(ranked.c.customer_id)
        .subquery("nps")
    )
    tp = Touchpoint
    recent = tp.occurred_at >= since(LOOK_BACK_DAYS)
    subs["touch"] = touch = (
        sa.select(
            tp.customer_id.label("customer_id"),
            sa.func.count().filter(recent, tp.touchpoint_type.in_(HUMAN_TOUCHPOINTS)).label("human"),
            sa.func.avg(tp.sentiment_score).filter(recent).label("sentiment"),
            sa.func.max(tp.occurred_at).label("last"),
        )
        .where(tp.occurred_at < end, *mine(tp.customer_id))
        .group_by(tp.customer_id)
        .subquery("touch")
    )
    k = Contact
    present = sa.or_(k.left_at.is_(None), k.left_at >= end)
    left = sa.and_(k.left_at >= since(LOOK_BACK_DAYS), k.left_at < end)
    subs["people"] = people = (
        sa.select(
            k.customer_id.label("customer_id"),
            sa.func.max(sa.case((sa.and_(k.is_champion, present), 1), else_=0)).label("champion"),
            sa.func.max(sa.case((sa.and_(k.is_exec_sponsor, present), 1), else_=0)).label("sponsor"),
            sa.func.sum(sa.case((sa.and_(k.is_champion, left), 1), else_=0)).label("champion_left"),
            sa.func.sum(sa.case((sa.and_(k.is_exec_sponsor, left), 1), else_=0)).label("sponsor_left"),
        )
        .where(*mine(k.customer_id))
        .group_by(k.customer_id)
        .subquery("people")
    )
    i = Invoice
    late_from = day - dt.timedelta(days=180)
    is_late = sa.or_(sa.and_(i.paid_on.is_not(None), i.paid_on > i.due_on), sa.and_(i.paid_on.is_(None)))
    overdue = sa.and_(i.due_on < day, sa.or_(i.paid_on.is_(None), i.paid_on > day))
    subs["billing"] = billing = (
        sa.select(
            i.customer_id.label("customer_id"),
            sa.func.count()
            .filter(
                i.due_on > late_from, i.due_on < day, sa.or_(i.paid_on.is_(None), i.paid_on <= day), is_late
            )
            .label("late"),
            sa.func.count().filter(overdue).label("overdue"),
        )
        .where(i.issued_on <= day, *mine(i.customer_id))
        .group_by(i.customer_id)
        .subquery("billing")
    )

    def days_since(col) -> sa.ColumnElement:
        return dialect.whole_days_since(session, end, col)

    columns |= {
        "tenure_days": f.c.tenure_days,
        "days_to_renewal": dialect.days_until(session, f.c.renewal_date, day),
        "arr": sa.cast(f.c.arr, sa.Float),
        "seats": f.c.seats,
        "arr_change_90d": sa.case(
            (before.c.arr > 0, sa.cast(f.c.arr - before.c.arr, sa.Float) / sa.cast(before.c.arr, sa.Float))
        ),
        "seats_change_90d": sa.case((before.c.is_customer, f.c.seats - before.c.seats)),
        "plan_changed_90d": sa.case(
            (before.c.is_customer, sa.case((f.c.plan.is_distinct_from(before.c.plan), 1), else_=0))
        ),
        "tickets_90d": sa.func.coalesce(support.c.opened, 0),
        "open_tickets": sa.func.coalesce(support.c.open, 0),
        "escalations_90d": sa.func.coalesce(support.c.escalated, 0),
        "csat_90d": sa.cast(support.c.csat, sa.Float),
        "nps_last": nps.c.last,
        "nps_change": nps.c.last - nps.c.previous,
        "days_since_nps": days_since(nps.c.at),
        "touchpoints_90d": sa.func.coalesce(touch.c.human, 0),
        "sentiment_90d": sa.cast(touch.c.sentiment, sa.Float),
        "days_since_touchpoint": days_since(touch.c.last),
        "champion": sa.func.coalesce(people.c.champion, 0),
        "exec_sponsor": sa.func.coalesce(people.c.sponsor, 0),
        "champion_left_90d": sa.func.coalesce(people.c.champion_left, 0),
        "sponsor_left_90d": sa.func.coalesce(people.c.sponsor_left, 0),
        "late_invoices_180d": sa.func.coalesce(billing.c.late, 0),
        "overdue_invoices": sa.func.coalesce(billing.c.overdue, 0),
    }
    source = c.join(f, f.c.customer_id == c.c.id).outerjoin(before, before.c.customer_id == c.c.id)
    for sub in subs.values():
        source = source.outerjoin(sub, sub.c.customer_id == c.c.id)
    alive = [f.c.is_customer] if include_churned else [f.c.is_customer, sa.not_(f.c.churned)]
    names = list(columns)
    select = (
        sa.select(
            c.c.id,
            f.c.churned,
            *(columns[name].label(f"x{j}") for j, name in enumerate(names)),
            *(f.c[name] for name in CATEGORICAL_FACTS),
            f.c.attributes,
        )
        .select_from(source)
        .where(customer_scope(actor), *alive, *only)
        .order_by(c.c.id)
    )
    rows = session.execute(select).all()
    width = len(names)
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    churned = np.fromiter((bool(r[1]) for r in rows), dtype=float, count=len(rows))
    values = np.array([r[2 : 2 + width] for r in rows], dtype=float).reshape(len(rows), width)
    got = {name: values[:, j] for j, name in enumerate(names)}
    if usage is not None:
        got["events_trend"] = np.where(
            np.isnan(got["_e28"]), np.nan, np.log((got["_e28"] + 1.0) / (got["_p28"] + 1.0))
        )
        for i, name in enumerate(event_names):
            got[f"events_28d:{name}"] = got[f"_n{i}"]
            got[f"trend:{name}"] = np.where(
                np.isnan(got[f"_n{i}"]), np.nan, np.log((got[f"_n{i}"] + 1.0) / (got[f"_p{i}"] + 1.0))
            )
    else:
        for name in FIXED:
            if name.startswith(("events_", "active_days", "users_", "days_since_event")):
                got[name] = np.full(len(rows), np.nan)
    for name in FIXED:
        if name.startswith("health_"):
            got[name] = np.full(len(rows), np.nan)
    if health is not None and scorecard is not None:
        _add_health(got, ids, day, health)
    attributes = [r[-1] if isinstance(r[-1], dict) else {} for r in rows]
    facts = [[_text(r[2 + width + j]) for r in rows] for j in range(len(CATEGORICAL_FACTS))]
    return DayColumns(ids, churned, got, facts, attributes)


def _add_health(got: dict[str, np.ndarray], ids: np.ndarray, day: dt.date, health) -> None:
    now = health(day)
    components = list(COMPONENT_COLUMNS)
    got["health_score"] = np.array([now.get(i, (np.nan,))[0] for i in ids.tolist()], dtype=float)
    for j, name in enumerate(components, start=1):
        got[f"health_{name}"] = np.array(
            [_float(now.get(i, (None,) * (len(components) + 1))[j]) for i in ids.tolist()], dtype=float
        )
    for days in HEALTH_CHANGES:
        then = health(day - dt.timedelta(days=days))
        got[f"health_change_{days}d"] = np.array(
            [now[i][0] - then[i][0] if i in now and i in then else np.nan for i in ids.tolist()],
            dtype=float,
        )


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
            numeric[:, j] = [_number(a.get(name[5:])) for a in attributes]
        else:
            numeric[:, j] = np.nan
    categorical = []
    for name in features.categorical:
        if name.startswith("fact:"):
            categorical.append(day.facts[CATEGORICAL_FACTS.index(name[5:])])
        else:
            categorical.append([_text(a.get(name[5:])) for a in attributes])
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


def _number(value) -> float:
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    value = float(value)
    return value if math.isfinite(value) else math.nan


def _float(value) -> float:
    return math.nan if value is None else float(value)


def _text(value) -> str | None:
    if value is None or value == "" or isinstance(value, dict | list):
        return None
    return str(value)


def health_reader(
    session: Session,
    actor: Actor,
    scorecard: LoadedScorecard,
    usage: UsageRange | None,
    customers: list[int] | None = None,
) -> Callable[[dt.date], dict[int, tuple]]:
    """Each day's health (overall score, then the component scores) by
    customer, from stored history where it is point in time and of this
    scorecard, else scored afresh; each day read once."""
    cache: dict[dt.date, dict[int, tuple]] = {}

    def read(day: dt.date) -> dict[int, tuple]:
        if day not in cache:
            cache[day] = day_health(session, actor, scorecard, day, usage, customers)
        return cache[day]

    return read
