"""`cs churn` as a user drives it: train, models, show, activate, predict,
explain and the churn-predict job, their output and their refusals. Both
dialects."""

from __future__ import annotations

import json

import pytest
from fixtures.churn_book import TODAY, write_book

AS_OF = ("--as-of", TODAY.isoformat())


@pytest.fixture
def book(engine):
    return write_book(engine, customers=90, churners=27)


@pytest.mark.slow  # a whole training run (10-20 s): in the slow suite, which CI runs
def test_train_then_predict_then_explain(run_cli, book):
    result = run_cli("churn", "train", *AS_OF, "--format", "json")
    assert result.exit_code == 0, result
    report = json.loads(result.stdout)
    assert report["model_id"] == 1 and report["method"] == "time split"
    assert report["model"]["auc"] > 0.8 and len(report["calibration"]) == 10

    table = run_cli("churn", "show")
    assert table.exit_code == 0, table
    assert "churn model (" in table.stdout and "baseline: 28-day events + tenure" in table.stdout
    assert "calibration" in table.stdout and "tested out of time on" in table.stderr
    assert all(len(line) <= 80 for line in table.stdout.splitlines()), table.stdout

    # A second model is stored but not active until asked.
    again = run_cli("churn", "train", *AS_OF, "--horizon", "60d")
    assert again.exit_code == 0, again
    assert "stored as churn model 2 (not active: cs churn activate 2)" in again.stderr
    listed = json.loads(run_cli("churn", "models", "--format", "json").stdout)
    assert [(m["id"], m["active"], m["horizon_days"]) for m in listed] == [(2, False, 60), (1, True, 90)]
    assert run_cli("churn", "activate", "2").exit_code == 0
    assert run_cli("churn", "activate", "9").exit_code == 4

    predicted = run_cli("churn", "predict", *AS_OF, "--format", "json")
    assert predicted.exit_code == 0, predicted
    counts = json.loads(predicted.stdout)
    alive = sum(1 for at in book.values() if at is None or at.date() > TODAY)
    assert counts["model_id"] == 2 and counts["predicted"] == alive
    # No health scores yet: nothing to write into, and the message says so.
    assert counts["written"] == 0 and counts["unscored"] == alive
    said = run_cli("churn", "predict", *AS_OF)
    assert "have no health score yet (cs recalc)" in said.stderr

    ext = next(e for e, at in book.items() if at is None)
    explained = run_cli("churn", "explain", ext, *AS_OF)
    assert explained.exit_code == 0, explained
    assert "churn probability" in explained.stdout and "a usual customer's" in explained.stdout
    assert all(len(line) <= 80 for line in explained.stdout.splitlines()), explained.stdout
    drivers = json.loads(run_cli("churn", "explain", ext, *AS_OF, "--format", "json").stdout)["drivers"]
    assert {d["feature"] for d in drivers} >= {"usage", "tenure"}

    missing = run_cli("churn", "explain", "NOPE", *AS_OF)
    assert missing.exit_code == 4 and "no customer 'NOPE'" in missing.stderr
    gone = next(e for e, at in book.items() if at is not None)
    churned = run_cli("churn", "explain", gone, *AS_OF)
    assert churned.exit_code == 4 and "is not an active customer on" in churned.stderr


def test_the_nightly_job_predicts_once_a_model_is_trained(run_cli, book, tmp_path):
    log = tmp_path / "jobs.log"

    def last_counts() -> dict:
        result = run_cli("run", "churn-predict", *AS_OF, "--force", "--log-format", "json", "--log-file", log)
        assert result.exit_code == 0, result
        return json.loads(log.read_text(encoding="utf-8").splitlines()[-1])["counts"]

    assert "no active churn model" in str(last_counts())
    assert run_cli("churn", "predict", *AS_OF).exit_code == 4
    assert run_cli("churn", "train", *AS_OF).exit_code == 0
    counts = last_counts()
    assert counts["model_id"] == 1 and counts["predicted"] > 0


def test_too_little_to_learn_from_exits_2_and_stores_nothing(run_cli, engine):
    write_book(engine, customers=50, churners=3)
    result = run_cli("churn", "train", *AS_OF)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: too little to learn from:")
    assert len(result.stderr.strip().splitlines()) <= 2
    assert run_cli("churn", "models", "--format", "json").stdout.strip() == "[]"


def test_shuffled_labels_come_out_near_chance(run_cli, book):
    result = run_cli("churn", "evaluate", *AS_OF, "--shuffle-labels", "--format", "json")
    assert result.exit_code == 0, result
    report = json.loads(result.stdout)
    assert report["shuffled"] and abs(report["model"]["auc"] - 0.5) < 0.15
    assert json.loads(run_cli("churn", "models", "--format", "json").stdout) == []


def test_an_empty_book_says_so_in_one_line(run_cli, admin):
    trained = run_cli("churn", "train")
    assert trained.exit_code == 2
    assert trained.stderr.strip() == (
        "error: nothing to learn from: no active customers on those days "
        "(cs import customers FILE, or cs demo)"
    )
    judged = run_cli("health", "backtest")
    assert judged.exit_code == 0 and judged.stdout == ""
    assert "no active customers on those days: nothing to judge" in judged.stderr
    assert run_cli("churn", "show").exit_code == 4
    assert run_cli("churn", "explain", "C-1").exit_code == 4


def test_a_jump_in_predicted_churn_raises_the_churn_jump_alert(run_cli, book, engine):
    """The plan's loop closed: predictions a week apart are what the
    churn-jump alert compares. Four customers go quiet nine days before the
    last day; an alert is raised for exactly the customers whose predicted
    probability rose by the rule's 0.15 or more over that week."""
    import datetime as dt

    import sqlalchemy as sa

    from cs_cli.db.engine import transaction
    from cs_cli.db.models import Alert, Customer, HealthScoreHistory, UsageEvent

    week = TODAY - dt.timedelta(days=7)
    week_ago = week.isoformat()
    quiet = [ext for ext, at in book.items() if at is None][:4]
    since = dt.datetime.combine(TODAY - dt.timedelta(days=9), dt.time(), tzinfo=dt.UTC)
    with transaction(engine) as s:
        ids = s.scalars(sa.select(Customer.id).where(Customer.external_id.in_(quiet))).all()
        gone = sa.delete(UsageEvent).where(UsageEvent.customer_id.in_(ids), UsageEvent.occurred_at >= since)
        s.execute(gone)
    for day in (week_ago, TODAY.isoformat()):
        assert run_cli("recalc", "--as-of", day).exit_code == 0
    assert run_cli("churn", "train", *AS_OF).exit_code == 0
    earlier = run_cli("churn", "predict", "--as-of", week_ago)
    assert earlier.exit_code == 0, earlier
    # The current scores are of the last day: only the week-old history takes it.
    alive = sum(1 for at in book.values() if at is None or at.date() > TODAY - dt.timedelta(days=7))
    assert f"{alive} current scores are of a later day (kept; that day's history has it)" in earlier.stderr
    assert "no health score yet" not in earlier.stderr
    assert run_cli("churn", "predict", *AS_OF).exit_code == 0

    with engine.connect() as c:
        h = HealthScoreHistory
        then = dict(c.execute(sa.select(h.customer_id, h.churn_probability).where(h.as_of == week)).all())
        now = dict(c.execute(sa.select(h.customer_id, h.churn_probability).where(h.as_of == TODAY)).all())
        names = dict(c.execute(sa.select(Customer.id, Customer.external_id)).all())
    jumped = {names[cid] for cid, p in now.items() if p is not None and p - then[cid] >= 0.15}
    assert jumped and jumped <= set(quiet), (jumped, quiet)

    checked = run_cli("alerts", "check", *AS_OF)
    assert checked.exit_code == 0, checked
    assert f"churn_jump {len(jumped)}" in checked.stderr
    with engine.connect() as c:
        alerted = c.execute(
            sa.select(Customer.external_id, Alert.title)
            .join(Customer, Customer.id == Alert.customer_id)
            .where(Alert.alert_type == "churn_jump")
        ).all()
    assert {ext for ext, _ in alerted} == jumped
    assert all(title.startswith("Churn risk jumped to ") for _, title in alerted)
