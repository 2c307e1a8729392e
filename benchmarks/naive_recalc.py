"""For comparison only: health scoring the straightforward way, one customer
at a time with the ORM. `benchmarks/recalc.py` times it against `cs recalc`
(the set-based way) on the same book, and tests/unit/test_naive_recalc.py
checks that both give every customer the same score.

It is what one writes first without thinking in sets: load each customer,
ask the database for that customer's usage, touchpoints, contacts, NPS
responses, invoices and tickets (index lookups of one customer, only the
windows the scorecard looks at), work out every measure of the scorecard in
Python, band, weigh and multiply them, and write the history row, the
current score and a status-drop event with the ORM. Nothing is made slow on
purpose: about a dozen short queries per customer, each on an index, and the
writes flushed as the session goes.

The formulas are those of docs/health.md, written again here from the
documentation, not borrowed from cs_cli/services/health, so that the test
comparing the two can catch a mistake in either.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import (
    Contact,
    Customer,
    CustomerHistory,
    DomainEvent,
    HealthScore,
    HealthScoreHistory,
    Invoice,
    NpsResponse,
    ScorecardVersion,
    SupportTicket,
    Touchpoint,
    UsageEvent,
)
from cs_cli.domain import CustomerStatus, HealthStatus, ScoreTrend, TouchpointType
from cs_cli.specs.scorecard import (
    SIZE_MEASURES,
    USAGE_MEASURES,
    EventCount,
    LoadedScorecard,
    Measure,
    MeasureKind,
    Scorecard,
)

HUMAN = {TouchpointType.CALL, TouchpointType.MEETING, TouchpointType.QBR, TouchpointType.RENEWAL_DISCUSSION}
ENGAGED = {TouchpointType.EMAIL_OPENED, TouchpointType.EMAIL_CLICKED}
RANK = {HealthStatus.HEALTHY: 3, HealthStatus.AT_RISK: 2, HealthStatus.CRITICAL: 1}
COLUMNS = {
    "adoption": "product_adoption_score",
    "engagement": "engagement_score",
    "relationship": "relationship_score",
    "financial": "financial_score",
    "support": "support_score",
}
DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Result:
    """One customer's score, as written."""

    overall: int
    status: HealthStatus
    components: dict[str, int | None]


def window_days(card: Scorecard, name: str) -> int:
    for spec in card.components.values():
        if name in spec.measures and spec.measures[name].window_days:
            return spec.measures[name].window_days or 30
    return 30


@dataclass(frozen=True)
class Facts:
    """A customer's facts on the day (docs/health.md, "Point in time")."""

    arr: Any
    seats: int | None
    renewal_date: dt.date | None
    attributes: dict[str, Any]
    is_customer: bool
    churned: bool
    started_on: dt.date | None

    def tenure(self, as_of: dt.date) -> int | None:
        return (as_of - self.started_on).days + 1 if self.started_on else None


def facts(session: Session, customer: Customer, as_of: dt.date) -> Facts:
    """The version of the customer's facts in force at the end of the day,
    else its first version, else the customer row itself."""
    versions = session.scalars(
        sa.select(CustomerHistory)
        .where(CustomerHistory.customer_id == customer.id)
        .order_by(CustomerHistory.effective_at, CustomerHistory.id)
    ).all()
    return facts_from(customer, list(versions), as_of)


def facts_from(customer: Customer, versions: list[CustomerHistory], as_of: dt.date) -> Facts:
    """The same, from the customer's versions (oldest first)."""
    end = dt.datetime.combine(as_of + DAY, dt.time(), tzinfo=dt.UTC)
    in_force = [v for v in versions if v.effective_at < end]
    chosen: Any = in_force[-1] if in_force else (versions[0] if versions else customer)
    start = chosen.contract_start
    if start is not None:
        is_customer = start <= as_of
    else:
        is_customer = not versions or versions[0].effective_at < end
        start = versions[0].effective_at.astimezone(dt.UTC).date() if versions else None
    churned = chosen.status == CustomerStatus.CHURNED and (
        chosen.churned_at is None or chosen.churned_at < end
    )
    seats = chosen.seats if chosen.seats and chosen.seats > 0 else None
    renewal = chosen.renewal_date
    # A renewal date learned after the day, more than a year ahead of it, is
    # a later renewal: step back a year at a time (of 365 days) to the first
    # after the day.
    known_then = isinstance(chosen, CustomerHistory) and chosen.recorded_at < end
    if renewal is not None and not known_then:
        while (renewal - as_of).days > 365:
            renewal -= dt.timedelta(days=365)
    return Facts(chosen.arr, seats, renewal, chosen.attributes or {}, is_customer, churned, start)


def _glob(pattern: str) -> re.Pattern:
    return re.compile("".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern))


def counts_as(card: Scorecard, spec: Measure | None, name: str) -> bool:
    """Whether a usage measure counts an event of this name."""
    if spec is not None and spec.kind == MeasureKind.EVENT_COUNT:
        include, exclude = spec.events, spec.exclude or []
    else:
        include = spec.events if spec is not None and spec.events is not None else card.usage.events
        exclude = spec.exclude if spec is not None and spec.exclude is not None else card.usage.exclude
    if include and not any(_glob(p).fullmatch(name) for p in include):
        return False
    return not any(_glob(p).fullmatch(name) for p in exclude)


def _spec(card: Scorecard, name: str) -> Measure | None:
    for spec in card.components.values():
        if name in spec.measures:
            return spec.measures[name]
    return None


def count_features(session: Session, card: Scorecard, as_of: dt.date) -> int:
    """The number of features for feature breadth: the scorecard's list, or
    every event name (that feature breadth counts) used in the window by a
    customer of the day since it became one (once per run)."""
    if card.features:
        return len(card.features)
    end = dt.datetime.combine(as_of + DAY, dt.time(), tzinfo=dt.UTC)
    start = end - dt.timedelta(days=window_days(card, "feature_breadth"))
    versions: dict[int, list[CustomerHistory]] = {}
    for version in session.scalars(
        sa.select(CustomerHistory).order_by(CustomerHistory.effective_at, CustomerHistory.id)
    ):
        versions.setdefault(version.customer_id, []).append(version)
    known = {c.id: facts_from(c, versions.get(c.id, []), as_of) for c in session.scalars(sa.select(Customer))}
    spec = _spec(card, "feature_breadth")
    names = set()
    for customer_id, name, moment in session.execute(
        sa.select(UsageEvent.customer_id, UsageEvent.event_name, UsageEvent.occurred_at).where(
            UsageEvent.occurred_at >= start, UsageEvent.occurred_at < end
        )
    ):
        them = known[customer_id]
        day = moment.astimezone(dt.UTC).date()
        if them.is_customer and (them.started_on is None or day >= them.started_on):
            names.add(name)
    return sum(1 for n in names if counts_as(card, spec, n))


def measure(
    session: Session, card: Scorecard, customer: Customer, known: Facts, as_of: dt.date, features: int
) -> tuple[dict[str, Any], dict[str, Any], int | None]:
    """The raw measures of one customer (None: no data), the signals behind
    the multipliers, and the days since its last usage event."""
    end = dt.datetime.combine(as_of + DAY, dt.time(), tzinfo=dt.UTC)

    def since(name: str) -> dt.datetime:
        return end - dt.timedelta(days=window_days(card, name))

    raw: dict[str, Any] = {}
    seats = known.seats
    tenure = known.tenure(as_of)

    # Adoption: the usage events of the window, from the customer's first
    # day on. The usage table has no key (the ORM's identity for it would
    # merge two events of the same moment and feature), so its columns are
    # read, not mapped objects.
    all_events = session.execute(
        sa.select(UsageEvent.event_name, UsageEvent.occurred_at).where(
            UsageEvent.customer_id == customer.id, UsageEvent.occurred_at < end
        )
    ).all()
    # Any event makes usage data; the last one that counts as use is the last activity.
    last_event = max((e.occurred_at for e in all_events if counts_as(card, None, e.event_name)), default=None)
    usage = {
        name: spec
        for component in card.components.values()
        for name, spec in component.measures.items()
        if name in USAGE_MEASURES or spec.kind == MeasureKind.EVENT_COUNT
    }
    if all_events and usage:
        earliest = min(since(name) for name in usage)
        events = [
            e
            for e in session.execute(
                sa.select(UsageEvent.event_name, UsageEvent.contact_id, UsageEvent.occurred_at).where(
                    UsageEvent.customer_id == customer.id,
                    UsageEvent.occurred_at >= earliest,
                    UsageEvent.occurred_at < end,
                )
            ).all()
            if known.started_on is None or e.occurred_at.astimezone(dt.UTC).date() >= known.started_on
        ]

        def of(name: str) -> list:
            spec = usage[name]
            return [
                e
                for e in events
                if e.occurred_at >= since(name)
                and counts_as(card, spec, e.event_name)
                and (name != "feature_breadth" or not card.features or e.event_name in card.features)
            ]

        for name, spec in usage.items():
            if name == "feature_breadth":
                used = {e.event_name for e in of(name)}
                raw[name] = min(1.0, len(used) / features) if features else None
            elif name == "active_days":
                days = {e.occurred_at.astimezone(dt.UTC).date() for e in of(name)}
                span = window_days(card, name)
                if tenure is not None and tenure < span:
                    span = tenure
                raw[name] = min(1.0, len(days) / span)
            elif name == "active_users":
                users = {e.contact_id for e in of(name) if e.contact_id is not None}
                raw[name] = min(1.0, len(users) / seats) if seats else None
            else:
                matching = of(name)
                if spec.count == EventCount.DAYS:
                    value = len({e.occurred_at.astimezone(dt.UTC).date() for e in matching})
                elif spec.count == EventCount.USERS:
                    value = len({e.contact_id for e in matching if e.contact_id is not None})
                else:
                    value = len(matching)
                if spec.per_seat:
                    raw[name] = value / seats if seats else None
                else:
                    raw[name] = float(value)

    # Engagement: the touchpoints of the windows, and the last one of any kind.
    last_touch = session.scalar(
        sa.select(sa.func.max(Touchpoint.occurred_at)).where(
            Touchpoint.customer_id == customer.id, Touchpoint.occurred_at < end
        )
    )
    if last_touch is not None:
        earliest = min(since("touchpoints"), since("email_engagement"), since("webinars"))
        touchpoints = session.scalars(
            sa.select(Touchpoint).where(
                Touchpoint.customer_id == customer.id,
                Touchpoint.occurred_at >= earliest,
                Touchpoint.occurred_at < end,
            )
        ).all()
        raw["touchpoints"] = sum(
            1 for t in touchpoints if t.touchpoint_type in HUMAN and t.occurred_at >= since("touchpoints")
        )
        emails = [t for t in touchpoints if t.occurred_at >= since("email_engagement")]
        sent = sum(1 for t in emails if t.touchpoint_type == TouchpointType.EMAIL_SENT)
        engaged = sum(1 for t in emails if t.touchpoint_type in ENGAGED)
        raw["email_engagement"] = min(1.0, engaged / sent) if sent else None
        raw["webinars"] = sum(
            1
            for t in touchpoints
            if t.touchpoint_type == TouchpointType.WEBINAR and t.occurred_at >= since("webinars")
        )
        raw["touchpoint_recency"] = (end - last_touch) // DAY

    # Relationship: the contacts, and the NPS responses of the window.
    contacts = session.scalars(sa.select(Contact).where(Contact.customer_id == customer.id)).all()
    left_since = end - dt.timedelta(days=card.multipliers.champion_left_within_days)
    if contacts:
        present = [k for k in contacts if k.left_at is None or k.left_at >= end]
        raw["champion"] = int(any(k.is_champion for k in present))
        raw["exec_sponsor"] = int(any(k.is_exec_sponsor for k in present))
    champion_left = any(
        k.is_champion and k.left_at is not None and left_since <= k.left_at < end for k in contacts
    )
    responses = session.scalars(
        sa.select(NpsResponse).where(
            NpsResponse.customer_id == customer.id,
            NpsResponse.responded_at >= since("nps"),
            NpsResponse.responded_at < end,
        )
    ).all()
    if responses:
        raw["nps"] = sum(r.score for r in responses) / len(responses)

    # Financial: the invoices issued up to the day.
    invoices = session.scalars(
        sa.select(Invoice).where(Invoice.customer_id == customer.id, Invoice.issued_on <= as_of)
    ).all()
    late_from = as_of + DAY - dt.timedelta(days=window_days(card, "late_invoices"))
    due = [i for i in invoices if late_from <= i.due_on <= as_of]
    if due:
        raw["late_invoices"] = sum(1 for i in due if i.paid_on is None or i.paid_on > i.due_on)
    growth = dt.timedelta(days=window_days(card, "arr_growth"))
    recent_from = as_of + DAY - growth
    previous_from = recent_from - growth
    previous = [i.amount for i in invoices if previous_from <= i.issued_on < recent_from]
    if previous and sum(previous) > 0:
        recent = sum((i.amount for i in invoices if i.issued_on >= recent_from), start=0)
        # Money stays exact until the one division.
        raw["arr_growth"] = float(recent - sum(previous)) / float(sum(previous))
    if known.arr is not None:
        raw["contract_value"] = float(known.arr)

    # Support: the tickets opened up to the day.
    tickets = session.scalars(
        sa.select(SupportTicket).where(
            SupportTicket.customer_id == customer.id, SupportTicket.opened_at < end
        )
    ).all()
    escalations = sum(
        1
        for t in tickets
        if t.escalated
        and (t.escalated_at is None or t.escalated_at < end)
        and (t.closed_at is None or t.closed_at >= end)
    )
    if tickets:
        opened = sum(1 for t in tickets if t.opened_at >= since("tickets_per_seat"))
        raw["tickets_per_seat"] = opened / seats if seats else None
        raw["open_escalations"] = escalations
        ratings = [
            t.satisfaction
            for t in tickets
            if t.satisfaction is not None and t.closed_at is not None and since("csat") <= t.closed_at < end
        ]
        if ratings:
            raw["csat"] = sum(ratings) / len(ratings)

    # Measures of the customer's facts: its tenure and its attributes.
    for component in card.components.values():
        for name, spec in component.measures.items():
            if spec.kind == MeasureKind.TENURE and tenure is not None:
                raw[name] = float(tenure)
            elif spec.kind == MeasureKind.ATTRIBUTE:
                raw[name] = attribute(known.attributes.get(spec.attribute), text=spec.values is not None)

    signals = {
        "days_to_renewal": (known.renewal_date - as_of).days if known.renewal_date else None,
        "open_escalations": escalations,
        "champion_left": int(champion_left),
        "tenure_days": tenure,
    }
    days_since_last_login = (end - last_event) // DAY if last_event is not None else None
    return raw, signals, days_since_last_login


def attribute(value: Any, *, text: bool) -> Any:
    """An attribute as a number (for bands) or as text (for a table of values)."""
    if value is None or isinstance(value, dict | list):
        return None
    if not text:
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def band(spec: Measure, value: Any) -> int | None:
    if spec.values is not None:
        return next((v for k, v in spec.values.items() if k.lower() == str(value).lower()), spec.other)
    for b in spec.bands:
        if (b.lower is None or value >= b.lower) and (b.upper is None or value < b.upper):
            return b.score
    return None


def score(
    card: Scorecard, raw: dict[str, Any], signals: dict[str, Any], churned: bool
) -> tuple[Result, dict[str, Any], float] | None:
    # Bands, then which components have data beyond size alone.
    """Bands, component averages over the measures with data, the base score
    over the components with data, multipliers, status; None without data."""
    components: dict[str, int | None] = {name: None for name in COLUMNS}
    scores: dict[str, int | None] = {}
    raws: dict[str, Any] = {}
    for component, spec in card.components.items():
        total = weights = 0.0
        for name, m in spec.measures.items():
            value = raw.get(name)
            raws[name] = value
            scores[name] = band(m, value) if value is not None else None
            if scores[name] is not None:
                total += m.weight * scores[name]
                weights += m.weight
        if weights:
            components[component.value] = math.floor(total / weights + 0.5)
    total = weights = 0.0
    for component, weight in card.weights.items():
        if weight > 0 and components[component.value] is not None:
            total += weight * components[component.value]
            weights += weight
    if not weights:
        return None
    base = total / weights
    overall = base
    m = card.multipliers
    days = signals["days_to_renewal"]
    if days is not None and 0 <= days < m.renewal_within_days:
        overall *= m.renewal
    if signals["open_escalations"]:
        overall *= m.open_escalation
    if signals["champion_left"]:
        overall *= m.champion_left
    overall_int = max(0, min(100, int(overall + 1e-9)))
    total_weight = sum(w for w in card.weights.values() if w > 0)
    coverage = 0.0
    for component, spec in card.components.items():
        signal_names = [n for n in spec.measures if n not in SIZE_MEASURES]
        weight = card.weights.get(component, 0.0)
        if weight > 0 and any(scores.get(n) is not None for n in signal_names):
            coverage += weight / total_weight
    signals = {**signals, "coverage": coverage}
    tenure = signals["tenure_days"]
    if churned:
        status = HealthStatus.CHURNED
    elif tenure is not None and tenure < card.min_tenure_days:
        status = HealthStatus.ONBOARDING
    elif coverage <= 0 or coverage < card.min_coverage - 1e-9:
        status = HealthStatus.INSUFFICIENT_DATA
    elif overall_int >= card.status.healthy:
        status = HealthStatus.HEALTHY
    elif overall_int >= card.status.at_risk:
        status = HealthStatus.AT_RISK
    else:
        status = HealthStatus.CRITICAL
    explained = {"raw": raws, "signals": signals, "base": base}
    return Result(overall_int, status, components), explained, base


def score_customer(
    session: Session,
    scorecard: LoadedScorecard,
    customer: Customer,
    *,
    as_of: dt.date,
    now: dt.datetime,
    features: int,
    actor_name: str,
) -> Result | None:
    """Score one customer and write its history row, current score and
    status-drop event."""
    card = scorecard.card
    known = facts(session, customer, as_of)
    if not known.is_customer:
        return None
    raw, signals, days_since_last_login = measure(session, card, customer, known, as_of, features)
    scored = score(card, raw, signals, churned=known.churned)
    if scored is None:
        return None
    result, explained, _ = scored

    before = session.scalar(
        sa.select(HealthScoreHistory.overall_score)
        .where(
            HealthScoreHistory.customer_id == customer.id,
            HealthScoreHistory.as_of <= as_of - dt.timedelta(days=30),
            # Compared with a score from 30 to 36 days before, none older.
            HealthScoreHistory.as_of >= as_of - dt.timedelta(days=36),
        )
        .order_by(HealthScoreHistory.as_of.desc())
        .limit(1)
    )
    change = result.overall - before if before is not None else None
    trend = None
    if change is not None:
        if change >= card.trend.improving:
            trend = ScoreTrend.IMPROVING
        elif change <= -card.trend.declining:
            trend = ScoreTrend.DECLINING
        else:
            trend = ScoreTrend.STABLE

    history = session.scalar(
        sa.select(HealthScoreHistory).where(
            HealthScoreHistory.customer_id == customer.id, HealthScoreHistory.as_of == as_of
        )
    )
    if history is None:
        history = HealthScoreHistory(customer_id=customer.id, as_of=as_of, created_at=now)
        session.add(history)
    history.overall_score = result.overall
    history.health_status = result.status
    for name, column in COLUMNS.items():
        setattr(history, column, result.components[name])
    history.scorecard_version = scorecard.version
    history.measures = explained
    history.calculated_at = now

    current = session.scalar(sa.select(HealthScore).where(HealthScore.customer_id == customer.id))
    if current is not None and current.as_of is not None and current.as_of > as_of:
        return result  # a backfill of an older day leaves the current score alone
    if current is not None and 0 < RANK.get(result.status, 0) < RANK.get(current.health_status, 0):
        session.add(
            DomainEvent(
                event_type="health.status_dropped",
                customer_id=customer.id,
                occurred_at=dt.datetime.combine(as_of + DAY, dt.time(), tzinfo=dt.UTC)
                - dt.timedelta(microseconds=1),
                data={
                    "from": current.health_status.value,
                    "to": result.status.value,
                    "score": result.overall,
                    "as_of": as_of.isoformat(),
                },
                actor_name=actor_name,
                created_at=now,
            )
        )
    if current is None:
        current = HealthScore(customer_id=customer.id, created_at=now)
        session.add(current)
    current.overall_score = result.overall
    current.health_status = result.status
    for name, column in COLUMNS.items():
        setattr(current, column, result.components[name])
    current.days_since_last_login = days_since_last_login
    current.days_to_renewal = signals["days_to_renewal"]
    current.score_trend = trend
    current.score_change_30d = change
    current.calculated_at = now
    current.as_of = as_of
    current.scorecard_version = scorecard.version
    return result


def run(
    session: Session,
    scorecard: LoadedScorecard,
    as_of: dt.date,
    *,
    now: dt.datetime,
    limit: int | None = None,
    actor_name: str = "naive",
) -> int:
    """Score every customer (the first `limit` by id), one at a time; the
    caller commits. Returns how many were scored."""
    features = count_features(session, scorecard.card, as_of)
    customers = session.scalars(sa.select(Customer).order_by(Customer.id).limit(limit)).all()
    scored = 0
    for customer in customers:
        if score_customer(
            session, scorecard, customer, as_of=as_of, now=now, features=features, actor_name=actor_name
        ):
            scored += 1
    if scored and session.get(ScorecardVersion, scorecard.version) is None:
        session.add(
            ScorecardVersion(
                version=scorecard.version, name=scorecard.card.name, content=scorecard.text, created_at=now
            )
        )
    return scored
