"""`cs health backtest` on a small book whose churns are known: the AUC, the
lift and the churn rates are worked out by hand below. Both dialects."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import Customer, UsageEvent
from cs_cli.domain import CustomerStatus
from cs_cli.services import ranking

D = dt.date(2026, 6, 30)
CARD = """\
name: days
weights: {adoption: 100}
min_tenure_days: 0
min_coverage: 0
components:
  adoption:
    measures:
      active_days:
        weight: 1
        window_days: 10
        bands:
          - {to: 0.2, score: 20}
          - {from: 0.2, to: 0.4, score: 40}
          - {from: 0.4, to: 0.6, score: 60}
          - {from: 0.6, to: 0.9, score: 80}
          - {from: 0.9, score: 100}
"""
# external id: days active in the 10 days to D (score), and when it churned.
BOOK = {
    "A1": (1, 10),  # 20, churns 10 days after D
    "A2": (1, None),  # 20
    "B1": (3, 25),  # 40, churns
    "B2": (3, None),  # 40
    "C1": (5, None),  # 60
    "C2": (5, None),  # 60
    "D1": (8, 5),  # 80, churns
    "D2": (8, None),  # 80
    "E1": (10, None),  # 100
    "E2": (10, 45),  # 100, churns after the 30-day horizon: not a churn
    "X": (4, -3),  # churned before D: not in the book that day
}


@pytest.fixture
def book(engine, admin, tmp_path):
    end = dt.datetime.combine(D + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    with transaction(engine) as s:
        for ext, (days, churn) in BOOK.items():
            c = Customer(external_id=ext, name=ext)
            if churn is not None:
                c.status = CustomerStatus.CHURNED
                c.churned_at = end + dt.timedelta(days=churn, hours=-12)
            s.add(c)
            s.flush()
            s.execute(
                sa.insert(UsageEvent),
                [
                    {
                        "customer_id": c.id,
                        "event_name": "login",
                        "occurred_at": end - dt.timedelta(days=k, hours=6),
                    }
                    for k in range(days)
                ],
            )
    path = tmp_path / "days.yaml"
    path.write_text(CARD)
    return path


def backtest_args(card) -> list[str]:
    days = ["--from", D.isoformat(), "--to", D.isoformat(), "--horizon", "30d"]
    later = (D + dt.timedelta(days=60)).isoformat()
    return ["health", "backtest", *days, "--as-of", later, "--scorecard", str(card)]


def backtest(run_cli, card, *more):
    return run_cli(*backtest_args(card), *more)


def test_hand_checked_auc_lift_and_churn_rates(run_cli, book):
    result = backtest(run_cli, book, "--format", "json")
    assert result.exit_code == 0, result
    report = json.loads(result.stdout)
    assert (report["customers"], report["observations"], report["churned_customers"]) == (10, 10, 3)
    assert report["base_rate"] == pytest.approx(0.3) and report["enough"] is False
    card = report["scorecards"][0]
    # Churners score 20, 40 and 80; the others 20, 40, 60, 60, 80, 100, 100.
    # Pairs a churner scores below: 6 + 5 + 2, ties (20, 40, 80) half each:
    # (13 + 1.5) / 21.
    assert card["score"]["auc"] == pytest.approx(14.5 / 21)
    assert card["score"]["low"] <= card["score"]["auc"] <= card["score"]["high"]
    # The lowest tenth is one place shared by A1 and A2 (both 20): half a
    # churn in one place, over a base rate of 3 in 10.
    assert card["top_decile_lift"] == pytest.approx(0.5 / 0.3)
    rates = {r["group"]: (r["observations"], r["churned"]) for r in card["by_status"]}
    assert rates == {
        "healthy": (4, 1),
        "at_risk": (2, 0),
        "critical": (4, 2),
        "onboarding": (0, 0),
        "insufficient_data": (0, 0),
    }
    bands = {r["group"]: (r["observations"], r["churned"]) for r in card["by_band"] if r["observations"]}
    assert bands == {"20-29": (2, 1), "40-49": (2, 1), "60-69": (2, 0), "80-89": (2, 1), "90-100": (2, 0)}
    adoption = next(s for s in card["signals"] if s["signal"] == "adoption")
    assert adoption["auc"] == pytest.approx(14.5 / 21) and adoption["coverage"] == 1.0
    assert card["suggested_weights"] == {"adoption": 100}
    # The baseline (events in 28 days, one a day here) ranks the same way.
    assert report["baseline"]["auc"] == pytest.approx(14.5 / 21)


def test_stored_history_gives_the_same_report(run_cli, book):
    fresh = json.loads(backtest(run_cli, book, "--format", "json").stdout)
    assert fresh["scorecards"][0]["days_from_history"] == 0
    scored = run_cli("recalc", "--as-of", D.isoformat(), "--scorecard", str(book))
    assert scored.exit_code == 0, scored
    stored = json.loads(backtest(run_cli, book, "--format", "json").stdout)
    assert stored["scorecards"][0]["days_from_history"] == 1
    for key in ("score", "top_decile_lift", "by_status", "by_band", "signals", "suggested_weights"):
        assert stored["scorecards"][0][key] == fresh["scorecards"][0][key], key
    # Another scorecard's history is no use: that one is scored afresh.
    other = book.parent / "other.yaml"
    other.write_text(CARD.replace("name: days", "name: other"))
    again = json.loads(backtest(run_cli, other, "--format", "json").stdout)
    assert again["scorecards"][0]["days_from_history"] == 0


def test_a_csm_backtests_their_own_customers(run_cli, book, engine):
    """Scores, churns and the baseline's events: only the CSM's customers."""
    from cs_cli.db.models import User
    from cs_cli.enums import Role

    with transaction(engine) as s:
        ana = User(login="ana", name="Ana", email="ana@example.com", role=Role.CSM)
        s.add(ana)
        s.flush()
        mine = Customer.external_id.in_(["A1", "A2", "B1", "B2"])
        s.execute(sa.update(Customer).where(mine).values(csm_id=ana.id))
    result = run_cli(*backtest_args(book), "--format", "json", user="ana")
    assert result.exit_code == 0, result
    report = json.loads(result.stdout)
    assert (report["customers"], report["observations"], report["churned_customers"]) == (4, 4, 2)
    # Churners A1 (20) and B1 (40) against A2 (20) and B2 (40): ties half,
    # A1 below B2 once: (0.5 + 1 + 0 + 0.5) / 4. Events (1, 1, 3, 3) alike.
    assert report["scorecards"][0]["score"]["auc"] == pytest.approx(0.5)
    assert report["baseline"]["auc"] == pytest.approx(0.5)


def test_the_table_compares_scorecards_and_says_when_churns_are_too_few(run_cli, book):
    result = backtest(run_cli, book, "--scorecard", str(book))
    assert result.exit_code == 0, result
    assert "too few churns to judge: 3 churned customers; about 19 are needed" in result.stderr
    assert result.stdout.count("days ") >= 2  # one block per scorecard
    assert "0.69 (" in result.stdout and "chance" in result.stdout
    assert all(len(line) <= 80 for line in result.stdout.splitlines()), result.stdout


def test_bad_input(run_cli, book):
    later = run_cli(
        "health", "backtest", "--from", "2026-07-01", "--to", "2026-06-01", "--scorecard", str(book)
    )
    assert later.exit_code == 2 and "--from 2026-07-01 is after --to 2026-06-01" in later.stderr
    every = run_cli("health", "backtest", "--every", "soon")
    assert every.exit_code == 2 and "'soon' is not a number of days" in every.stderr
    # Every snapshot day still waits for its horizon: nothing to judge, said so.
    waiting = run_cli(
        "health", "backtest", "--to", D.isoformat(), "--as-of", D.isoformat(), "--scorecard", str(book)
    )
    assert waiting.exit_code == 0 and "no snapshot day has a horizon that has passed" in waiting.stderr


def test_auc_and_its_interval_agree_with_a_direct_count():
    rng = np.random.default_rng(3)
    values = rng.integers(0, 100, 400).astype(float)
    labels = (rng.random(400) < 0.02 + values / 400).astype(float)
    direct = np.mean([(p > n) + 0.5 * (p == n) for p in values[labels == 1] for n in values[labels == 0]])
    got = ranking.auc(values, labels, np.arange(400), riskier_when_higher=True)
    assert got.auc == pytest.approx(direct)
    assert got.low < got.auc < got.high and got.high - got.low < 0.3
    assert ranking.positives_needed() == 19
