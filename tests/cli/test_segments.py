"""`cs segments` as a user drives it: exit codes, messages, rows and output."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import sqlalchemy as sa

from cs_cli.db.models import CustomerSegment, Segment

FIXTURES = Path(__file__).parent.parent / "fixtures"


def _count(engine, model) -> int:
    with engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(model))


def test_create_refresh_and_look_inside(run_cli, engine, book):
    created = run_cli(
        "segments",
        "create",
        "Struggling",
        "--rules",
        '{"health_score": {"lt": 50}}',
        "--description",
        "below 50",
    )
    assert created.exit_code == 0, created
    assert "created dynamic segment 'Struggling'" in created.stderr
    refreshed = run_cli("segments", "refresh", "--all", "--format", "json")
    assert refreshed.exit_code == 0, refreshed
    assert json.loads(refreshed.stdout) == [
        {"segment": "Struggling", "members": 2, "entered": 2, "exited": 0, "error": None}
    ]
    assert "2 entered, 0 exited" in refreshed.stderr

    listed = json.loads(run_cli("segments", "list", "--format", "json").stdout)
    assert [(r["name"], r["customer_count"], r["total_arr"]) for r in listed] == [("Struggling", 2, 125000)]
    shown = run_cli("segments", "show", "Struggling")
    assert "below 50" in shown.stdout and "125,000.00" in shown.stdout and '"lt": 50' in shown.stdout

    members = run_cli("segments", "customers", "Struggling", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(members.stdout)))
    assert [r["external_id"] for r in rows] == ["M-1", "W-1"]

    exported = run_cli("segments", "export", "Struggling", "--format", "jsonl")
    records = [json.loads(line) for line in exported.stdout.splitlines()]
    assert [r["external_id"] for r in records] == ["M-1", "W-1"]
    assert records[0]["csm_email"] == "mia@example.com"

    history = run_cli("segments", "history", "Struggling", "--format", "json")
    assert {r["external_id"] for r in json.loads(history.stdout)} == {"M-1", "W-1"}

    # A CSM sees only their own members.
    mine = run_cli("segments", "customers", "Struggling", "--format", "json", user="bo")
    assert [r["external_id"] for r in json.loads(mine.stdout)] == ["W-1"]


def test_preview_saves_nothing(run_cli, engine, book):
    result = run_cli("segments", "preview", "--rules", '{"plan": "enterprise"}', "--sample", "2")
    assert result.exit_code == 0, result
    assert "3 customers match; total ARR 920,000.00" in result.stderr
    assert "Epsilon Energy" in result.stdout and "Gamma Goods" in result.stdout
    assert "Alpha Analytics" not in result.stdout
    assert _count(engine, Segment) == 0


def test_bad_rules_say_where_and_write_nothing(run_cli, engine, book, tmp_path):
    result = run_cli("segments", "create", "X", "--rules", '{"arr": {"gte": "lots"}}')
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: --rules: arr.gte: arr is a number; 'lots' is not"

    result = run_cli("segments", "create", "X", "--rules", '{"arr": {"gte": 1}')
    assert result.exit_code == 2 and "invalid JSON at column" in result.stderr

    rules = tmp_path / "rules.yaml"
    rules.write_text("all:\n  - arr: {gte: 1}\n  - renewal_date: {lt: soon}\n")
    result = run_cli("segments", "create", "X", "--rules-file", str(rules))
    assert result.exit_code == 2
    assert f"{rules}:3" in result.stderr
    assert "all[1].renewal_date.lt: renewal_date is a date; 'soon' is not one" in result.stderr

    result = run_cli("segments", "create", "X", "--rules", '{"in_segment": "Nope"}')
    assert result.exit_code == 2 and "in_segment names no segment 'Nope'" in result.stderr

    hostile = "x'); DROP TABLE customers; --"
    result = run_cli("segments", "preview", "--rules", json.dumps({"name": hostile}))
    assert result.exit_code == 0 and "0 customers match" in result.stderr
    assert _count(engine, Segment) == 0

    result = run_cli("segments", "create", "bad\x00name")
    assert result.exit_code == 2 and "a segment name is printable text" in result.stderr

    result = run_cli("segments", "create", "Mine", "--rules", '{"arr": {"gt": 1}}', user="bo")
    assert result.exit_code == 3 and "needs the manager or admin role" in result.stderr
    assert run_cli("segments", "show", "nope").exit_code == 4


def test_static_segments_by_hand(run_cli, engine, book):
    assert run_cli("segments", "create", "Beta").exit_code == 0
    added = run_cli("segments", "add", "Beta", "E-1", "W-2")
    assert added.exit_code == 0 and "added 2 customers to 'Beta'" in added.stderr
    missing = run_cli("segments", "add", "Beta", "E-3", "NOPE")
    assert missing.exit_code == 4 and "no customer 'NOPE'" in missing.stderr
    assert _count(engine, CustomerSegment) == 2  # nothing half-written
    removed = run_cli("segments", "remove", "Beta", "E-1")
    assert removed.exit_code == 0 and "removed 1 customer from 'Beta'" in removed.stderr

    run_cli("segments", "create", "Big", "--rules", '{"arr": {"gte": 100000}}')
    run_cli("segments", "refresh")
    overlap = run_cli("segments", "overlap", "Beta", "Big", "--format", "json")
    rows = {r["members"]: r["customers"] for r in json.loads(overlap.stdout)}
    assert rows == {"Beta & Big": 1, "Beta only": 0, "Big only": 2, "all of Beta": 1, "all of Big": 3}

    refused = run_cli("segments", "add", "Big", "E-1")
    assert refused.exit_code == 2 and "its rules decide who is in it" in refused.stderr
    assert run_cli("segments", "delete", "Beta").exit_code == 2  # no --yes off a terminal
    deleted = run_cli("segments", "delete", "Beta", "--yes")
    assert deleted.exit_code == 0 and "deleted segment 'Beta'" in deleted.stderr


def test_update_and_fields(run_cli, book):
    run_cli("segments", "create", "Big", "--rules", '{"arr": {"gte": 100000}}')
    updated = run_cli("segments", "update", "Big", "--rules", '{"arr": {"gte": 400000}}', "--name", "Huge")
    assert updated.exit_code == 0 and "refresh it to apply the new rules" in updated.stderr
    refreshed = json.loads(run_cli("segments", "refresh", "Huge", "--format", "json").stdout)
    assert refreshed[0]["members"] == 1
    assert run_cli("segments", "update", "Huge").exit_code == 2
    inactive = run_cli("segments", "update", "Huge", "--inactive")
    assert inactive.exit_code == 0
    assert json.loads(run_cli("segments", "list", "--format", "json").stdout) == []
    fields = run_cli("segments", "fields")
    assert "days_to_renewal" in fields.stdout and "attributes.NAME" in fields.stdout


def test_attribute_rules_that_can_never_match_say_why(run_cli, engine, admin):
    imported = run_cli(
        "import", "customers", FIXTURES / "telco_customers.csv", "--map", FIXTURES / "telco_map.yaml"
    )
    assert imported.exit_code == 0, imported

    def warned(rules: str, *command: str) -> list[str]:
        result = run_cli("segments", *command, "--rules", rules)
        assert result.exit_code == 0, result
        return [line for line in result.stderr.splitlines() if line.startswith("warning:")]

    assert warned('{"attributes.MonthlyCharges": {"gt": "50"}}', "preview") == [
        "warning: attributes.MonthlyCharges holds numbers (5 customers), and '50' is text:"
        " the rule never matches (write 50, without quotes)"
    ]
    assert warned('{"attributes.PaperlessBilling": true}', "preview") == [
        "warning: attributes.PaperlessBilling holds text (5 customers), and true is true/false:"
        " the rule never matches (it holds text such as 'No', 'Yes')"
    ]
    assert warned('{"attributes.CONTRACT_TYPE": "Month-to-month"}', "create", "Monthly") == [
        "warning: attributes.CONTRACT_TYPE: no customer has this attribute"
        " (names differ in case: attributes.contract_type)"
    ]
    assert warned('{"attributes.tenur": {"gt": 3}}', "update", "Monthly") == [
        "warning: attributes.tenur: no customer has this attribute (did you mean attributes.tenure?)"
    ]
    # Rules that can match say nothing more.
    assert (
        warned('{"any": [{"attributes.tenure": {"gt": 3}}, {"attributes.gender": "Female"}]}', "preview")
        == []
    )


def test_refresh_skips_a_segment_it_cannot_evaluate_and_exits_1(run_cli, engine, book):
    for name, plan in (("Enterprise", "enterprise"), ("Broken", "pro")):
        assert run_cli("segments", "create", name, "--rules", json.dumps({"plan": plan})).exit_code == 0
    with engine.begin() as conn:
        # Rules saved by an older cs, which this one no longer reads.
        conn.execute(sa.update(Segment).where(Segment.name == "Broken").values(rules={"helth_score": 5}))
    refreshed = run_cli("segments", "refresh", "--all", "--format", "json")
    assert refreshed.exit_code == 1, refreshed
    rows = {r["segment"]: r for r in json.loads(refreshed.stdout)}
    assert rows["Enterprise"]["members"] == 3 and rows["Enterprise"]["error"] is None
    assert "unknown field 'helth_score'" in rows["Broken"]["error"]
    assert "warning: segment 'Broken' skipped, its members unchanged: rules: helth_score: unknown field" in (
        refreshed.stderr
    )
    assert "refreshed 1 segments: 3 entered" in refreshed.stderr
    assert refreshed.stderr.strip().endswith("error: 1 of 2 segments could not be refreshed (see above)")
    assert _count(engine, CustomerSegment) == 3  # the good one's refresh is kept

    ran = run_cli("run", "segment-refresh", "--force")
    assert ran.exit_code == 1, ran
    assert "1 of 2 segments skipped: 'Broken' (rules: helth_score: unknown field" in ran.stderr
