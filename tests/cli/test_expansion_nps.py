"""`cs expansion` and `cs nps` as a user drives them: train, show, models,
predict, explain and the nightly job, their output and their refusals.
Both dialects."""

from __future__ import annotations

import json

import pytest
from fixtures.growth_book import TODAY, write_book

AS_OF = ("--as-of", TODAY.isoformat())


@pytest.fixture
def book(engine):
    return write_book(engine, customers=90, growers=30, no_arr=6)


def _fits(text: str) -> bool:
    return all(len(line) <= 80 for line in text.splitlines())


@pytest.mark.slow  # a whole training run (10-20 s): in the slow suite, which CI runs
def test_expansion_train_predict_explain(run_cli, book, tmp_path):
    trained = run_cli("expansion", "train", *AS_OF, "--share", "20%")
    assert trained.exit_code == 0, trained
    assert "expansion model (" in trained.stdout and "health score" in trained.stdout
    assert "expanded within 90 days (ARR up 20% or more)" in trained.stderr
    assert "stored as expansion model 1 (active)" in trained.stderr
    assert _fits(trained.stdout), trained.stdout
    shown = json.loads(run_cli("expansion", "show", "--format", "json").stdout)
    assert shown["target"] == "expansion" and shown["expansion_share"] == 0.2 and shown["model_id"] == 1
    # Each target lists and activates its own models only.
    assert [m["id"] for m in json.loads(run_cli("expansion", "models", "--format", "json").stdout)] == [1]
    assert json.loads(run_cli("churn", "models", "--format", "json").stdout) == []
    wrong = run_cli("churn", "activate", "1")
    assert wrong.exit_code == 4 and "no churn model 1 (see cs churn models)" in wrong.stderr

    predicted = run_cli("expansion", "predict", *AS_OF)
    assert predicted.exit_code == 0, predicted
    with_arr = sum(1 for g in book.values() if g.arr is not None)
    assert f"predicted {with_arr:,} customers as of {TODAY} with expansion model 1" in predicted.stderr

    grower = max((g.grew_at, e) for e, g in book.items() if g.grew_at is not None and g.arr is not None)[1]
    explained = run_cli("expansion", "explain", grower, *AS_OF)
    assert explained.exit_code == 0, explained
    assert "expansion probability" in explained.stdout and _fits(explained.stdout)

    # The nightly job predicts every target with an active model.
    log = tmp_path / "jobs.log"
    job = run_cli("run", "churn-predict", *AS_OF, "--force", "--log-format", "json", "--log-file", log)
    assert job.exit_code == 0, job
    counts = json.loads(log.read_text(encoding="utf-8").splitlines()[-1])["counts"]
    assert "no active churn model" in counts["note"] and counts["expansion_predicted"] == with_arr


@pytest.mark.slow  # a whole training run (10-20 s): in the slow suite, which CI runs
def test_nps_train_show_predict(run_cli, book):
    trained = run_cli("nps", "train", *AS_OF)
    assert trained.exit_code == 0, trained
    for row in ("nps model", "baseline: same as the last response", "baseline: the book's mean response"):
        assert row in trained.stdout
    assert _fits(trained.stdout), trained.stdout
    report = json.loads(run_cli("nps", "show", "--format", "json").stdout)
    assert report["target"] == "nps" and report["model_on_last"]["mae"] < report["same_as_last"]["mae"]
    csv = run_cli("nps", "show", "--format", "csv").stdout.splitlines()
    assert csv[0] == "predictor,mae,low,high,observations" and len(csv) == 5
    listed = run_cli("nps", "models")
    assert "error" in listed.stdout and _fits(listed.stdout)
    predicted = run_cli("nps", "predict", *AS_OF, "--format", "json")
    assert predicted.exit_code == 0, predicted
    got = json.loads(predicted.stdout)
    assert got["target"] == "nps" and got["predicted"] == len(book) and 0 <= got["mean"] <= 10


def test_refusals(run_cli, book, admin):
    bad = run_cli("expansion", "train", "--share", "lots")
    assert bad.exit_code == 2 and "'lots' is not a share (like 10% or 0.1)" in bad.stderr
    # Only expansion has a share.
    assert run_cli("nps", "train", "--share", "10%").exit_code == 2
    nothing = run_cli("expansion", "train", *AS_OF, "--share", "200%")
    assert nothing.exit_code == 2
    assert "too little to learn from: 0 expanded" in nothing.stderr
    assert json.loads(run_cli("expansion", "models", "--format", "json").stdout) == []
    assert run_cli("nps", "explain", "G001", *AS_OF).exit_code == 4


@pytest.mark.slow  # a whole training run (10-20 s): in the slow suite, which CI runs
def test_the_expansion_journey_enrolls_whom_the_model_picks(run_cli, book, engine):
    """The plan's loop closed: predicted expansion probabilities are what the
    shipped expansion journey's trigger reads."""
    import sqlalchemy as sa

    from cs_cli.db.engine import transaction
    from cs_cli.db.models import HealthScore, Journey, JourneyEnrollment

    assert run_cli("recalc", *AS_OF).exit_code == 0
    assert run_cli("expansion", "train", *AS_OF).exit_code == 0
    assert run_cli("expansion", "predict", *AS_OF).exit_code == 0
    with transaction(engine) as s:
        # A healthy book: the journey also asks for health of 80 or more.
        s.execute(sa.update(HealthScore).values(overall_score=85))
        likely = set(
            s.scalars(sa.select(HealthScore.customer_id).where(HealthScore.expansion_probability >= 0.6))
        )
    assert likely, "the model should find some customers likely to expand"
    assert run_cli("playbooks", "load").exit_code == 0
    assert run_cli("journeys", "load").exit_code == 0
    ticked = run_cli("journeys", "tick", "--as-of", f"{TODAY}T12:00:00", "--no-deliver")
    assert ticked.exit_code == 0, ticked
    with transaction(engine) as s:
        enrolled = set(
            s.scalars(
                sa.select(JourneyEnrollment.customer_id)
                .join(Journey, Journey.id == JourneyEnrollment.journey_id)
                .where(Journey.key == "expansion")
            )
        )
    assert enrolled == likely
