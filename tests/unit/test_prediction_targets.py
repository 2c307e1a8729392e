"""Expansion and NPS prediction on a book whose expansions and responses are
known: labels worked out by hand, customers without ARR left out, models
that beat their baselines, predictions written into the health score
columns the plan names, and refusals that say why. Both dialects."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import sqlalchemy as sa
from fixtures.growth_book import NOW, RISE, TODAY, write_book

from cs_cli.db.engine import transaction
from cs_cli.db.models import Customer, HealthScore
from cs_cli.errors import BadInput, NotFound
from cs_cli.services.churn import store
from cs_cli.services.churn.predict import explain, predict
from cs_cli.services.churn.targets import EXPANSION, NPS
from cs_cli.services.churn.train import observations, plan_days, train
from cs_cli.services.facts import day_end

HORIZON = dt.timedelta(days=90)


@pytest.fixture
def book(engine):
    return write_book(engine)


def _days(session):
    return plan_days(session, since=None, until=None, every_days=30, horizon_days=90, today=TODAY)


def _ids(session) -> dict[int, str]:
    return dict(session.execute(sa.select(Customer.id, Customer.external_id)).all())


def test_expansion_labels_count_as_worked_out_by_hand(engine, admin, book):
    with transaction(engine) as s:
        days, history = _days(s)
        seen = observations(s, admin, None, days=days, horizon_days=90, history=True, target=EXPANSION)
        ids = _ids(s)
        s.rollback()
    assert history
    expected = {}
    for index, day in enumerate(days):
        end = day_end(day)
        for ext, grown in book.items():
            if grown.arr is None:
                continue  # no ARR: nothing to expand from
            expected[(ext, index)] = grown.grew_at is not None and end <= grown.grew_at < end + HORIZON
    got = {
        (ids[c], d): bool(label)
        for c, d, label in zip(
            seen.frame.customer.tolist(), seen.frame.day.tolist(), seen.labels.tolist(), strict=True
        )
    }
    assert got == expected
    assert sum(got.values()) > 20


def test_an_expansion_is_measured_from_the_arr_on_the_day(engine, admin, book):
    """A customer that already grew is not counted again; a rise smaller than
    the share is not an expansion."""
    with transaction(engine) as s:
        days, _ = _days(s)
        ids = _ids(s)
        big = observations(
            s,
            admin,
            None,
            days=days,
            horizon_days=90,
            history=True,
            target=EXPANSION,
            share=float(RISE) - 0.99,
        )
        s.rollback()
    # Asking for more than the 30% rise: nobody expanded.
    assert len(big.labels) and big.labels.sum() == 0
    assert all(book[ids[c]].arr is not None for c in big.frame.customer.tolist())


def test_nps_labels_are_the_next_response_and_the_baseline_the_last(engine, admin, book):
    with transaction(engine) as s:
        days, _ = _days(s)
        seen = observations(s, admin, None, days=days, horizon_days=90, history=True, target=NPS)
        ids = _ids(s)
        s.rollback()
    expected = {}
    for index, day in enumerate(days):
        end = day_end(day)
        for ext, grown in book.items():
            after = [score for at, score in grown.responses if end <= at < end + HORIZON]
            before = [score for at, score in grown.responses if at < end]
            if after:
                expected[(ext, index)] = (after[0], before[-1] if before else None)
    got = {
        (ids[c], d): (int(label), None if np.isnan(last) else int(last))
        for c, d, label, last in zip(
            seen.frame.customer.tolist(),
            seen.frame.day.tolist(),
            seen.labels.tolist(),
            seen.last.tolist(),
            strict=True,
        )
    }
    assert got == expected


@pytest.mark.slow  # long: runs in `-m slow` (README, Development)
def test_the_models_learn_beat_their_baselines_and_write_their_columns(engine, admin, book):
    with transaction(engine) as s:
        days, _ = _days(s)
        grew = train(
            s, admin, None, days=days, history=True, horizon_days=90, every_days=30, target=EXPANSION
        )
        said = train(s, admin, None, days=days, history=True, horizon_days=90, every_days=30, target=NPS)
        assert grew.report.target == "expansion" and grew.report.expansion_share == 0.1
        # The climb before each rise is learned, better than the events and tenure baseline.
        assert grew.report.model.auc > 0.7
        assert grew.report.model.auc > grew.report.baseline.auc
        # The next response follows usage: the model misses by less than "same as last".
        report = said.report
        assert report.target == "nps" and report.model.low <= report.model.mae <= report.model.high
        assert report.model_on_last.mae < report.same_as_last.mae
        assert report.model.mae < report.book_mean.mae
        assert (
            report.same_as_last.observations == report.model_on_last.observations <= report.test_observations
        )
        grew_id = store.save(s, admin, grew, scorecard=None, now=NOW)
        said_id = store.save(s, admin, said, scorecard=None, now=NOW)
        # Each target has its own active model; churn has none.
        assert store.active_id(s, "expansion") == grew_id and store.active_id(s, "nps") == said_id
        assert store.active_id(s, "churn") is None
        with pytest.raises(NotFound, match="no expansion model 99"):
            store.activate(s, admin, 99, now=NOW, target="expansion")
        with pytest.raises(NotFound, match=f"no churn model {grew_id}"):
            store.activate(s, admin, grew_id, now=NOW, target="churn")

        ids = _ids(s)
        s.execute(
            sa.insert(HealthScore), [{"customer_id": c, "overall_score": 50, "as_of": TODAY} for c in ids]
        )
        grown = predict(s, admin, as_of=TODAY, now=NOW, target="expansion")
        nps = predict(s, admin, as_of=TODAY, now=NOW, target="nps")
        rows = s.execute(
            sa.select(
                HealthScore.customer_id,
                HealthScore.expansion_probability,
                HealthScore.nps_predicted,
                HealthScore.churn_probability,
            )
        ).all()
        with_arr = {c for c, ext in ids.items() if book[ext].arr is not None}
        assert grown.predicted == len(with_arr) and nps.predicted == len(ids)
        assert {r.customer_id for r in rows if r.expansion_probability is not None} == with_arr
        assert all(0 < r.expansion_probability < 1 for r in rows if r.customer_id in with_arr)
        assert all(isinstance(r.nps_predicted, int) and 0 <= r.nps_predicted <= 10 for r in rows)
        assert all(r.churn_probability is None for r in rows)

        # Drivers in points of NPS add up to the prediction minus the usual one.
        ext = next(e for e, g in book.items() if g.arr is not None)
        why = explain(s, admin, ext, as_of=TODAY, target="nps")
        assert why.target == "nps" and why.base_rate is None
        assert sum(d.effect for d in why.drivers) == pytest.approx(why.probability - why.usual, abs=1e-6)
        no_arr = next(e for e, g in book.items() if g.arr is None)
        with pytest.raises(NotFound, match="is not an active customer with ARR on"):
            explain(s, admin, no_arr, as_of=TODAY, target="expansion")
        s.rollback()


def test_too_little_to_learn_says_how_much_is_needed(engine, admin, book):
    with transaction(engine) as s:
        days, _ = _days(s)
        # A share nobody reached: no expansion to learn from.
        with pytest.raises(BadInput, match=r"too little to learn from: 0 expanded and \d+ did not"):
            train(
                s,
                admin,
                None,
                days=days,
                history=True,
                horizon_days=90,
                every_days=30,
                target=EXPANSION,
                share=2.0,
            )
        # No dated history: expansion and NPS cannot be learned at all.
        with pytest.raises(BadInput, match="expansion is learned from the book's dated history"):
            train(
                s, admin, None, days=[TODAY], history=False, horizon_days=90, every_days=30, target=EXPANSION
            )
        s.rollback()
