"""The per-customer ORM recalculation kept for comparison in
benchmarks/naive_recalc.py computes what `cs recalc` computes: the same
score, status, components, measures, trend and status-drop events for every
customer of a demo book (with a few awkward customers added), for two days
and three scorecards. The benchmark's speed-up only means something if both
do the same work."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from cs_cli.db.engine import session_factory, transaction
from cs_cli.db.models import (
    Contact,
    Customer,
    DomainEvent,
    HealthScore,
    HealthScoreHistory,
    Invoice,
    SupportTicket,
    Touchpoint,
    UsageEvent,
)
from cs_cli.domain import TouchpointType
from cs_cli.services.demo import FEATURES, load_demo
from cs_cli.services.health.scoring import kept
from cs_cli.specs.scorecard import DEFAULT_PATH, load_scorecard

ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2025, 3, 14)
END = dt.datetime(2025, 3, 15, tzinfo=dt.UTC)  # the end of the as-of day
NOW = dt.datetime(2025, 3, 15, 6, tzinfo=dt.UTC)


def _naive():
    spec = importlib.util.spec_from_file_location("naive_recalc", ROOT / "benchmarks" / "naive_recalc.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


naive = _naive()


def _awkward(engine) -> None:
    """Customers at the edges of the formulas, beside the demo's."""

    def ago(days: float) -> dt.datetime:
        return END - dt.timedelta(days=days)

    with transaction(engine) as s:
        rows = {
            # no seats: no active users, no tickets per seat
            "X-NOSEATS": Customer(external_id="X-NOSEATS", name="No seats", arr=Decimal("1000")),
            "X-ZERO": Customer(external_id="X-ZERO", name="Zero seats", seats=0, arr=Decimal("99999.99")),
            # a champion who left ten days ago, a sponsor who leaves tomorrow
            "X-LEFT": Customer(
                external_id="X-LEFT", name="Left", seats=10, renewal_date=AS_OF + dt.timedelta(days=29)
            ),
            # touchpoints only, one exactly 14 days before the end of the day
            "X-TOUCH": Customer(external_id="X-TOUCH", name="Touch", seats=3),
            # unpaid, late, on time, and issued after the day; growth of exactly +20%
            "X-BILL": Customer(external_id="X-BILL", name="Bill", seats=5, renewal_date=AS_OF),
            # an escalation closed after the day (open on the day), ratings
            "X-TICKET": Customer(external_id="X-TICKET", name="Ticket", seats=20),
            # nothing at all: no score from either
            "X-EMPTY": Customer(external_id="X-EMPTY", name="Empty"),
        }
        s.add_all(rows.values())
        s.flush()
        ids = {ext: c.id for ext, c in rows.items()}
        left = Contact(customer_id=ids["X-LEFT"], name="Champ", is_champion=True, left_at=ago(10))
        stays = Contact(
            customer_id=ids["X-LEFT"],
            name="Sponsor",
            is_exec_sponsor=True,
            left_at=END + dt.timedelta(hours=5),
        )
        s.add_all([left, stays])
        s.flush()
        s.execute(
            sa.insert(UsageEvent),
            [
                # two events of the same moment and feature by different people
                {
                    "customer_id": ids["X-LEFT"],
                    "contact_id": left.id,
                    "event_name": FEATURES[0],
                    "occurred_at": ago(2),
                },
                {
                    "customer_id": ids["X-LEFT"],
                    "contact_id": stays.id,
                    "event_name": FEATURES[0],
                    "occurred_at": ago(2),
                },
                {
                    "customer_id": ids["X-LEFT"],
                    "contact_id": None,
                    "event_name": FEATURES[1],
                    "occurred_at": ago(30),
                },
                {
                    "customer_id": ids["X-LEFT"],
                    "contact_id": None,
                    "event_name": FEATURES[2],
                    "occurred_at": ago(30.5),
                },
                # after the day: not counted
                {
                    "customer_id": ids["X-LEFT"],
                    "contact_id": None,
                    "event_name": FEATURES[3],
                    "occurred_at": END,
                },
                {
                    "customer_id": ids["X-NOSEATS"],
                    "contact_id": None,
                    "event_name": "login",
                    "occurred_at": ago(1),
                },
                {
                    "customer_id": ids["X-ZERO"],
                    "contact_id": None,
                    "event_name": "login",
                    "occurred_at": ago(45),
                },
            ],
        )
        for days, kind in (
            (14, TouchpointType.CALL),
            (20.3173, TouchpointType.EMAIL_SENT),
            (20.3172, TouchpointType.EMAIL_CLICKED),
            (21, TouchpointType.EMAIL_OPENED),
            (90, TouchpointType.WEBINAR),
            (89.99, TouchpointType.WEBINAR),
            (-1, TouchpointType.MEETING),
        ):
            s.add(Touchpoint(customer_id=ids["X-TOUCH"], touchpoint_type=kind, occurred_at=ago(days)))
        for k, (issued, due, paid, amount) in enumerate(
            [
                (AS_OF - dt.timedelta(days=400), AS_OF - dt.timedelta(days=370), None, "1000.00"),
                (AS_OF - dt.timedelta(days=200), AS_OF - dt.timedelta(days=170), None, "1000.00"),
                (
                    AS_OF - dt.timedelta(days=60),
                    AS_OF - dt.timedelta(days=30),
                    AS_OF - dt.timedelta(days=1),
                    "1200.00",
                ),
                (AS_OF - dt.timedelta(days=40), AS_OF, AS_OF, "1200.00"),
                (AS_OF - dt.timedelta(days=35), AS_OF - dt.timedelta(days=5), None, "0.00"),
                (AS_OF + dt.timedelta(days=1), AS_OF + dt.timedelta(days=31), None, "5000.00"),
            ]
        ):
            s.add(
                Invoice(
                    external_id=f"X-I{k}",
                    customer_id=ids["X-BILL"],
                    amount=Decimal(amount),
                    issued_on=issued,
                    due_on=due,
                    paid_on=paid,
                )
            )
        for k, (opened, closed, escalated, rating) in enumerate(
            [
                (ago(5), END + dt.timedelta(hours=1), True, None),
                (ago(100), ago(95), True, 4),
                (ago(20), ago(10), False, 5),
                (ago(20), ago(1), False, 3),
                (ago(200), ago(181), False, 1),
                (END + dt.timedelta(hours=1), None, True, None),
            ]
        ):
            s.add(
                SupportTicket(
                    external_id=f"X-T{k}",
                    customer_id=ids["X-TICKET"],
                    opened_at=opened,
                    closed_at=closed,
                    escalated=escalated,
                    satisfaction=rating,
                )
            )


@pytest.fixture
def demo(engine, admin):
    with transaction(engine) as session:
        load_demo(session, admin, customers=40, months=6, seed=11, as_of=AS_OF)
    _awkward(engine)


def _outcome(session, day: dt.date, card) -> dict:
    """What a recalculation of `day` left, by external id."""
    ext = dict(session.execute(sa.select(Customer.id, Customer.external_id)).all())
    history = {
        ext[h.customer_id]: h
        for h in session.scalars(sa.select(HealthScoreHistory).where(HealthScoreHistory.as_of == day))
    }
    current = {ext[c.customer_id]: c for c in session.scalars(sa.select(HealthScore))}
    events = sorted(
        (ext[e.customer_id], e.data["from"], e.data["to"], e.data["score"])
        for e in session.scalars(
            sa.select(DomainEvent).where(
                DomainEvent.event_type == "health.status_dropped",
                DomainEvent.data["as_of"].as_string() == day.isoformat(),
            )
        )
    )
    return {
        "history": {
            k: {
                "overall": h.overall_score,
                "status": h.health_status,
                "components": [
                    h.product_adoption_score,
                    h.engagement_score,
                    h.relationship_score,
                    h.financial_score,
                    h.support_score,
                ],
                "measures": kept(card, h.raw_values, h.signal_values, h.measures),
            }
            for k, h in history.items()
        },
        "current": {
            k: (
                c.overall_score,
                c.health_status,
                c.score_trend,
                c.score_change_30d,
                c.days_since_last_login,
                c.days_to_renewal,
                c.as_of,
            )
            for k, c in current.items()
        },
        "events": events,
    }


def _close(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return abs(float(a) - float(b)) <= 1e-6


def _scorecards(tmp_path: Path) -> dict[str, Path]:
    with_features = yaml.safe_load(DEFAULT_PATH.read_text())
    with_features["name"] = "default with features"
    with_features["features"] = list(FEATURES[:5])
    path = tmp_path / "features.yaml"
    path.write_text(yaml.safe_dump(with_features))
    return {
        "default": DEFAULT_PATH,
        "simple": ROOT / "tests" / "fixtures" / "simple_scorecard.yaml",
        "features": path,
    }


@pytest.mark.parametrize("card", ["default", "simple", "features"])
def test_naive_recalc_scores_as_cs_recalc_does(engine, demo, run_cli, tmp_path, card):
    path = _scorecards(tmp_path)[card]
    scorecard = load_scorecard(path)
    checked = 0
    for day in (AS_OF - dt.timedelta(days=30), AS_OF):
        # The naive way first, in a transaction thrown away after reading
        # what it wrote; then cs recalc from the same state.
        with session_factory(engine)() as session:
            naive.run(session, scorecard, day, now=NOW, actor_name="admin")
            session.flush()
            theirs = _outcome(session, day, scorecard.card)
            session.rollback()
        result = run_cli("recalc", "--as-of", day.isoformat(), "--scorecard", str(path))
        assert result.exit_code == 0, result
        with session_factory(engine)() as session:
            ours = _outcome(session, day, scorecard.card)

        assert set(theirs["history"]) == set(ours["history"])
        assert "X-EMPTY" not in ours["history"]
        for customer, mine in ours["history"].items():
            other = theirs["history"][customer]
            where = f"{customer} on {day} ({card})"
            assert (other["overall"], other["status"]) == (mine["overall"], mine["status"]), where
            assert other["components"] == mine["components"], where
            for name, value in mine["measures"]["raw"].items():
                assert _close(other["measures"]["raw"][name], value), f"{where}: {name}"
            signals, their_signals = dict(mine["measures"]["signals"]), dict(other["measures"]["signals"])
            # A share of weights: the same sum on both sides, but JSON on
            # SQLite keeps 15 digits.
            assert _close(their_signals.pop("coverage"), signals.pop("coverage")), where
            assert their_signals == signals, where
            assert _close(other["measures"]["base"], mine["measures"]["base"]), where
            checked += 1
        assert theirs["current"] == ours["current"]
        assert theirs["events"] == ours["events"]
    # Every customer of the book was compared, twice.
    assert checked >= 2 * 40
