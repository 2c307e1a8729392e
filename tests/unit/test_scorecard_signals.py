"""Onboarding, coverage and the signals a scorecard can be fit with, scored
on both dialects and checked against hand-computed scores."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import Customer, UsageEvent
from cs_cli.errors import FileError
from cs_cli.services.health.recalc import score_day
from cs_cli.services.health.scoring import kept
from cs_cli.specs.scorecard import load_scorecard


def _kept(card, row) -> SimpleNamespace:
    """A scored row with what history keeps of it as one dict (`kept`)."""
    return SimpleNamespace(**row._mapping, kept=kept(card, row.raw_values, row.signal_values, row.measures))


AS_OF = dt.date(2026, 6, 30)
CARD = """\
name: hand
weights: {adoption: 60, financial: 20, support: 20}
min_tenure_days: 14
min_coverage: 0.5
usage: {exclude: [error]}
components:
  adoption:
    measures:
      active_days:
        weight: 1
        window_days: 30
        bands: [{to: 0.25, score: 20}, {from: 0.25, to: 0.55, score: 50}, {from: 0.55, score: 90}]
  financial:
    measures:
      contract_value: {weight: 1, bands: [{to: 50000, score: 40}, {from: 50000, score: 100}]}
  support:
    measures:
      errors:
        kind: event_count
        events: [error]
        window_days: 30
        weight: 1
        bands: [{to: 1, score: 100}, {from: 1, to: 4, score: 50}, {from: 4, score: 0}]
"""


def day(d: int, hour: int = 12) -> dt.datetime:
    """June `d`, 2026."""
    return dt.datetime(2026, 6, d, hour, tzinfo=dt.UTC)


def book(engine) -> None:
    with transaction(engine) as s:
        new = Customer(external_id="N", name="New", contract_start=dt.date(2026, 6, 21), arr=Decimal(60000))
        mid = Customer(external_id="M", name="Mid", contract_start=dt.date(2026, 6, 11), arr=Decimal(10000))
        big = Customer(external_id="A", name="ARR only", arr=Decimal(300000))
        errs = Customer(external_id="E", name="Errors only")
        later = Customer(external_id="L", name="Later", contract_start=dt.date(2026, 7, 15))
        s.add_all([new, mid, big, errs, later])
        s.flush()
        events = []

        def event(c, when, name="login"):
            events.append({"customer_id": c.id, "event_name": name, "occurred_at": when, "quantity": 1})

        for d in (21, 23, 24, 27, 30):  # 5 days of use in its 10 days
            event(new, day(d))
        event(new, day(10))  # a trial before its contract: not counted
        event(new, day(12))
        event(new, day(25), "error")  # not use: not an active day, one error
        for d in range(11, 23):  # 12 days of use in its 20
            event(mid, day(d))
        for d in (26, 27, 28, 29, 30):
            event(mid, day(d, 9), "error")
        for d in (2, 3, 4):
            event(errs, day(d), "error")
        event(later, day(20))
        s.execute(sa.insert(UsageEvent), events)


def test_hand_computed_onboarding_coverage_and_negative_signals(engine, admin, tmp_path):
    path = tmp_path / "hand.yaml"
    path.write_text(CARD)
    card = load_scorecard(path).card
    book(engine)
    with transaction(engine) as s:
        ids = dict(s.execute(sa.select(Customer.id, Customer.external_id)).all())
        rows = {ids[r.customer_id]: _kept(card, r) for r in score_day(s, admin, card, as_of=AS_OF)}
    # L is not a customer until July: not scored at all.
    assert set(rows) == {"N", "M", "A", "E"}

    n = rows["N"]
    # Active days over its 10 days, not the 30-day window: 5/10 = 0.5 -> 50.
    # Errors: 1 -> 50. ARR 60,000 -> 100. (60*50 + 20*100 + 20*50) / 100 = 60.
    assert n.kept["raw"]["active_days"] == pytest.approx(0.5)
    assert n.kept["raw"]["errors"] == 1
    assert (n.component_adoption, n.component_financial, n.component_support) == (50, 100, 50)
    assert (n.overall_score, n.health_status) == (60, "onboarding")
    assert n.kept["signals"]["tenure_days"] == 10

    m = rows["M"]
    # 12/20 = 0.6 -> 90; five errors -> 0; ARR 10,000 -> 40: (5400 + 800 + 0) / 100 = 62.
    assert m.kept["raw"]["active_days"] == pytest.approx(0.6)
    assert (m.overall_score, m.health_status) == (62, "at_risk")

    a = rows["A"]
    # ARR alone: a score (100) but no judgement.
    assert (a.overall_score, a.health_status) == (100, "insufficient_data")
    assert a.kept["signals"]["coverage"] == 0

    e = rows["E"]
    # Only error events: usage data without use. No day of use in 30 -> 20;
    # three errors -> 50: (60*20 + 20*50) / 80 = 27.5 -> 27, critical.
    assert e.kept["raw"]["active_days"] == 0 and e.kept["raw"]["errors"] == 3
    assert (e.overall_score, e.health_status) == (27, "critical")
    assert e.days_since_last_login is None  # errors are no use of the product


def test_attribute_measures_score_numbers_by_band_and_text_by_table(engine, admin, tmp_path):
    path = tmp_path / "attrs.yaml"
    path.write_text(
        """\
name: attrs
weights: {financial: 100}
min_coverage: 0
components:
  financial:
    measures:
      contract:
        kind: attribute
        attribute: Contract
        weight: 2
        values: {Month-to-month: 20, One year: 70, Two year: 100}
        other: 50
      paperless:
        kind: attribute
        attribute: Paperless
        weight: 1
        values: {Yes: 40, No: 80}
      charges:
        kind: attribute
        attribute: MonthlyCharges
        weight: 1
        bands: [{to: 50, score: 90}, {from: 50, score: 30}]
"""
    )
    card = load_scorecard(path).card
    with transaction(engine) as s:
        s.add_all(
            [
                Customer(
                    external_id="T1",
                    name="T1",
                    attributes={"Contract": "month-to-month", "Paperless": True, "MonthlyCharges": 70.35},
                ),
                Customer(
                    external_id="T2", name="T2", attributes={"Contract": "Three year", "MonthlyCharges": 20}
                ),
                Customer(external_id="T3", name="T3", attributes={"MonthlyCharges": "n/a"}),
            ]
        )
        s.flush()
        ids = dict(s.execute(sa.select(Customer.id, Customer.external_id)).all())
        rows = {ids[r.customer_id]: _kept(card, r) for r in score_day(s, admin, card, as_of=AS_OF)}
    # T1: matched regardless of case (20), YAML's Yes is a boolean: true -> 40, 70.35 -> 30.
    # (2*20 + 40 + 30) / 4 = 27.5 -> 28 (half up).
    assert rows["T1"].kept["raw"] == {"contract": "month-to-month", "paperless": "true", "charges": 70.35}
    assert rows["T1"].overall_score == 28
    # T2: a value not listed scores `other` (50); no Paperless: no data; 20 -> 90: (100 + 90) / 3 = 63.
    assert rows["T2"].overall_score == 63
    # T3: a text where a number is wanted is no data: nothing to score.
    assert "T3" not in rows


@pytest.mark.parametrize(
    "old, new, where, reason",
    [
        ("        kind: event_count\n", "", ":18:7:", "unknown measure 'errors'"),
        ("        events: [error]\n", "", ":18:7:", "needs events"),
        (
            "        window_days: 30\n        weight: 1\n        bands: [{to: 1",
            "        weight: 1\n        bands: [{to: 1",
            ":18:7:",
            "needs window_days",
        ),
        (
            "min_coverage: 0.5",
            "min_coverage: 1.5",
            ":4:1:",
            "min_coverage: Input should be less than or equal to 1",
        ),
        ("      errors:", "      Errors:", ":18:7:", "lower-case letters"),
        (
            "{from: 1, to: 4, score: 50}",
            "{from: 2, to: 4, score: 50}",
            ":23:16:",
            "gap between bands 1 and 2",
        ),
    ],
)
def test_bad_signal_measures_name_file_line_and_key(tmp_path, old, new, where, reason):
    assert old in CARD
    path = tmp_path / "bad.yaml"
    path.write_text(CARD.replace(old, new, 1))
    with pytest.raises(FileError) as info:
        load_scorecard(path)
    message = str(info.value)
    assert message.startswith(f"{path}{where}") and reason in message, message


def test_a_measure_of_your_own_takes_only_its_kinds_keys(tmp_path):
    text = CARD.replace("        kind: event_count\n", "        kind: event_count\n        attribute: x\n")
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(FileError) as info:
        load_scorecard(path)
    assert "components.support.measures.errors.attribute: not taken by event_count" in str(info.value)
