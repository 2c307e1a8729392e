"""Journey files without a database: the seven shipped journeys, the plan's
onboarding example step by step, and every kind of bad input named by file,
line, column and key path (the graph, the rules, the templates, the sandbox)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cs_cli import paths
from cs_cli.errors import FileError, TemplateError
from cs_cli.specs.journey import StepType
from cs_cli.specs.journey_file import load_folder, load_journey
from cs_cli.templates import emails

# Section 4.1: trigger, duration and goal of each journey.
STANDARD = {
    "onboarding": ("Onboarding", "event", {"event": "customer.created"}, 90),
    "adoption": ("Adoption", "scheduled", {"every": "weekly"}, 60),
    "renewal": ("Renewal", "scheduled", {"days_before_renewal": 90}, 90),
    "risk_mitigation": ("Risk Mitigation", "scheduled", {"every": "daily"}, 30),
    "expansion": ("Expansion", "scheduled", {"every": "weekly"}, 45),
    "advocacy": ("Advocacy", "scheduled", {"every": "weekly"}, 30),
    "win_back": ("Win-back", "scheduled", {"days_after_churn": 30}, 90),
}


def test_the_seven_shipped_journeys_validate_with_the_plans_triggers_durations_and_goals():
    files, errors = load_folder(paths.journeys_dir())
    assert errors == []
    found = {}
    for f in files:
        trigger = f.spec.trigger.model_dump(mode="json", exclude_none=True, exclude={"type", "rules"})
        found[f.key] = (f.spec.title, f.spec.trigger.type.value, trigger, f.spec.duration_days)
        assert f.spec.type.value == f.key  # each is of its own journey type
        assert f.spec.goal is not None and f.spec.goal.description
    assert found == STANDARD
    goals = {f.key: f.spec.goal for f in files}
    assert goals["risk_mitigation"].rules == {"health_score": {"gt": 70}}
    assert goals["adoption"].rules == {"adoption_score": {"gt": 70}}
    assert (goals["onboarding"].rules, goals["onboarding"].within_days) == (
        {"adoption_score": {"gte": 50}},
        30,
    )
    assert goals["win_back"].rules == {"status": "active"}
    assert goals["expansion"].facts[0].task == "proposal"
    assert goals["advocacy"].facts[0].task == "ask_for_reference"
    rules = {f.key: f.spec.trigger.rules for f in files}
    assert rules["risk_mitigation"]["health_score"] == {"lt": 60}
    assert rules["advocacy"]["health_score"] == {"gt": 90}
    # Every step type but webhook and segment_update (they need your systems)
    # and human_touchpoint is in use: the calls the renewal and risk journeys
    # asked for are their playbooks' tasks now (one owner for each kind of work).
    used = {StepType(s.type) for f in files for s in f.spec.steps}
    assert set(StepType) - used == {StepType.WEBHOOK, StepType.SEGMENT_UPDATE, StepType.HUMAN_TOUCHPOINT}
    # Every email template they name ships with both parts, and renders.
    for f in files:
        for name, template in f.templates.items():
            assert template.html is not None, name
            text, html = emails.render_parts(template.text, template.html, emails.sample_context(), name=name)
            assert "Acme Corp" in text and "Ana Ruiz" in text and "Acme Corp" in html


def test_onboarding_is_the_plans_example_as_drawn():
    spec = load_journey(paths.journeys_dir() / "onboarding.yaml").spec
    steps = {s.key: s for s in spec.steps}

    def go(key: str, way: str = "next") -> str:
        step = steps[key]
        return {"next": step.next, "yes": getattr(step, "then", None), "no": getattr(step, "else_", None)}[
            way
        ]

    first = spec.steps[0]
    assert (first.key, first.display_name, first.type) == ("welcome_email", "Welcome Email", "email")
    assert go("welcome_email") == "wait_2_days" and steps["wait_2_days"].days == 2
    assert go("wait_2_days") == "kickoff_call"
    kickoff = steps["kickoff_call"]
    assert (kickoff.type, kickoff.task_type.value, kickoff.wait_for_completion.timeout_days) == (
        "task",
        "call",
        10,
    )
    assert go("kickoff_call") == "kickoff_complete"
    complete = steps["kickoff_complete"]
    assert complete.display_name == "Kickoff Complete?"
    assert [(f.task, [o.value for o in f.outcome]) for f in complete.facts] == [
        ("kickoff_call", ["successful"])
    ]
    # Yes: training email, wait 7 days, adoption check. No: reschedule task, adoption check.
    assert go("kickoff_complete", "yes") == "training_email" and steps["training_email"].type == "email"
    assert go("training_email") == "wait_7_days" and steps["wait_7_days"].days == 7
    assert go("wait_7_days") == "adoption_check"
    assert go("kickoff_complete", "no") == "reschedule_kickoff" and steps["reschedule_kickoff"].type == "task"
    assert go("reschedule_kickoff") == "adoption_check"
    assert steps["adoption_check"].type == "health_check" and go("adoption_check") == "adoption_over_50"
    adoption = steps["adoption_over_50"]
    assert adoption.rules == {"adoption_score": {"gt": 50}}
    assert go("adoption_over_50", "yes") == "continue_week_2"
    assert steps["continue_week_2"].display_name == "Continue to Week 2"
    intervention = steps[go("adoption_over_50", "no")]
    assert (intervention.type, intervention.playbook, intervention.next) == (
        "trigger_playbook",
        "risk_response",
        None,
    )
    assert (
        go("continue_week_2") == "review_30_day"
        and steps["review_30_day"].display_name == "30-Day Review Task"
    )
    assert go("review_30_day") == "health_check" and steps["health_check"].type == "health_check"
    assert go("health_check") == "health_over_70"
    assert steps["health_over_70"].rules == {"health_score": {"gt": 70}}
    success = steps[go("health_over_70", "yes")]
    assert (success.type, success.success, success.display_name) == ("exit", True, "Exit (Success)")
    risk = steps[go("health_over_70", "no")]
    assert (risk.type, risk.journey, risk.display_name) == (
        "start_journey",
        "risk_mitigation",
        "Risk Journey",
    )
    assert len(steps) == 16


BASE = """\
key: demo
name: Demo
trigger:
  type: manual
steps:
  - key: hello
    type: email
    template: greeting
    subject: "Hi {{ contact.first_name }}"
    next: pause

  - key: pause
    type: wait
    days: 2
    next: call

  - key: call
    type: task
    title: "Call {{ customer.name }}"
    wait_for_completion:
      timeout_days: 5
    next: check

  - key: check
    type: condition
    rules:
      health_score: {gt: 70}
    facts:
      - task: call
        outcome: successful
    then: done
    else: hello

  - key: done
    type: exit
    success: true
"""
GREETING = "Hello {{ contact.first_name }},\nwelcome to {{ customer.name }}.\n{{ csm.name }}\n"


def _write(tmp_path: Path, text: str, template: str = GREETING, html: str | None = None) -> Path:
    folder = tmp_path / "templates" / "emails"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "greeting.txt.j2").write_text(template)
    if html is not None:
        (folder / "greeting.html.j2").write_text(html)
    path = tmp_path / "demo.yaml"
    path.write_text(text)
    return path


def test_the_base_journey_loads_with_its_own_template(tmp_path):
    journey = load_journey(_write(tmp_path, BASE, html="<p>{{ customer.name }}</p>\n"))
    assert journey.key == "demo" and journey.spec.steps[0].key == "hello"
    template = journey.templates["greeting"]
    assert template.text_path == tmp_path / "templates" / "emails" / "greeting.txt.j2"
    ctx = emails.sample_context() | {"customer": emails.sample_context()["customer"] | {"name": "<b>&Co"}}
    text, html = emails.render_parts(template.text, template.html, ctx, name="greeting")
    assert "welcome to <b>&Co." in text and html == "<p>&lt;b&gt;&amp;Co</p>\n"


@pytest.mark.parametrize(
    ("old", "new", "where", "reason"),
    [
        (
            "    next: pause\n",
            "    next: paws\n",
            ":10:5:",
            "steps.0.next: no step 'paws' in this journey (did you mean 'pause'?)",
        ),
        (
            "    then: done\n",
            "    then: finish\n",
            ":31:5:",
            "steps.3.then: no step 'finish' in this journey",
        ),
        (
            "    next: pause\n",
            "    next: check\n",
            ":32:5:",
            "steps.3.else: a loop with no wait: hello -> check -> hello (put a wait step in it",
        ),
        ("    else: hello\n", "    else: check\n", ":32:5:", "a loop with no wait: check -> check"),
        (
            "    type: wait\n",
            "    type: snooze\n",
            ":13:5:",
            "steps.1.type: unknown step type 'snooze' (one of email,",
        ),
        ("    days: 2\n", "    days: 2\n    hours: 5\n", ":15:5:", "steps.1.hours: unknown key"),
        ("    days: 2\n", "    days: two\n", ":14:5:", "steps.1.days: Input should be a valid integer"),
        (
            "    days: 2\n",
            "    until_event: task.completed\n",
            ":14:5:",
            "steps.1.until_event: needs timeout_days (the longest it waits)",
        ),
        (
            "      health_score: {gt: 70}\n",
            "      health_scor: {gt: 70}\n",
            ":27:7:",
            "steps.3.rules.health_scor: unknown field 'health_scor' (did you mean 'health_score'?)",
        ),
        (
            "{gt: 70}",
            "{gt: high}",
            ":27:22:",
            "steps.3.rules.health_score.gt: health_score is a number; 'high' is not",
        ),
        (
            "      - task: call\n",
            "      - task: hello\n",
            ":29:9:",
            "steps.3.facts.0.task: 'hello' is not a task step of this journey (task steps: call)",
        ),
        (
            "        outcome: successful\n",
            "        outcome: great\n",
            ":30:18:",
            "steps.3.facts.0.outcome.0: Input should be 'successful'",
        ),
        (
            "    template: greeting\n",
            "    template: greting\n",
            ":8:5:",
            "steps.0.template: no email template 'greting' (known: adoption_tips, advocacy_thank_you, ",
        ),
        (
            '"Hi {{ contact.first_name }}"',
            '"Hi {{ contact.nickname }}"',
            ":9:14:",
            "steps.0.subject: contact has no field 'nickname'",
        ),
        (
            "      timeout_days: 5\n",
            "      timeout_days: 0\n",
            ":21:7:",
            "steps.2.wait_for_completion.timeout_days: Input should be greater than or equal to 1",
        ),
        (
            "    success: true\n",
            "    success: true\n    next: hello\n",
            ":37:5:",
            "steps.4.next: an exit ends the enrollment",
        ),
        (
            "  - key: done\n",
            "  - key: lost\n    type: exit\n    success: false\n\n  - key: done\n",
            ":34:5:",
            "steps.4.key: step 'lost' is never reached: no path leads to it from the first step, 'hello'",
        ),
        (
            "  - key: done\n",
            "  - key: pause\n",
            ":34:5:",
            "steps.4.key: 'pause' is used twice (also by steps.1)",
        ),
        (
            "trigger:\n  type: manual\n",
            "trigger:\n  type: event\n",
            ":4:3:",
            "trigger.event: an event trigger names the event",
        ),
        (
            "name: Demo\n",
            "name: Demo\ngoal: {health_scor: {gt: 70}}\n",
            ":3:8:",
            "goal.health_scor: unknown field 'health_scor' (did you mean 'health_score'?)",
        ),
        (
            "name: Demo\n",
            "name: Demo\nexit_when: {description: gone, within_days: 3, rules: {status: churned}}\n",
            ":3:32:",
            "exit_when.within_days: only for a goal",
        ),
    ],
)
def test_bad_journeys_name_file_line_column_and_key(tmp_path, old, new, where, reason):
    assert old in BASE
    path = _write(tmp_path, BASE.replace(old, new, 1))
    with pytest.raises(FileError) as info:
        load_journey(path)
    message = str(info.value)
    assert message.startswith(f"{path}{where}"), message
    assert reason in message, message
    assert info.value.exit_code == 2


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("Hello\n{{ sales.rep }}\n", "template emails/greeting.txt.j2, line 2: unknown name 'sales'"),
        (
            "Hello\n\n{{ customer.nmae }}\n",
            "template emails/greeting.txt.j2, line 3: customer has no field 'nmae'",
        ),
        ("Hello {% if %}\n", "template emails/greeting.txt.j2, line 1: Expected an expression"),
        (
            "{{ customer.name | nosuchfilter }}\n",
            "template emails/greeting.txt.j2, line 1: No filter named 'nosuchfilter'",
        ),
        ("{{ customer.arr / 0 }}\n", "template emails/greeting.txt.j2, line 1: ZeroDivisionError"),
        # The sandbox escapes people try: caught before any customer sees the template,
        # even in a branch the sample context does not take.
        ("Hi\n{{ ''.__class__ }}\n", "line 2: not allowed: the private attribute '__class__'"),
        ("{% if false %}{{ customer.__class__.__mro__ }}{% endif %}", "not allowed: the private attribute"),
        ("{{ 'x'|attr('__class__') }}", "line 1: not allowed: "),
        ("{{ customer|attr('name') }}", "not allowed: the attr filter"),
        ("{{ '{0.__class__}'.format('') }}", "not allowed: text with '__'"),
        ("{{ customer['_secret'] }}", "not allowed: the private attribute '_secret'"),
        ("{{ 'x' * 10**10 }}", "not allowed: this repeat would make 10,000,000,000 characters"),
    ],
)
def test_bad_email_templates_are_named_with_their_line(tmp_path, template, reason):
    path = _write(tmp_path, BASE, template=template)
    with pytest.raises(FileError) as info:
        load_journey(path)
    message = str(info.value)
    assert message.startswith(f"{path}:8:5: steps.0.template: template emails/greeting"), message
    assert reason in message, message


def test_the_html_part_is_checked_too(tmp_path):
    path = _write(tmp_path, BASE, html="<p>\n{{ contact.phone }}</p>")
    with pytest.raises(FileError) as info:
        load_journey(path)
    assert "steps.0.template: template emails/greeting.html.j2, line 2: contact has no field 'phone'" in str(
        info.value
    )


@pytest.mark.parametrize(
    "payload",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ 'x'|attr('__class__') }}",
        "{{ '{0.__class__}'.format('') }}",
        "{{ '{0.__globals__}'.format(customer) }}",
        "{{ (customer|attr('__class__')) }}",
        "{{ cycler.__init__.__globals__ }}",
    ],
)
def test_the_sandbox_refuses_escape_payloads_when_rendering(payload):
    # What the tick engine does: render in the sandbox, even a template never checked.
    with pytest.raises(TemplateError) as info:
        emails.render_parts(payload, None, emails.sample_context(), name="hostile")
    assert "not allowed" in info.value.reason or "undefined" in info.value.reason, info.value.reason


def test_a_folder_reports_every_broken_file_and_keys_used_twice(tmp_path):
    folder = tmp_path / "journeys"
    folder.mkdir()
    (folder / "good.yaml").write_text("steps:\n  - {key: go, type: start_journey, journey: other}\n")
    (folder / "twice.yaml").write_text("key: good\nsteps:\n  - {key: a, type: exit, success: true}\n")
    (folder / "Bad Name.yaml").write_text("steps:\n  - {key: a, type: exit, success: true}\n")
    (folder / "broken.yaml").write_text("steps: [\n")
    files, errors = load_folder(folder)
    messages = sorted(e.message for e in errors)
    assert messages == sorted(
        [
            f"{folder / 'Bad Name.yaml'}:1:1: the file name 'Bad Name' is not a journey key (a-z, 0-9, _): "
            "add `key: KEY`",
            f"{folder / 'broken.yaml'}:2:1: invalid YAML: expected the node content, "
            "but found '<stream end>'",
            f"{folder / 'twice.yaml'}:1:1: journey 'good' is also in {folder / 'good.yaml'}",
            f"{folder / 'good.yaml'}:2:36: steps.0.journey: there is no journey 'other' in {folder}",
        ]
    )
    assert [f.key for f in files] == ["good", "good"]


def test_the_docs_cover_every_field_step_type_template_name_and_command():
    import typing

    import typer

    from cs_cli.cli.journeys import app
    from cs_cli.specs import journey

    text = (Path(__file__).parent.parent.parent / "docs" / "journeys.md").read_text()
    steps = typing.get_args(typing.get_args(journey.Step)[0])
    for model in (journey.JourneySpec, journey.Trigger, journey.Criteria, journey.TaskCompletion, *steps):
        for name, info in model.model_fields.items():
            if name in ("type", "key", "name", "description", "next") and model in steps:
                continue
            field = info.alias or name
            assert f"| `{field}` |" in text, f"docs/journeys.md: {model.__name__}.{field}"
    for kind in journey.StepType:
        assert f"### {kind.value}\n" in text, kind
    for name in ("task", "outcome", "status", "event", "seen"):
        assert f"{name}:" in text, name
    for name, fields in emails.FIELDS.items():
        assert f"| `{name}` |" in text, name
        for field in fields:
            assert f"`{field}`" in text, f"{name}.{field}"
    for command in typer.main.get_command(app).commands:
        assert f"`cs journeys {command}" in text, command


def test_field_names_are_spelled_as_in_the_file_only(tmp_path):
    path = _write(tmp_path, BASE.replace("    else: hello\n", "    else_: hello\n"))
    with pytest.raises(FileError) as info:
        load_journey(path)
    assert str(info.value).endswith(":24:5: steps.3.else: Field required")
    path = _write(tmp_path, BASE)
    (tmp_path / "templates" / "emails" / "greeting.txt.j2").write_bytes(b"\xff\xfe bad")
    with pytest.raises(FileError) as info:
        load_journey(path)
    assert str(info.value).endswith("steps.0.template: template emails/greeting.txt.j2: not UTF-8 text")
