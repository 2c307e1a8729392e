"""Several scorecards, assigned by rule: the first rule a customer matches
picks its scorecard, the default scores the rest; bad files say where."""

from __future__ import annotations

import shutil
from pathlib import Path

import sqlalchemy as sa

from cs_cli.db.models import Customer, HealthScoreHistory
from cs_cli.specs.scorecard import load_scorecard

FIXTURES = Path(__file__).parent.parent / "fixtures"
AS_OF = "2025-01-10"


def _versions(engine) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(Customer.external_id, HealthScoreHistory.scorecard_version).join(
                Customer, Customer.id == HealthScoreHistory.customer_id
            )
        )
        return dict(rows.all())


def test_each_customer_is_scored_by_the_first_matching_scorecard(run_cli, engine, book, tmp_path):
    shutil.copy(FIXTURES / "simple_scorecard.yaml", tmp_path / "simple.yaml")
    assignment = tmp_path / "scorecards.yaml"
    assignment.write_text(
        "default: shipped\n"
        "assign:\n"
        "  - name: enterprise\n"
        "    scorecard: simple.yaml\n"
        "    when: {plan: enterprise, status: active}\n"
    )
    result = run_cli("recalc", "--scorecard", str(assignment), "--as-of", AS_OF)
    assert result.exit_code == 0, result
    assert "scored 4 customer-days" in result.stderr and "3 without any data" in result.stderr
    simple = load_scorecard(tmp_path / "simple.yaml").version
    shipped = load_scorecard().version
    assert simple != shipped
    expected = {"E-1": simple, "E-3": simple, "W-2": simple, "E-2": shipped, "M-1": shipped, "W-1": shipped}
    scored = _versions(engine)
    assert len(scored) == 4 and set(scored.values()) == {simple, shipped}
    assert scored == {k: v for k, v in expected.items() if k in scored}
    # One customer alone goes by the same rules.
    again = run_cli(
        "recalc", "--scorecard", str(assignment), "--as-of", AS_OF, "--customer", "M-1", "--dry-run"
    )
    assert again.exit_code == 0, again
    assert "would score 1 customer-days" in again.stderr


def test_a_bad_assignment_file_says_where(run_cli, book, tmp_path):
    assignment = tmp_path / "scorecards.yaml"
    assignment.write_text(
        "assign:\n  - name: big\n    scorecard: shipped\n    when:\n      arr: {gte: lots}\n"
    )
    result = run_cli("recalc", "--scorecard", str(assignment))
    assert result.exit_code == 2
    assert f"{assignment}:5" in result.stderr and "assign.0.when.arr.gte: arr is a number" in result.stderr

    assignment.write_text("assign:\n  - name: big\n    scorecard: missing.yaml\n    when: {plan: pro}\n")
    result = run_cli("recalc", "--scorecard", str(assignment))
    assert result.exit_code == 2
    assert f"{assignment}:3" in result.stderr and "no scorecard file 'missing.yaml'" in result.stderr

    assignment.write_text("assign: []\n")
    result = run_cli("recalc", "--scorecard", str(assignment))
    assert result.exit_code == 2 and "assign" in result.stderr


def test_the_picks_hold_while_scores_change(engine, book, admin, tmp_path):
    """A rule on health picks by the score before the recalculation: scoring
    one group writes new scores, and that must not move anyone between
    groups halfway through (they would be scored twice)."""
    import datetime as dt

    from cs_cli.db.engine import transaction
    from cs_cli.db.models import HealthScore
    from cs_cli.services.health.recalc import scorecard_groups, target_ids
    from cs_cli.specs.scorecard import load_scorecards

    shutil.copy(FIXTURES / "simple_scorecard.yaml", tmp_path / "simple.yaml")
    assignment = tmp_path / "scorecards.yaml"
    assignment.write_text(
        "assign:\n  - name: low\n    scorecard: simple.yaml\n    when: {health_score: {lt: 60}}\n"
    )
    plan = load_scorecards(assignment)

    def members(session, group) -> set[str]:
        return set(session.scalars(sa.select(Customer.external_id).where(group.only)))

    with transaction(engine) as s:
        groups = scorecard_groups(s, admin, plan, target_ids(s, admin, None), as_of=dt.date(2025, 1, 10))
        assert [(g.rule, g.count) for g in groups] == [("low", 2), (None, 5)]
        before = [members(s, g) for g in groups]
        assert before[0] == {"M-1", "W-1"}
        # What scoring the first group does: M-1 and W-1 now score 75.
        s.execute(sa.update(HealthScore).values(overall_score=75))
        assert [members(s, g) for g in groups] == before
