"""`cs journeys` as a user runs it: exit codes, messages on stderr, the plan
and the flow on stdout, and what lands in the database."""

from __future__ import annotations

import json
import shutil

import pytest

from cs_cli import paths


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_validate_the_shipped_journeys(run_cli):
    result = run_cli("journeys", "validate")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "ok: 7 journeys\n", "")
    one = run_cli("journeys", "validate", str(paths.journeys_dir() / "onboarding.yaml"))
    assert one.stdout == "ok: 1 journey\n"


STEPS = """\
steps:
  - key: hello
    type: email
    template: {template}
    subject: Hi
    next: {next}

  - key: pause
    type: wait
    days: 2
    next: hello
"""


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_validate_prints_every_error_with_file_line_and_column(run_cli, tmp_path):
    folder = tmp_path / "journeys"
    templates = folder / "templates" / "emails"
    templates.mkdir(parents=True)
    (templates / "nosy.txt.j2").write_text("Hello {{ contact.name }},\nyour rep is {{ sales.rep }}\n")
    (templates / "hostile.txt.j2").write_text("{{ '{0.__class__}'.format(customer) }}\n")
    (templates / "fine.txt.j2").write_text("Hello {{ contact.first_name }}\n")
    (folder / "dangling.yaml").write_text(STEPS.format(template="fine", next="paws"))
    (folder / "loop.yaml").write_text(
        STEPS.format(template="fine", next="pause")
        .replace(
            "    type: wait\n    days: 2\n",
            "    type: condition\n    rules: {arr: {gt: 5}}\n    then: hello\n    else: hello\n",
        )
        .replace("    next: hello\n", "")
    )
    (folder / "kind.yaml").write_text(
        STEPS.format(template="fine", next="pause").replace("type: wait", "type: sleep")
    )
    (folder / "nosy.yaml").write_text(STEPS.format(template="nosy", next="pause"))
    (folder / "hostile.yaml").write_text(STEPS.format(template="hostile", next="pause"))
    (folder / "missing.yaml").write_text(STEPS.format(template="nowhere", next="pause"))
    (folder / "good.yaml").write_text(STEPS.format(template="fine", next="pause"))

    result = run_cli("journeys", "validate", str(folder))
    assert (result.exit_code, result.stdout) == (2, "")
    lines = result.stderr.splitlines()
    assert lines[:-2] == [
        f"{folder / 'dangling.yaml'}:6:5: steps.0.next: no step 'paws' in this journey "
        "(did you mean 'pause'?)",
        f"{folder / 'hostile.yaml'}:4:5: steps.0.template: template emails/hostile.txt.j2, line 1: "
        "not allowed: text with '__' (a way to reach internals)",
        f"{folder / 'kind.yaml'}:9:5: steps.1.type: unknown step type 'sleep' (one of email, in_app_message, "
        "task, wait, condition, webhook, segment_update, health_check, human_touchpoint, start_journey, "
        "trigger_playbook, ab_split, exit)",
        f"{folder / 'loop.yaml'}:11:5: steps.1.then: a loop with no wait: hello -> pause -> hello "
        "(put a wait step in it, or a task that waits for completion)",
        f"{folder / 'missing.yaml'}:4:5: steps.0.template: no email template 'nowhere' "
        "(known: adoption_tips, advocacy_thank_you, expansion_value_review, fine, hostile, nosy, "
        "onboarding_training, onboarding_week_2, onboarding_welcome, renewal_reminder, risk_check_in, "
        "win_back_last_note, win_back_miss_you, win_back_offer)",
    ]
    assert lines[-2] == (
        f"{folder / 'nosy.yaml'}:4:5: steps.0.template: template emails/nosy.txt.j2, line 2: unknown name "
        "'sales' (known: customer, contact, csm, health, journey, step, enrollment, today)"
    )
    assert lines[-1] == f"error: 6 journey files in {folder} with errors"
    # load refuses the same folder and writes nothing.
    refused = run_cli("journeys", "load", str(folder))
    assert refused.exit_code == 2 and refused.stdout == ""
    assert json.loads(run_cli("journeys", "list", "--format", "json").stdout) == []
    ok = run_cli("journeys", "validate", str(folder / "good.yaml"))
    assert (ok.exit_code, ok.stdout) == (0, "ok: 1 journey\n")
    missing = run_cli("journeys", "validate", str(tmp_path / "nope"))
    assert (missing.exit_code, missing.stderr) == (2, f"error: {tmp_path / 'nope'}: no such file or folder\n")


def test_load_list_show(run_cli, book, tmp_path):
    # The onboarding journey hands over to playbooks: without them loading stops at the line.
    early = run_cli("journeys", "load")
    assert early.exit_code == 2
    assert early.stderr.startswith(
        f"error: {paths.journeys_dir() / 'onboarding.yaml'}:123:5: steps.10.playbook: "
        "playbook 'risk_response' does not exist\nhint: load the playbooks first"
    )
    assert run_cli("playbooks", "load").exit_code == 0

    dry = run_cli("journeys", "load", "--dry-run")
    assert dry.exit_code == 0, dry
    assert "+ added onboarding (Onboarding, version 1)\n" in dry.stdout
    assert "+- key: kickoff_complete\n+  name: Kickoff Complete?\n+  type: condition\n" in dry.stdout
    assert dry.stderr.startswith("would load 7 journeys from ") and dry.stderr.endswith(": 7 added\n")
    assert json.loads(run_cli("journeys", "list", "--format", "json").stdout) == []
    denied = run_cli("journeys", "load", user="ana")
    assert denied.exit_code == 3 and "loading journeys needs the admin role; ana is a csm" in denied.stderr

    loaded = run_cli("journeys", "load")
    assert loaded.exit_code == 0 and loaded.stderr.endswith(": 7 added\n")
    again = run_cli("journeys", "load")
    assert (again.stdout, again.stderr.split(": ")[-1]) == ("", "7 unchanged\n")

    rows = {r["key"]: r for r in json.loads(run_cli("journeys", "list", "--format", "json").stdout)}
    assert set(rows) == {
        "onboarding",
        "adoption",
        "renewal",
        "risk_mitigation",
        "expansion",
        "advocacy",
        "win_back",
    }
    assert rows["onboarding"] | {"updated": None} == rows["onboarding"] | {
        "key": "onboarding",
        "name": "Onboarding",
        "journey_type": "onboarding",
        "trigger": "event customer.created",
        "version": 1,
        "steps": 16,
        "duration_days": 90,
        "active_enrollments": 0,
        "total_enrolled": 0,
        "total_completed": 0,
        "success_rate": None,
        "is_active": True,
        "updated": None,
    }
    assert rows["risk_mitigation"]["trigger"] == "daily, if status = active, health_score < 60"
    assert rows["renewal"]["trigger"] == "90 days before renewal"
    table = run_cli("journeys", "list")
    assert "win_back" in table.stdout and "30 days after churn" in table.stdout

    shown = run_cli("journeys", "show", "onboarding")
    assert shown.exit_code == 0, shown
    text = shown.stdout
    assert "Onboarding (onboarding, version 1)" in text
    assert "Time-to-value under 30 days" in text
    assert "└── kickoff_complete  if task kickoff_call ended successful\n" in text
    assert "    ├── yes\n    │   ├── training_email  email 'onboarding_training'" in text
    assert (
        "    └── no\n        ├── reschedule_kickoff  task for the csm (follow_up, high, due in 3 days)"
        in text
    )
    assert "        └── -> adoption_check (drawn above)\n" in text
    assert (
        "    │       │       ├── yes\n    │       │       │   └── exit_success  exit with success\n" in text
    )
    assert "risk_journey  start journey 'risk_mitigation'" in text
    assert "intervention_playbook  trigger playbook 'risk_response'" in text

    funnel = run_cli("journeys", "show", "expansion", "--metrics")
    assert "start 0 enrolled\n└── opener  random split: email 50%, in_app 50%  reached 0\n" in funnel.stdout
    assert (
        "├── email 50%\n" in funnel.stdout
        and "├── timeout -> exit_no_opportunity (drawn above)" in funnel.stdout
    )
    csv = run_cli("journeys", "show", "onboarding", "--metrics", "--format", "csv").stdout.splitlines()
    assert csv[0] == "order,key,name,step_type,summary,branches,reached,current"
    assert csv[4].startswith("4,kickoff_complete,Kickoff Complete?,condition,") and csv[4].endswith(
        ",yes=training_email no=reschedule_kickoff,0,0"
    )
    detail = json.loads(run_cli("journeys", "show", "renewal", "--format", "json").stdout)
    assert detail["goal"]["rules"] == {"days_to_renewal": {"gt": 180}}
    assert [s["step_type"] for s in detail["steps"]][-2:] == ["trigger_playbook", "exit"]

    unknown = run_cli("journeys", "show", "nope")
    assert (unknown.exit_code, unknown.stderr.splitlines()[0]) == (4, "error: no journey 'nope'")

    # A folder naming a segment that does not exist: exit 2 at the line, nothing written.
    folder = tmp_path / "journeys"
    shutil.copytree(paths.journeys_dir(), folder)
    path = folder / "adoption.yaml"
    path.write_text(
        path.read_text().replace(
            "  type: scheduled\n  every: weekly\n  rules:\n"
            "    status: active\n    adoption_score: {lt: 40}\n",
            "  type: segment_entry\n  segment: Low adoption\n",
        )
    )
    missing = run_cli("journeys", "load", str(folder))
    assert missing.exit_code == 2
    assert missing.stderr.startswith(
        f"error: {path}:12:3: trigger.segment: there is no segment named 'Low adoption'\n"
        "hint: create it first with `cs segments create`"
    )
    assert json.loads(run_cli("journeys", "list", "--format", "json").stdout)[0]["trigger"] == (
        "weekly, if status = active, adoption_score < 40"
    )
