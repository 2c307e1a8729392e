"""`cs segments suggest` as a user drives it: exit codes, messages, rows."""

from __future__ import annotations

import csv
import io
import json

import sqlalchemy as sa
from fixtures.planted_book import AS_OF, STRUGGLING, build_planted_book

from cs_cli.db.models import Segment

DAY = AS_OF.isoformat()


def test_suggest_shows_clusters_rules_and_reasons(run_cli, engine, admin):
    build_planted_book(engine)
    result = run_cli("segments", "suggest", "--as-of", DAY, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert lines[0].split()[:3] == ["#", "┃", "name"]
    assert "1. " in result.stdout and "2. " in result.stdout
    assert '"status": "active"' in result.stdout
    assert "Churn risk 100% (book 40%; share at risk or critical)" in " ".join(result.stdout.split())
    assert "40 active customers as of 2026-11-01; k=2, the best silhouette on a sample" in result.stderr
    assert "--accept N --name NAME" in result.stderr


def test_json_and_csv_carry_every_suggestion(run_cli, engine, admin):
    build_planted_book(engine)
    data = json.loads(run_cli("segments", "suggest", "--k", "3", "--as-of", DAY, "--format", "json").stdout)
    assert (data["k"], data["k_chosen_by"], data["customers"]) == (3, "given", 40)
    assert [s["number"] for s in data["suggestions"]] == [1, 2, 3]
    assert sum(s["customers"] for s in data["suggestions"]) == 40
    assert {"rules", "reasoning", "precision", "recall", "confidence"} <= set(data["suggestions"][0])
    out = run_cli("segments", "suggest", "--k", "3", "--as-of", DAY, "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["number"] for r in rows] == ["1", "2", "3"]
    assert json.loads(rows[0]["rules"]) == data["suggestions"][0]["rules"]


def test_accept_saves_an_ai_segment_that_refreshes(run_cli, engine, admin):
    build_planted_book(engine)
    listed = json.loads(
        run_cli("segments", "suggest", "--focus", "churn", "--as-of", DAY, "--format", "json").stdout
    )
    first = listed["suggestions"][0]
    assert first["customers"] == 16
    saved = run_cli(
        "segments", "suggest", "--focus", "churn", "--as-of", DAY, "--accept", "1", "--name", "Slipping"
    )
    assert saved.exit_code == 0, saved
    assert "created ai_generated segment 'Slipping' from suggestion 1" in saved.stderr
    with engine.connect() as conn:
        seg = conn.execute(sa.select(Segment).where(Segment.name == "Slipping")).one()
    assert seg.segment_type.value == "ai_generated"
    assert seg.rules == first["rules"] and seg.ai_reasoning == first["reasoning"]
    assert seg.ai_confidence == first["confidence"] == 1.0

    refreshed = run_cli("segments", "refresh", "Slipping", "--as-of", DAY, "--format", "json")
    assert json.loads(refreshed.stdout) == [
        {"segment": "Slipping", "members": 16, "entered": 16, "exited": 0, "error": None}
    ]
    members = json.loads(run_cli("segments", "customers", "Slipping", "--format", "json").stdout)
    assert sorted(m["external_id"] for m in members) == STRUGGLING
    shown = run_cli("segments", "show", "Slipping")
    assert "ai_generated" in shown.stdout and "1.00 (F1 of its rules" in shown.stdout
    assert "16 customers (40% of the active book)" in shown.stdout
    listed = json.loads(run_cli("segments", "list", "--format", "json").stdout)
    assert listed[0]["ai_confidence"] == 1.0 and listed[0]["ai_reasoning"].startswith("16 customers")


def test_bad_input_is_one_line_and_exit_2(run_cli, engine, admin):
    build_planted_book(engine)
    for args, text in (
        (["--k", "1"], "error: --k is a number from 2 to 8 or 'auto', not 1"),
        (["--k", "lots"], "error: --k is a number from 2 to 8 or 'auto', not 'lots'"),
        (["--focus", "growth"], "error: --focus is churn or expansion, not 'growth'"),
        (["--accept", "1"], "error: --accept N and --name NAME go together"),
        (["--accept", "7", "--name", "X"], "error: --accept takes a suggestion's number, 1 to 2, not 7"),
    ):
        result = run_cli("segments", "suggest", "--as-of", DAY, *args)
        assert result.exit_code == 2, (args, result)
        assert result.stderr.strip() == text
        assert result.stdout == ""
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(Segment)) == 0


def test_a_csm_may_look_but_not_save(run_cli, engine, admin):
    build_planted_book(engine)
    looked = run_cli("segments", "suggest", "--as-of", DAY, user="cara")
    assert looked.exit_code == 0, looked
    saved = run_cli("segments", "suggest", "--as-of", DAY, "--accept", "1", "--name", "X", user="cara")
    assert saved.exit_code == 3
    assert "creating a segment" in saved.stderr


def test_too_few_customers(run_cli, engine, book):
    result = run_cli("segments", "suggest")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: too few active customers to suggest segments: 6 as of ")
    assert result.stdout == ""


def test_help_teaches(run_cli):
    result = run_cli("segments", "suggest", "--help")
    assert result.exit_code == 0
    for text in ("--k", "silhouette", "--focus", "--accept", "--name", "ai_generated", "Examples"):
        assert text in result.stdout
