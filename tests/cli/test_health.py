"""`cs recalc` and `cs health` as a user runs them, on the demo book."""

from __future__ import annotations

import json

import pytest

AS_OF = "2026-06-30"


@pytest.fixture
def demo(run_cli):
    # Unscored: these tests score it themselves.
    result = run_cli("demo", "--customers", "40", "--months", "4", "--no-score", "--as-of", AS_OF)
    assert result.exit_code == 0, result
    assert "Scored health" not in result.stderr + result.stdout
    return result


def test_recalc_scores_the_demo_book_with_a_spread_of_statuses(run_cli, demo):
    result = run_cli("recalc", "--as-of", AS_OF)
    assert result.exit_code == 0, result
    assert result.stdout == ""
    summary = result.stderr.strip().splitlines()[-1]
    assert summary.startswith("scored 40 customer-days as of 2026-06-30:")
    listed = json.loads(run_cli("health", "list", "--all", "--include-churned", "--format", "json").stdout)
    assert len(listed) == 40
    # By default the churned are left out of the worst-first list.
    live = json.loads(run_cli("health", "list", "--all", "--format", "json").stdout)
    assert live == [row for row in listed if row["health_status"] != "churned"] and len(live) < 40
    churned = json.loads(run_cli("health", "list", "--status", "churned", "--format", "json").stdout)
    assert {row["health_status"] for row in churned} == {"churned"} and len(churned) == 40 - len(live)
    statuses = {row["health_status"] for row in listed}
    assert {"healthy", "churned"} <= statuses and statuses & {"at_risk", "critical"}
    scores = [row["overall_score"] for row in listed]
    assert scores == sorted(scores)  # worst first
    for status in ("healthy", "at risk", "critical", "churned"):
        count = sum(1 for row in listed if row["health_status"] == status.replace(" ", "_"))
        assert f"{count} {status}" in summary


def test_show_explains_a_score_in_checkable_numbers(run_cli, demo):
    run_cli("recalc", "--as-of", AS_OF)
    worst = json.loads(run_cli("health", "list", "-n", "1", "--format", "json").stdout)[0]
    detail = json.loads(run_cli("health", "show", worst["external_id"], "--format", "json").stdout)
    e = detail["explanation"]
    assert detail["overall_score"] == worst["overall_score"]
    # The points of the components add up to the base; multipliers give the score.
    assert sum(e["contributions"].values()) == pytest.approx(e["base"], abs=0.05)
    expected = e["base"]
    for _name, factor, _label in e["multipliers"]:
        expected *= factor
    assert detail["overall_score"] == int(expected + 1e-9) or abs(detail["overall_score"] - expected) < 1
    table = run_cli("health", "show", worst["external_id"])
    assert table.exit_code == 0
    assert "points before multipliers" in table.stdout and "feature_breadth" in table.stdout
    # In words and readable numbers, as the listings: "at risk", ARR 281,000 (not 2.81e+05).
    word = detail["health_status"].replace("_", " ")
    assert f"{word}" in table.stdout.splitlines()[1] and "_" not in table.stdout.splitlines()[1]
    arr = next(m for m in e["measures"].items() if m[0] == "contract_value")[1]["raw"]
    if arr is not None and arr >= 1000:
        assert f"{arr:,.0f}" in table.stdout and "e+0" not in table.stdout


def test_history_backfill_and_sparkline(run_cli, demo):
    # 31 days, so that the last one has a score 30 days before it.
    result = run_cli("recalc", "--from", "2026-05-31", "--to", "2026-06-30")
    assert result.exit_code == 0, result
    assert "as of 2026-05-31 to 2026-06-30 (31 days)" in result.stderr
    some = json.loads(run_cli("health", "list", "-n", "1", "--format", "json").stdout)[0]
    assert some["score_change_30d"] is not None
    history = run_cli("health", "history", some["external_id"])
    assert history.exit_code == 0
    assert "from 2026-05-31 to 2026-06-30 (31 scores)" in history.stderr
    rows = json.loads(run_cli("health", "history", some["external_id"], "--format", "json").stdout)
    assert [r["as_of"] for r in rows][:2] == ["2026-05-31", "2026-06-01"] and len(rows) == 31
    past = json.loads(
        run_cli("health", "show", some["external_id"], "--as-of", "2026-06-15", "--format", "json").stdout
    )
    assert past["as_of"] == "2026-06-15" and past["overall_score"] == rows[15]["overall_score"]
    assert some["score_change_30d"] == rows[-1]["overall_score"] - rows[0]["overall_score"]


def test_bad_input(run_cli, demo, tmp_path):
    unknown = run_cli("recalc", "--customer", "NOPE", "--as-of", AS_OF)
    assert unknown.exit_code == 2 and "no customer 'NOPE'" in unknown.stderr
    bad = tmp_path / "card.yaml"
    bad.write_text("name: x\nweights: {adoption: 90}\ncomponents: {}\n")
    card = run_cli("recalc", "--scorecard", bad, "--as-of", AS_OF)
    assert card.exit_code == 2
    assert card.stderr.startswith(f"error: {bad}:2:1: weights: weights must sum to 100, not 90")
    half = run_cli("recalc", "--from", "2026-06-01")
    assert half.exit_code == 2 and "--from and --to go together" in half.stderr
    not_scored = run_cli("health", "show", "C-00001")
    assert not_scored.exit_code == 4 and "no health score yet" in not_scored.stderr


def test_dry_run_prints_scores_and_writes_nothing(run_cli, demo):
    result = run_cli("recalc", "--as-of", AS_OF, "--dry-run", "--format", "csv")
    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "external_id,score,status" and len(lines) == 41
    assert "would score 40" in result.stderr
    assert json.loads(run_cli("health", "list", "--format", "json").stdout) == []


def test_distribution_and_components(run_cli, demo):
    run_cli("recalc", "--as-of", AS_OF)
    listed = json.loads(run_cli("health", "list", "--all", "--include-churned", "--format", "json").stdout)
    rows = json.loads(run_cli("health", "distribution", "--format", "json").stdout)
    assert [r["health_status"] for r in rows] == [
        "healthy",
        "at_risk",
        "critical",
        "churned",
        "onboarding",
        "insufficient_data",
    ]
    for row in rows:
        assert row["customers"] == sum(1 for c in listed if c["health_status"] == row["health_status"])
    assert sum(r["customers"] for r in rows) == 40
    some = listed[-1]
    parts = json.loads(run_cli("health", "components", some["external_id"], "--format", "json").stdout)
    assert [p["component"] for p in parts] == [
        "adoption",
        "engagement",
        "relationship",
        "financial",
        "support",
    ]
    assert parts[0]["score"] == some["product_adoption_score"]
    present = [p for p in parts if not p["missing"]]
    assert sum(p["points"] for p in present) == pytest.approx(
        json.loads(run_cli("health", "show", some["external_id"], "--format", "json").stdout)["explanation"][
            "base"
        ],
        abs=0.05,
    )


def test_an_override_is_shown_everywhere_and_survives_recalc(run_cli, demo, session):
    import sqlalchemy as sa

    from cs_cli.db.models import Customer, User

    run_cli("recalc", "--as-of", AS_OF)
    listed = json.loads(run_cli("health", "list", "--all", "--format", "json").stdout)
    target = next(r for r in listed if r["health_status"] == "healthy")
    ext = target["external_id"]
    result = run_cli(
        "health", "override", ext, "42", "--reason", "CFO says budget is cut", "--until", "2099-01-31"
    )
    assert result.exit_code == 0, result
    assert f"{ext} shows 42 (critical) as an override until 2099-01-31" in result.stderr
    for _ in range(2):  # before and after another recalculation
        critical = json.loads(
            run_cli("health", "list", "--status", "critical", "--all", "--format", "json").stdout
        )
        row = next(r for r in critical if r["external_id"] == ext)
        assert row["overall_score"] == 42 and row["overridden"] is True
        shown = json.loads(run_cli("health", "show", ext, "--format", "json").stdout)
        assert shown["override"]["reason"] == "CFO says budget is cut"
        assert shown["overall_score"] == target["overall_score"]  # the computed score goes on
        run_cli("recalc", "--as-of", AS_OF)
    assert run_cli("health", "override", ext, "--clear").exit_code == 0
    again = json.loads(run_cli("health", "list", "--all", "--format", "json").stdout)
    assert next(r for r in again if r["external_id"] == ext)["overridden"] is False
    assert run_cli("health", "override", ext, "--clear").exit_code == 4
    # A CSM may not override a customer of someone else.
    owner = session.scalar(sa.select(Customer.csm_id).where(Customer.external_id == ext))
    other = session.scalar(sa.select(User.login).where(User.role == "csm", User.id != owner).limit(1))
    denied = run_cli("health", "override", ext, "10", "--reason", "x", "--until", "2099-01-01", user=other)
    assert denied.exit_code == 4 and "that you can see" in denied.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["45"], "give a SCORE, --reason and --until"),
        (["45", "--reason", " ", "--until", "2099-01-01"], "an override needs a reason"),
        (["45", "--reason", "x", "--until", "2000-01-01"], "--until must be after"),
        (["101", "--reason", "x", "--until", "2099-01-01"], "Invalid value for 'score'"),
    ],
)
def test_override_bad_input(run_cli, demo, args, message):
    result = run_cli("health", "override", "C-00001", *args)
    assert result.exit_code == 2 and message in result.stderr, result
