"""Churn prediction on a book whose churn is known: observations and labels
counted by hand, features point in time, a model that learns the decline,
a label-shuffle that learns nothing, predictions written where the plan
says, drivers that add up, and refusals that say why. Both dialects."""

from __future__ import annotations

import datetime as dt
import itertools
import random

import numpy as np
import pytest
import sqlalchemy as sa
from fixtures.churn_book import NOW, START, TODAY, write_book

from cs_cli.db.engine import transaction
from cs_cli.db.models import (
    Customer,
    HealthScore,
    HealthScoreHistory,
    Invoice,
    NpsResponse,
    PredictionModel,
    SupportTicket,
    Touchpoint,
    UsageEvent,
)
from cs_cli.domain import CustomerStatus, TouchpointType
from cs_cli.errors import BadInput, NotFound
from cs_cli.services.churn import features as feats
from cs_cli.services.churn import snapshot, store
from cs_cli.services.churn.predict import explain, predict
from cs_cli.services.churn.train import observations, plan_days, train
from cs_cli.services.customer360 import customer_360
from cs_cli.services.facts import day_end
from cs_cli.services.health.usage import usage_range


@pytest.fixture
def book(engine):
    return write_book(engine)


def _days(session):
    days, history = plan_days(session, since=None, until=None, every_days=30, horizon_days=90, today=TODAY)
    return days, history


def test_observations_and_labels_count_as_worked_out_by_hand(engine, admin, book):
    with transaction(engine) as s:
        days, history = _days(s)
        assert history
        # Snapshot days run back every 30 days from the last whose 90 days
        # have passed, a year at most, not before the first event.
        assert days[-1] == TODAY - dt.timedelta(days=90)
        assert all((b - a).days == 30 for a, b in itertools.pairwise(days))
        seen = observations(s, admin, None, days=days, horizon_days=90, history=True)
        s.rollback()
    expected_rows = expected_positive = 0
    for day in days:
        end = day_end(day)
        for churned_at in book.values():
            if churned_at is not None and churned_at < end:
                continue  # gone by then
            expected_rows += 1
            expected_positive += churned_at is not None and churned_at < end + dt.timedelta(days=90)
    assert len(seen.frame) == expected_rows
    assert int(seen.labels.sum()) == expected_positive
    # Every customer's usage in 28 days, read back against the events.
    index = seen.features.numeric.index("events_28d")
    assert np.nanmax(seen.frame.numeric[:, index]) > 0


def test_features_as_of_a_day_ignore_what_came_after_it(engine, admin, book):
    day = TODAY - dt.timedelta(days=120)

    def columns():
        with transaction(engine) as s, usage_range(s, [], [day], window=feats.LOOK_BACK_DAYS) as usage:
            got = snapshot.day_frame(s, admin, day, scorecard=None, usage=usage, event_names=["login"])
            s.rollback()
            return got

    # An invoice due ten days before the day and unpaid on it: late, and
    # overdue. That it is paid the week after changes nothing on the day.
    with transaction(engine) as s:
        first = s.scalar(sa.select(Customer.id).where(Customer.external_id == "K100"))
        s.add(
            Invoice(
                external_id="i1",
                customer_id=first,
                amount=100,
                issued_on=day - dt.timedelta(days=40),
                due_on=day - dt.timedelta(days=10),
            )
        )
        # Touchpoint sentiment: +0.6 sixty days before the day, -0.4 and
        # -0.2 in its last 30 days: 90-day mean 0, trend -0.3 - 0.6 = -0.9.
        # A ticket opened in the 90 days at -0.5.
        for n, (days_before, score) in enumerate(((60, 0.6), (20, -0.4), (5, -0.2))):
            s.add(
                Touchpoint(
                    external_id=f"tp{n}",
                    customer_id=first,
                    touchpoint_type=TouchpointType.CALL,
                    subject="s",
                    sentiment_score=score,
                    occurred_at=day_end(day) - dt.timedelta(days=days_before),
                )
            )
        s.add(
            SupportTicket(
                external_id="t0",
                customer_id=first,
                opened_at=day_end(day) - dt.timedelta(days=10),
                sentiment_score=-0.5,
            )
        )
    before = columns()
    row = int(np.flatnonzero(before.customer == first)[0])
    assert before.columns["late_invoices_180d"][row] == 1 and before.columns["overdue_invoices"][row] == 1
    assert before.columns["sentiment_90d"][row] == pytest.approx(0.0)
    assert before.columns["sentiment_trend"][row] == pytest.approx(-0.9)
    assert before.columns["ticket_sentiment_90d"][row] == pytest.approx(-0.5)
    later = day_end(day) + dt.timedelta(hours=1)
    with transaction(engine) as s:
        s.execute(sa.update(Invoice).values(paid_on=day + dt.timedelta(days=7)))
        s.add(UsageEvent(customer_id=first, event_name="login", occurred_at=later))
        s.add(NpsResponse(external_id="n1", customer_id=first, score=0, responded_at=later))
        s.add(
            SupportTicket(
                external_id="t1", customer_id=first, opened_at=later, escalated=True, escalated_at=later
            )
        )
    after = columns()
    assert np.array_equal(before.customer, after.customer)
    for name, values in before.columns.items():
        assert np.array_equal(values, after.columns[name], equal_nan=True), name


def test_the_model_learns_the_decline_and_beats_the_baselines(engine, admin, book):
    with transaction(engine) as s:
        days, history = _days(s)
        trained = train(s, admin, None, days=days, history=history, horizon_days=90, every_days=30)
        model_id = store.save(s, admin, trained, scorecard=None, now=NOW)
    report = trained.report
    assert report.method == "time split" and len(report.test_days) == 3
    assert report.model.auc > 0.85 and report.model.low < report.model.auc < report.model.high
    assert report.baseline is not None and report.model.auc >= report.baseline.auc - 0.02
    assert 0 <= report.brier < report.brier_base_rate
    assert sum(b.observations for b in report.calibration) == report.test_observations
    assert report.top_decile_lift > 2
    with transaction(engine) as s:
        row = s.get(PredictionModel, model_id)
        assert row.active and row.content[:2] == b"PK"  # a skops zip, not a pickle
        assert row.versions["scikit-learn"] != "unknown"
        assert store.load(s).id == model_id


@pytest.mark.slow  # a whole training run (10-20 s): in the slow suite, which CI runs
def test_shuffled_labels_learn_nothing(engine, admin, book):
    with transaction(engine) as s:
        days, history = _days(s)
        trained = train(
            s, admin, None, days=days, history=history, horizon_days=90, every_days=30, shuffle=True
        )
        s.rollback()
    assert trained.report.shuffled
    assert abs(trained.report.model.auc - 0.5) < 0.15


def test_predict_writes_current_and_history_and_explain_adds_up(engine, admin, book):
    with transaction(engine) as s:
        days, history = _days(s)
        trained = train(s, admin, None, days=days, history=history, horizon_days=90, every_days=30)
        store.save(s, admin, trained, scorecard=None, now=NOW)
        active = [i for i, (ext, at) in enumerate(book.items()) if at is None or at.date() > TODAY]
        ids = dict(s.execute(sa.select(Customer.external_id, Customer.id)).all())
        scored = list(book)[active[0]]
        # One customer has a health score as of today and a history row.
        s.add(HealthScore(customer_id=ids[scored], overall_score=50, as_of=TODAY))
        s.add(HealthScoreHistory(customer_id=ids[scored], overall_score=50, as_of=TODAY))
    with transaction(engine) as s:
        result = predict(s, admin, as_of=TODAY, now=NOW)
    assert result.predicted == len(active) and result.written == 1 and result.unscored == len(active) - 1
    with transaction(engine) as s:
        current = s.scalar(sa.select(HealthScore.churn_probability))
        past = s.scalar(sa.select(HealthScoreHistory.churn_probability))
        assert current is not None and 0 <= current <= 1 and past == current
        got = explain(s, admin, scored, as_of=TODAY)
        loaded = store.load(s)
        usual_p = _usual_probability(loaded)
        s.rollback()
    assert got.probability == pytest.approx(current)
    # The drivers are the Shapley shares of p - p(usual customer): they add up.
    assert got.usual == pytest.approx(usual_p)
    assert sum(d.effect for d in got.drivers) == pytest.approx(got.probability - got.usual, abs=1e-9)
    assert [abs(d.effect) for d in got.drivers] == sorted((abs(d.effect) for d in got.drivers), reverse=True)
    # The Customer 360 shows the biggest three.
    with transaction(engine) as s:
        view = customer_360(s, admin, scored, as_of=TODAY)
        s.rollback()
    shown = [d for d in got.drivers if abs(d.effect) >= 0.005][:3]
    assert view.churn_probability == pytest.approx(current) and view.churn_drivers == shown


def _usual_probability(loaded) -> float:
    features = loaded.features
    row = [loaded.reference.get(n) for n in features.numeric]
    frame = feats.Frame(
        np.zeros(1, dtype=np.int64),
        np.zeros(1, dtype=np.int64),
        np.array([[np.nan if v is None else v for v in row]], dtype=float),
        [[loaded.reference.get(n)] for n in features.categorical],
    )
    from cs_cli.services.churn.predict import probabilities

    return float(probabilities(loaded, frame)[0])


def test_a_declining_customer_is_explained_by_its_usage(engine, admin):
    write_book(engine)
    with transaction(engine) as s:
        days, history = _days(s)
        trained = train(s, admin, None, days=days, history=history, horizon_days=90, every_days=30)
        store.save(s, admin, trained, scorecard=None, now=NOW)
        # A customer fading now, like the churners did.
        c = Customer(external_id="FADING", name="Fading", contract_start=START, seats=10)
        s.add(c)
        s.flush()
        s.execute(
            sa.insert(UsageEvent),
            [
                {
                    "customer_id": c.id,
                    "event_name": "login",
                    "occurred_at": dt.datetime.combine(
                        TODAY - dt.timedelta(days=d), dt.time(10), tzinfo=dt.UTC
                    ),
                }
                for d in range(80, 200, 2)
            ],
        )
    with transaction(engine) as s:
        got = explain(s, admin, "FADING", as_of=TODAY)
        loaded = store.load(s)
        s.rollback()
    assert got.probability > loaded.report.base_rate
    assert got.drivers[0].feature == "usage" and got.drivers[0].effect > 0
    assert got.drivers[0].value == "0"


def test_too_few_churns_is_refused_with_what_is_needed(engine, admin):
    write_book(engine, customers=60, churners=4)
    with transaction(engine) as s:
        days, history = _days(s)
        with pytest.raises(BadInput, match=r"too little to learn from: .* at least 19 of each"):
            train(s, admin, None, days=days, history=history, horizon_days=90, every_days=30)
        assert s.scalar(sa.select(sa.func.count()).select_from(PredictionModel)) == 0


def test_a_book_with_no_history_learns_from_attributes_and_says_so(engine, admin):
    rng = random.Random(1)
    with transaction(engine) as s:
        for i in range(300):
            monthly = rng.random() < 0.5
            churned = rng.random() < (0.45 if monthly else 0.08)
            s.add(
                Customer(
                    external_id=f"T{i}",
                    name=f"T{i}",
                    status=CustomerStatus.CHURNED if churned else CustomerStatus.ACTIVE,
                    attributes={
                        "contract": "monthly" if monthly else "two_year",
                        "charges": rng.uniform(20, 110),
                    },
                )
            )
    with transaction(engine) as s:
        days, history = plan_days(s, since=None, until=None, every_days=30, horizon_days=90, today=TODAY)
        assert (days, history) == ([TODAY], False)
        trained = train(s, admin, None, days=days, history=history, horizon_days=90, every_days=30)
        s.rollback()
    report = trained.report
    assert "no dated history" in report.method and report.observations == 300
    assert "attr:contract" in trained.features.categorical and "attr:charges" in trained.features.numeric
    assert report.model.auc > 0.7


def test_an_attribute_both_number_and_text_is_refused(engine, admin):
    with transaction(engine) as s:
        for i in range(40):
            s.add(
                Customer(
                    external_id=f"M{i}",
                    name=f"M{i}",
                    status=CustomerStatus.CHURNED if i % 2 else CustomerStatus.ACTIVE,
                    attributes={"employees": "many" if i == 7 else i * 10},
                )
            )
    with (
        transaction(engine) as s,
        pytest.raises(BadInput, match="attribute 'employees' is a number in some customers and text"),
    ):
        train(s, admin, None, days=[TODAY], history=False, horizon_days=90, every_days=30)


def test_a_model_file_asking_for_untrusted_types_is_not_loaded(engine, admin, book):
    import os

    import skops.io
    from sklearn.preprocessing import FunctionTransformer

    with transaction(engine) as s:
        days, history = _days(s)
        trained = train(s, admin, None, days=days, history=history, horizon_days=90, every_days=30)
        model_id = store.save(s, admin, trained, scorecard=None, now=NOW)
        # Someone swaps the file for one that calls os.getcwd when used.
        s.execute(
            sa.update(PredictionModel)
            .where(PredictionModel.id == model_id)
            .values(content=skops.io.dumps(FunctionTransformer(func=os.getcwd)))
        )
    with transaction(engine) as s:
        with pytest.raises(BadInput, match=r"holds types cs does not load: .*getcwd"):
            store.load(s)
        s.execute(
            sa.update(PredictionModel).where(PredictionModel.id == model_id).values(schema_revision="0001")
        )
        with pytest.raises(BadInput, match="trained on schema 0001"):
            store.load(s)
        s.rollback()


def test_no_active_model_is_not_found(engine, admin):
    with transaction(engine) as s, pytest.raises(NotFound, match="no active churn model"):
        predict(s, admin, as_of=TODAY, now=NOW)


def test_a_snapshot_day_reads_health_from_a_stored_day_of_the_week_before(engine, admin, book):
    from cs_cli.services.health.history import day_health
    from cs_cli.services.health.recalc import recalc_days, target_ids
    from cs_cli.specs.scorecard import load_scorecard, load_scorecards

    stored = TODAY - dt.timedelta(days=40)
    wanted = stored + dt.timedelta(days=3)
    with transaction(engine) as s:
        recalc_days(s, admin, load_scorecards(None), target_ids(s, admin, None), days=[stored], now=NOW)
        # A mark only the stored row can carry.
        s.execute(
            sa.update(HealthScoreHistory).where(HealthScoreHistory.as_of == stored).values(overall_score=7)
        )
    card = load_scorecard(None)
    with transaction(engine) as s:
        weekly = day_health(s, admin, card, wanted, None, stale_days=6)
        fresh = day_health(s, admin, card, wanted, None)
        too_old = day_health(s, admin, card, wanted + dt.timedelta(days=7), None, stale_days=6)
        s.rollback()
    assert weekly and {v[0] for v in weekly.values()} == {7.0}
    assert 7.0 not in {v[0] for v in fresh.values()}
    assert 7.0 not in {v[0] for v in too_old.values()}
