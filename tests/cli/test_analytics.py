"""`cs analytics`: retention, NPS trends, renewals and the health
distribution on a small book whose every figure is worked out by hand in
the comments, through the real command on both dialects."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
import sqlalchemy as sa

from cs_cli.db.models import HealthScoreHistory
from cs_cli.domain import HealthStatus


def _rows(result) -> list[dict]:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_retention_month_by_month_and_over_the_span(run_cli, dated_book):
    rows = _rows(
        run_cli("analytics", "retention", "--from", "2026-01-01", "--to", "2026-02-28", "-f", "json")
    )
    january, february, span = rows
    # January: A, B, C, E active on Dec 31 (10,000 of ARR), nothing changes.
    assert (january["customers"], january["churned"], january["new"]) == (4, 0, 0)
    assert january["start_arr"] == 10000
    assert (january["logo_churn"], january["gross_retention"], january["net_retention"]) == (0, 1, 1)
    # February: B (2,000) churns, C loses 1,000, A gains 500; D starts.
    assert (february["customers"], february["churned"], february["new"]) == (4, 1, 1)
    assert february["churned_arr"] == 2000
    assert february["contraction_arr"] == 1000
    assert february["expansion_arr"] == 500
    assert february["logo_churn"] == 0.25
    assert february["arr_churn"] == 0.2
    assert february["gross_retention"] == pytest.approx(0.7)
    assert february["net_retention"] == pytest.approx(0.75)
    # Wilson's 95% interval of 1 in 4 (textbook value).
    assert february["logo_churn_low"] == pytest.approx(0.0456, abs=1e-4)
    assert february["logo_churn_high"] == pytest.approx(0.6994, abs=1e-4)
    # The span: January's cohort, February's end.
    assert (span["start"], span["end"]) == ("2026-01-01", "2026-02-28")
    assert (span["customers"], span["churned"], span["new"]) == (4, 1, 1)
    assert span["net_retention"] == pytest.approx(0.75)


def test_retention_filters_and_scopes(run_cli, dated_book):
    args = ("analytics", "retention", "--from", "2026-02-01", "--to", "2026-02-28", "-f", "json")
    february = _rows(run_cli(*args, "--plan", "Enterprise"))[0]
    assert (february["customers"], february["churned"], february["start_arr"]) == (1, 0, 4000)
    mine = _rows(run_cli(*args, "--scope", "mine", user="ana"))[0]
    assert (mine["customers"], mine["churned"], mine["start_arr"]) == (2, 1, 3000)
    assert mine["net_retention"] == pytest.approx(1500 / 3000)
    # A CSM's "all" is still only what they may see.
    assert _rows(run_cli(*args, user="ana"))[0]["customers"] == 2
    missing = run_cli(*args, "--segment", "No Such")
    assert missing.exit_code == 4
    assert "no segment 'No Such'" in missing.stderr


def test_retention_table_fits_80_columns(run_cli, dated_book):
    result = run_cli(
        "analytics", "retention", "--from", "2026-01-01", "--to", "2026-02-28", env={"COLUMNS": "80"}
    )
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    february = next(line for line in lines if line.startswith("2026-02"))
    assert "25.0% (4.6..69.9)" in february
    assert "70.0%" in february and "75.0%" in february
    assert "left out" not in result.stderr
    assert "4 customers at the start, 1 churned" in result.stderr


def test_nps_by_month_with_its_interval(run_cli, dated_book):
    rows = _rows(
        run_cli("analytics", "nps-trends", "--from", "2026-02-01", "--to", "2026-03-31", "-f", "json")
    )
    february, march, span = rows
    assert (february["responses"], february["promoters"], february["passives"], february["detractors"]) == (
        5,
        2,
        1,
        2,
    )
    assert february["nps"] == 0
    # Each response +1, 0 or -1: variance (0.4 + 0.4 - 0) / 5 = 0.16, sd 0.4.
    assert february["nps_low"] == pytest.approx(-78.4, abs=0.1)
    assert february["nps_high"] == pytest.approx(78.4, abs=0.1)
    assert (march["responses"], march["nps"], march["thin"]) == (1, 100, True)
    assert (span["responses"], span["nps"]) == (6, pytest.approx(100 * (3 - 2) / 6, abs=0.1))
    table = run_cli("analytics", "nps-trends", "--from", "2026-02-01", "--to", "2026-03-31")
    assert "fewer than 30 responses" in table.stderr
    assert "+100" in table.stdout


def test_renewals_by_month_with_health_on_the_day(run_cli, dated_book):
    rows = _rows(run_cli("analytics", "renewals", "--as-of", "2026-03-01", "--months", "3", "-f", "json"))
    assert [r["month"] for r in rows] == ["2026-03", "2026-04", "2026-05"]
    march, april, may = rows
    # A renews 2026-03-15 at 1,500, at risk on the day (its 2026-02-20 score).
    assert (march["customers"], march["arr"], march["at_risk_arr"], march["churn_probability"]) == (
        1,
        1500,
        1500,
        0.4,
    )
    # C renews 2026-04-20 at 2,000: healthy on the day (its critical score came later).
    assert (april["customers"], april["healthy_arr"], april["critical_arr"]) == (1, 2000, 0)
    assert (may["customers"], may["arr"]) == (0, 0)


def test_health_distribution_on_a_past_day(run_cli, dated_book):
    result = run_cli("analytics", "health-distribution", "--as-of", "2026-03-01", "-f", "csv")
    assert result.exit_code == 0, result.stderr
    rows = {r["status"]: r for r in csv.DictReader(io.StringIO(result.stdout))}
    # B churned; D and E have no score.
    assert (rows["healthy"]["customers"], rows["healthy"]["arr"]) == ("1", "2000.0")
    assert (rows["at_risk"]["customers"], rows["at_risk"]["arr"]) == ("1", "1500.0")
    assert (rows["critical"]["customers"], rows["not_scored"]["customers"]) == ("0", "2")
    assert rows["not_scored"]["share"] == "0.5"


def test_bad_periods_say_so(run_cli, dated_book):
    result = run_cli("analytics", "retention", "--from", "2026-03-01", "--to", "2026-01-01")
    assert result.exit_code == 2
    assert "--to 2026-01-01 is before --from 2026-03-01" in result.stderr
    assert result.stdout == ""


def test_success_metrics_against_their_targets(run_cli, dated_book, engine):
    from cs_cli.db.models import UsageEvent

    with engine.begin() as conn:
        # D (contract from 2026-02-10) first uses the product five days in;
        # its first report_run comes a day later.
        for name, day in (("login", 15), ("report_run", 16)):
            conn.execute(
                sa.insert(UsageEvent).values(
                    customer_id=dated_book["D"],
                    event_name=name,
                    occurred_at=dt.datetime(2026, 2, day, 9, tzinfo=dt.UTC),
                    quantity=1,
                )
            )
    result = run_cli("analytics", "success-metrics", "--as-of", "2026-02-28", "-f", "json")
    metrics = {m["name"]: m for m in _rows(result)}
    # Dec, Jan, Feb: 4 customers each month, B churned in February: 1 of 12.
    churn = metrics["churn_monthly"]
    assert churn["value"] == pytest.approx(1 / 12)
    assert (churn["target"], churn["met"]) == (0.05, False)
    assert churn["basis"] == "1 churned of 12 customer-months"
    # New in the last 365 days: B, C, D; only D has used the product.
    ttv = metrics["time_to_value_days"]
    assert (ttv["value"], ttv["met"]) == (5, True)
    assert ttv["basis"] == "1 of 3 new customers reached their first use"
    assert (metrics["nps"]["value"], metrics["nps"]["met"]) == (0, False)
    # Active on the day: A, C, D, E; scored: A and C.
    assert metrics["health_coverage"]["value"] == 0.5
    assert metrics["playbook_completion"]["met"] is None
    # Targets and the first-value event come from the settings.
    env = {"CS_SUCCESS_TARGETS": "churn_monthly=10%,nps=-5", "CS_FIRST_VALUE_EVENT": "report_run"}
    tuned = {
        m["name"]: m
        for m in _rows(
            run_cli("analytics", "success-metrics", "--as-of", "2026-02-28", "-f", "json", env=env)
        )
    }
    assert (tuned["churn_monthly"]["target"], tuned["churn_monthly"]["met"]) == (0.1, True)
    assert tuned["nps"]["met"] is True
    assert tuned["time_to_value_days"]["value"] == 6
    # At 80 columns the basis gives way, and the line says how to see it
    # (this command has no --columns).
    narrow = run_cli("analytics", "success-metrics", "--as-of", "2026-02-28", env={"COLUMNS": "80"})
    assert "left out at 80 columns: basis (widen, or --format csv for every column)" in narrow.stderr
    bad = run_cli("analytics", "success-metrics", env={"CS_SUCCESS_TARGETS": "np=10"})
    assert bad.exit_code == 2
    assert "'np=10': use name=value with a name among churn_monthly" in bad.stderr


def test_the_dashboard_in_the_terminal_and_as_json(run_cli, dated_book):
    board = json.loads(_ok(run_cli("analytics", "dashboard", "--as-of", "2026-03-01", "-f", "json")))
    assert board["customers"] == 5
    # February's five responses (March's came the day after): two promoters,
    # two detractors.
    assert (board["metrics"]["nps"], board["metrics"]["nps_responses"]) == (0, 5)
    table = run_cli("analytics", "dashboard", "--as-of", "2026-03-01", env={"COLUMNS": "80"})
    assert table.exit_code == 0, table.stderr
    assert "5 customers, ARR" in table.stdout
    assert "NPS (12 months): +0 (5 responses" in table.stdout
    assert all(len(line) <= 80 for line in table.stdout.splitlines())


def _ok(result) -> str:
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_churn_risk_by_predicted_probability_on_a_day(run_cli, dated_book):
    result = run_cli("analytics", "churn-risk", "--as-of", "2026-03-01", "-f", "json")
    bands = {b["band"]: b for b in _rows(result)}
    # Active on the day: A, C, D, E (B churned). A's latest prediction is
    # 0.4 at ARR 1,500, C's 0.1 at 2,000 (its 0.9 came after the day); D and
    # E have none.
    assert (bands["25-50%"]["customers"], bands["25-50%"]["arr"]) == (1, 1500)
    assert bands["25-50%"]["expected_churns"] == pytest.approx(0.4)
    assert bands["25-50%"]["expected_arr"] == pytest.approx(600)
    assert (bands["10-25%"]["customers"], bands["10-25%"]["expected_arr"]) == (1, pytest.approx(200))
    assert (bands["50% and over"]["customers"], bands["under 10%"]["customers"]) == (0, 0)
    assert (bands["not predicted"]["customers"], bands["not predicted"]["arr"]) == (2, 4500)
    assert bands["not predicted"]["expected_arr"] is None
    every = _rows(run_cli("analytics", "churn-risk", "--as-of", "2026-03-01", "--customers", "-f", "json"))
    # Riskiest first; the unpredicted after, the bigger ARR first.
    assert [c["external_id"] for c in every] == ["A", "C", "E", "D"]
    assert every[0]["churn_probability"] == 0.4 and every[0]["health_status"] == "at_risk"
    table = run_cli("analytics", "churn-risk", "--as-of", "2026-03-01", "--top", "1", env={"COLUMNS": "80"})
    assert table.exit_code == 0, table.stderr
    assert all(len(line) <= 80 for line in table.stdout.splitlines())
    assert "2 of 4 active customers predicted; the model expects 0.5 churns and ARR 800 lost" in table.stderr
    assert "the 1 riskiest:" in table.stderr
    assert "Alpha" in table.stdout and "Gamma" not in table.stdout


def test_churn_risk_falls_back_to_health_and_filters_by_team(run_cli, dated_book, engine):
    from cs_cli.db.models import Team, User

    with engine.begin() as conn:
        # E: critical on 2026-02-26, no prediction.
        conn.execute(
            sa.insert(HealthScoreHistory).values(
                customer_id=dated_book["E"],
                as_of=dt.date(2026, 2, 26),
                overall_score=20,
                health_status=HealthStatus.CRITICAL,
                measures={},
                calculated_at=dt.datetime(2026, 3, 6, tzinfo=dt.UTC),
            )
        )
    args = ("analytics", "churn-risk", "--as-of", "2026-03-01")
    enterprise = run_cli(*args, "--plan", "Enterprise")
    assert enterprise.exit_code == 0, enterprise.stderr
    assert "no churn prediction for these customers" in enterprise.stderr
    bands = {b["band"]: b for b in _rows(run_cli(*args, "--plan", "Enterprise", "-f", "json"))}
    assert (bands["critical"]["customers"], bands["critical"]["arr"]) == (1, 4000)
    assert bands["critical"]["expected_churns"] is None
    assert sum(b["customers"] for b in bands.values()) == 1
    # ana's team: her customers only (A; B churned).
    assert run_cli("users", "add", "bo@example.com", "--team", "East").exit_code == 0
    with engine.begin() as conn:
        east = conn.scalar(sa.select(Team.id).where(Team.name == "East"))
        conn.execute(sa.update(User).where(User.email == "ana@example.com").values(team_id=east))
    every = _rows(run_cli(*args, "--team", "east", "--customers", "-f", "json"))
    assert [c["external_id"] for c in every] == ["A"]
    missing = run_cli(*args, "--team", "West")
    assert missing.exit_code == 4
    assert "no team 'West'" in missing.stderr
    assert missing.stdout == ""


def test_time_to_value_by_month_of_start(run_cli, dated_book, engine):
    from cs_cli.db.models import UsageEvent

    with engine.begin() as conn:
        # D (contract from 2026-02-10) first uses the product five days in,
        # its first report_run six days in.
        for name, day in (("login", 15), ("report_run", 16)):
            conn.execute(
                sa.insert(UsageEvent).values(
                    customer_id=dated_book["D"],
                    event_name=name,
                    occurred_at=dt.datetime(2026, 2, day, 9, tzinfo=dt.UTC),
                    quantity=1,
                )
            )
    args = ("analytics", "time-to-value", "--as-of", "2026-02-28")
    rows = _rows(run_cli(*args, "-f", "json"))
    # Started in the year to the day: C (2025-03), B (2025-06), D (2026-02).
    assert [(r["month"], r["started"], r["reached"]) for r in rows] == [
        ("2025-03", 1, 0),
        ("2025-06", 1, 0),
        ("2026-02", 1, 1),
    ]
    assert (rows[2]["median_days"], rows[2]["within_target"]) == (5, 1)
    assert rows[0]["median_days"] is None
    named = _rows(run_cli(*args, "--event", "report_run", "--target", "5", "-f", "json"))
    assert (named[2]["median_days"], named[2]["within_target"]) == (6, 0)
    table = run_cli(*args)
    assert table.exit_code == 0, table.stderr
    assert "1 of 3 new customers reached their first use; 1 (33%) within 30 days" in table.stderr
    assert "only 3 new customers" in table.stderr
