"""Playbooks: the shipped files, loading them (idempotent, ids kept,
deactivation, diffs), triggering a run (tasks, due dates, assignees,
recurrence, rendered text), dedupe and cooldown, every automatic trigger of
`evaluate`, and how a run settles and what its playbook learns."""

from __future__ import annotations

import datetime as dt
import shutil
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from cs_cli import paths
from cs_cli.db import dialect
from cs_cli.db.engine import session_factory, transaction
from cs_cli.db.models import (
    CSTask,
    Customer,
    DomainEvent,
    HealthOverride,
    HealthScoreHistory,
    Playbook,
    PlaybookRun,
    PlaybookStep,
    Segment,
    User,
)
from cs_cli.domain import HealthStatus, PlaybookRunStatus, Role, TaskStatus
from cs_cli.errors import BadInput, FileError, NotFound, NotPermitted
from cs_cli.services import events
from cs_cli.services.playbooks import catalog, runs
from cs_cli.services.playbooks.evaluate import evaluate
from cs_cli.services.playbooks.trigger import trigger
from cs_cli.services.tasks import run_cancel
from cs_cli.specs.playbook import TEMPLATE_FIELDS, load_folder, load_playbook

AS_OF = dt.date(2025, 1, 1)
NOW = dt.datetime(2025, 1, 1, 9, 0, tzinfo=dt.UTC)

# The plan's section 5.2, as printed there.
PLAN_5_2 = """playbook: risk_response
steps:
  - order: 1
    name: "Internal Risk Assessment"
    type: internal_task
    due_days: 1
    description: |
      Review customer data:
      - Recent support tickets
      - Usage decline reasons
      - Last touchpoints
      - Champion status
    artifacts: ["risk_assessment_doc"]

  - order: 2
    name: "Stakeholder Sync"
    type: meeting
    due_days: 2
    description: "Internal meeting with sales, support, product"
    meeting_agenda: |
      1. Current situation review
      2. Root cause analysis
      3. Action plan development
      4. Resource needs

  - order: 3
    name: "Executive Reach-out"
    type: call
    due_days: 3
    description: "Call to executive sponsor"
    talk_track: |
      - Acknowledge concerns
      - Present action plan
      - Commit to timeline
      - Schedule follow-up

  - order: 4
    name: "Action Plan Delivery"
    type: email
    due_days: 5
    template: "risk_action_plan"

  - order: 5
    name: "Weekly Check-in"
    type: call
    due_days: 7
    recurring: weekly
    duration_weeks: 4

  - order: 6
    name: "Health Review"
    type: review
    due_days: 30
    success_criteria:
      health_score_increase: 15
"""

# Section 5.1: steps and estimated hours of each standard playbook.
STANDARD = {
    "onboarding_excellence": ("Onboarding Excellence", 8, 6),
    "renewal_prep": ("Renewal Prep", 5, 4),
    "risk_response": ("Risk Response", 6, 8),
    "executive_escalation": ("Executive Escalation", 4, 4),
    "expansion_discovery": ("Expansion Discovery", 5, 3),
    "qbr_planning": ("QBR Planning", 6, 5),
    "champion_change": ("Champion Change", 4, 3),
}


def test_the_seven_shipped_playbooks_load_and_validate():
    files, errors = load_folder(paths.playbooks_dir())
    assert errors == []
    found = {f.key: (f.spec.title, len(f.spec.steps), f.spec.estimated_hours) for f in files}
    assert found == STANDARD
    triggers = {
        f.key: f.spec.triggers.model_dump(exclude_none=True) if f.spec.triggers else {} for f in files
    }
    assert triggers["risk_response"] == {"health_below": 50}
    assert triggers["renewal_prep"] == {"days_to_renewal": 90}
    assert triggers["executive_escalation"] == {"health_below": 30}
    assert triggers["champion_change"] == {"event": "contact.champion_left"}
    # Started by hand: every new customer takes the Onboarding journey.
    assert triggers["onboarding_excellence"] == {}
    # Every template names only fields a context has.
    used = set()
    for f in files:
        for step in f.spec.steps:
            for text in (step.description, step.meeting_agenda, step.talk_track):
                # The name before any filter (`customer.arr | money`).
                used.update(
                    part.split("}}")[0].split("|")[0].strip() for part in (text or "").split("{{")[1:]
                )
    assert {"customer.name", "health.overall_score", "csm.name", "customer.renewal_date"} <= used
    for name in used:
        top, _, field = name.partition(".")
        assert field in TEMPLATE_FIELDS[top], name


def test_risk_response_is_the_plans_example_word_for_word():
    path = paths.playbooks_dir() / "risk_response.yaml"
    assert PLAN_5_2 in path.read_text()
    spec = load_playbook(path).spec
    assert [(s.order, s.name, s.type.value, s.due_days) for s in spec.steps] == [
        (1, "Internal Risk Assessment", "internal_task", 1),
        (2, "Stakeholder Sync", "meeting", 2),
        (3, "Executive Reach-out", "call", 3),
        (4, "Action Plan Delivery", "email", 5),
        (5, "Weekly Check-in", "call", 7),
        (6, "Health Review", "review", 30),
    ]
    steps = {s.order: s for s in spec.steps}
    assert steps[1].artifacts == ["risk_assessment_doc"]
    assert steps[2].meeting_agenda.startswith("1. Current situation review\n")
    assert steps[3].talk_track.endswith("- Schedule follow-up\n")
    assert steps[4].template == "risk_action_plan"
    assert (steps[5].recurring.value, steps[5].duration_weeks, steps[5].due_offsets()) == (
        "weekly",
        4,
        [7, 14, 21, 28],
    )
    assert steps[6].success_criteria.health_score_increase == 15
    assert spec.judged_by() == {"health_score_increase": 15, "within_days": 30}


@pytest.mark.parametrize(
    ("old", "new", "where", "reason"),
    [
        ("    due_days: 2\n", "    due_dayz: 2\n", ":24:5:", "steps.1.due_dayz: unknown key"),
        (
            "    due_days: 2\n",
            "    due_days: soon\n",
            ":24:5:",
            "steps.1.due_days: Input should be a valid integer",
        ),
        (
            "  - order: 4\n",
            "  - order: 3\n",
            ":43:5:",
            "steps.3.order: order 3 is used twice (also by 'Executive Reach-out')",
        ),
        (
            '    name: "Health Review"',
            '    name: "Stakeholder Sync"',
            ":57:5:",
            "steps.5.name: name 'Stakeholder Sync' is used twice (also by the step of order 2)",
        ),
        ("    duration_weeks: 4\n", "", ":53:5:", "steps.4.recurring: needs duration_weeks"),
        (
            "    type: review\n",
            "    type: party\n",
            ":58:5:",
            "steps.5.type: Input should be 'call', 'email'",
        ),
        (
            "- Commit to timeline",
            "- Commit to {{ ''.__class__ }}",
            ":40:7:",
            "not allowed: access to attribute '__class__'",
        ),
        (
            "- Commit to timeline",
            "- Commit to {{ 'x' * 10**10 }}",
            ":40:7:",
            "steps.2.talk_track: not allowed: this repeat would make 10,000,000,000 characters",
        ),
        ("- Commit to timeline", "- Commit to {{ customer.nmae }}", ":40:7:", "customer has no field 'nmae'"),
        ("- Commit to timeline", "- {{ sales.rep }}", ":40:7:", "unknown name 'sales'"),
        ("- Commit to timeline", "- {% if %}", ":40:", "steps.2.talk_track: Expected an expression"),
        (
            "playbook: risk_response",
            "playbook: Risk Response",
            ":7:1:",
            "playbook: String should match pattern",
        ),
        (
            "  health_below: 50",
            "  health_below: 150",
            ":75:3:",
            "triggers.health_below: Input should be less than",
        ),
        ("  - order: 1\n", "  - order: 1\n   bad: [\n", ":10:4:", "invalid YAML"),
    ],
)
def test_bad_playbooks_name_file_line_column_and_key(tmp_path, old, new, where, reason):
    text = (paths.playbooks_dir() / "risk_response.yaml").read_text()
    assert old in text
    path = tmp_path / "risk_response.yaml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(FileError) as info:
        load_playbook(path)
    message = str(info.value)
    assert message.startswith(f"{path}{where}"), message
    assert reason in message, message


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{{ 'x' * 10**10 }}", "this repeat would make 10,000,000,000 characters or items (at most 100,000)"),
        ("{{ 10**10 * [0] }}", "this repeat would make 10,000,000,000"),
        ("{{ ('ab' * 50000) + 'c' }}", "joining these would make 100,001"),
        ("{{ 7 ** 123456789 }}", "this power would have about 104,333,090 digits (at most 1,000)"),
        ("{{ '%999999999s' % 'x' }}", "this %-format width would make 999,999,999"),
        ("{{ '%*s' | format(10**9, 'x') }}", "a %-format width or precision given as `*` is not allowed"),
        ("{{ 'x' | center(10**9) }}", "the center filter would make 1,000,000,000"),
        ("{{ 'x' | indent(width=10**9) }}", "the indent filter would make 1,000,000,000"),
        ("{{ [1] | batch(10**9, 0) | list }}", "the batch filter would make 1,000,000,000"),
        ("line 1\n{{ 'x'.ljust(10**9) }}", "str.ljust() would make 1,000,000,000"),
        ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "it recurses too deeply"),
    ],
)
def test_the_sandbox_refuses_to_build_a_huge_value(text, reason):
    from cs_cli import templates
    from cs_cli.errors import TemplateError

    with pytest.raises(TemplateError) as info:
        templates.render(text, {}, name="steps.0.description")
    assert info.value.exit_code == 2
    assert info.value.reason.startswith("not allowed: ") and reason in info.value.reason
    assert info.value.line == text.count("\n") + 1


def test_the_sandbox_bounds_leave_ordinary_templates_alone():
    from cs_cli import templates

    text = (
        "{{ '-' * 20 }}|{{ 3 * 'ab' }}|{{ 2 ** 10 }}|{{ 1.5 ** 2 }}|{{ '%5.1f%%' % 12.34 }}|"
        "{{ 'x' | center(5) }}|{{ [1, 2] + [3] }}|{{ 'a' ~ 'b' }}|{{ ('y' * 100000) | length }}"
    )
    assert templates.render(text, {}) == (
        "--------------------|ababab|1024|2.25| 12.3%|  x  |[1, 2, 3]|ab|100000"
    )


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "playbooks"
    shutil.copytree(paths.playbooks_dir(), folder)
    return folder


def _sync(engine, actor, folder: Path):
    with transaction(engine) as s:
        return catalog.sync(s, actor, catalog.read(folder), full=folder.is_dir(), now=NOW)


def test_load_is_idempotent_keeps_ids_shows_diffs_and_deactivates(engine, admin, tmp_path):
    folder = _folder(tmp_path)
    first = _sync(engine, admin, folder)
    assert sorted(c.kind for c in first) == ["added"] * 7
    with engine.connect() as c:
        ids = dict(c.execute(sa.select(Playbook.key, Playbook.id)).all())
        step_ids = dict(
            c.execute(
                sa.select(PlaybookStep.name, PlaybookStep.id).where(
                    PlaybookStep.playbook_id == ids["risk_response"]
                )
            ).all()
        )
        assert len(step_ids) == 6
    again = _sync(engine, admin, folder)
    assert [c.kind for c in again] == ["unchanged"] * 7

    # Edit a step, drop another, add one, remove a playbook; comments alone change nothing.
    path = folder / "risk_response.yaml"
    text = path.read_text()
    text = text.replace(
        '    due_days: 2\n    description: "Internal meeting',
        '    due_days: 3\n    description: "Internal meeting',
    )
    text = text.replace(
        '  - order: 4\n    name: "Action Plan Delivery"\n    type: email\n    due_days: 5\n'
        '    template: "risk_action_plan"\n',
        '  - order: 4\n    name: "Action Plan Call"\n    type: call\n    due_days: 5\n',
    )
    path.write_text("# reviewed by the CS leads\n" + text)
    (folder / "qbr_planning.yaml").unlink()
    (folder / "champion_change.yaml").write_text(
        "# a comment\n" + (folder / "champion_change.yaml").read_text()
    )
    with transaction(engine) as s:
        planned = catalog.plan(s, catalog.read(folder), full=True)
    kinds = {c.key: c.kind for c in planned}
    assert kinds["risk_response"] == "changed" and kinds["qbr_planning"] == "deactivated"
    assert kinds["champion_change"] == "unchanged"
    diff = next(c.diff for c in planned if c.key == "risk_response")
    assert "-  due_days: 2\n+  due_days: 3\n" in diff
    assert "-  name: Action Plan Delivery\n" in diff and "+  name: Action Plan Call\n" in diff
    assert "-  template: risk_action_plan\n" in diff
    assert diff.startswith("--- database: risk_response\n+++ ")
    removed = next(c.diff for c in planned if c.key == "qbr_planning")
    assert "-playbook: qbr_planning\n" in removed

    changed = _sync(engine, admin, folder)
    assert {c.key: c.kind for c in changed} == kinds
    with engine.connect() as c:
        assert dict(c.execute(sa.select(Playbook.key, Playbook.id)).all()) == ids
        steps = {
            name: (sid, active, due)
            for name, sid, active, due in c.execute(
                sa.select(
                    PlaybookStep.name, PlaybookStep.id, PlaybookStep.is_active, PlaybookStep.due_days
                ).where(PlaybookStep.playbook_id == ids["risk_response"])
            )
        }
        assert steps["Stakeholder Sync"] == (step_ids["Stakeholder Sync"], True, 3)
        assert steps["Action Plan Delivery"] == (step_ids["Action Plan Delivery"], False, 5)
        assert steps["Action Plan Call"][1] is True
        active = dict(c.execute(sa.select(Playbook.key, Playbook.is_active)).all())
        assert active["qbr_planning"] is False and active["risk_response"] is True
        audited = c.execute(sa.text("SELECT action, entity_id FROM cs_audit_log ORDER BY id")).all()
        assert ("playbook.deactivated", "qbr_planning") in audited

    # Loading one file touches only that playbook; the original folder brings everything back.
    assert [c.kind for c in _sync(engine, admin, folder / "renewal_prep.yaml")] == ["unchanged"]
    back = _sync(engine, admin, paths.playbooks_dir())
    assert {c.key: c.kind for c in back if c.kind != "unchanged"} == {
        "risk_response": "changed",
        "qbr_planning": "changed",
    }
    with engine.connect() as c:
        assert dict(c.execute(sa.select(Playbook.key, Playbook.id)).all()) == ids
        revived = c.execute(
            sa.select(PlaybookStep.is_active).where(PlaybookStep.id == step_ids["Action Plan Delivery"])
        ).scalar()
        assert revived is True

    # Only admins load; a trigger naming a missing segment is an error at its line.
    with transaction(engine) as s, pytest.raises(NotPermitted):
        catalog.sync(s, _csm(s), catalog.read(folder), full=True, now=NOW)
    path = folder / "renewal_prep.yaml"
    path.write_text(path.read_text().replace("  days_to_renewal: 90", "  segment: Big Renewals"))
    with transaction(engine) as s, pytest.raises(FileError) as info:
        catalog.sync(s, admin, catalog.read(folder), full=True, now=NOW)
    assert str(info.value).startswith(
        f"{path}:14:3: triggers.segment: there is no segment named 'Big Renewals'"
    )


def _csm(session):
    from cs_cli.domain import Actor

    user = User(login="carl", name="Carl", email="carl@example.com", role=Role.CSM)
    session.add(user)
    session.flush()
    return Actor(name="carl", role=Role.CSM, user_id=user.id)


def _customer_id(s, external_id: str) -> int:
    return s.scalar(sa.select(Customer.id).where(Customer.external_id == external_id))


def _tasks(engine, run_id: int) -> list:
    with engine.connect() as c:
        return c.execute(
            sa.select(
                CSTask.title,
                CSTask.due_date,
                User.login,
                CSTask.assigned_to_role,
                CSTask.task_type,
                CSTask.priority,
                CSTask.status,
                CSTask.description,
            )
            .outerjoin(User, User.id == CSTask.assigned_to_user_id)
            .where(CSTask.playbook_run_id == run_id)
            .order_by(CSTask.id)
        ).all()


def test_trigger_creates_dated_assigned_rendered_tasks_once(engine, admin, book):
    _sync(engine, admin, paths.playbooks_dir())
    with transaction(engine) as s:
        started = trigger(
            s, admin, "risk_response", "E-1", reason="sales escalation", force=False, as_of=AS_OF, now=NOW
        )
    assert started.run.customer == "E-1" and started.run.baseline_health_score == 82
    assert started.run.trigger_reason == "sales escalation" and started.run.triggered_by == "manual"
    tasks = _tasks(engine, started.run.id)
    day = lambda n: AS_OF + dt.timedelta(days=n)  # noqa: E731
    assert [(t.title, t.due_date, t.login, t.assigned_to_role) for t in tasks] == [
        ("Internal Risk Assessment", day(1), "ana", "csm"),
        ("Stakeholder Sync", day(2), "ana", "csm"),
        ("Executive Reach-out", day(3), "ana", "csm"),
        ("Action Plan Delivery", day(5), "ana", "csm"),
        ("Weekly Check-in (1 of 4)", day(7), "ana", "csm"),
        ("Weekly Check-in (2 of 4)", day(14), "ana", "csm"),
        ("Weekly Check-in (3 of 4)", day(21), "ana", "csm"),
        ("Weekly Check-in (4 of 4)", day(28), "ana", "csm"),
        ("Health Review", day(30), "ana", "csm"),
    ]
    assert [t.task_type.value for t in tasks][:5] == ["internal", "meeting", "call", "email", "call"]
    assert {t.priority.value for t in tasks} == {"high"} and {t.status for t in tasks} == {TaskStatus.PENDING}
    assert tasks[1].description == (
        "Internal meeting with sales, support, product\n\nAgenda:\n1. Current situation review\n"
        "2. Root cause analysis\n3. Action plan development\n4. Resource needs"
    )
    assert tasks[0].description.endswith("\n\nArtifacts: risk_assessment_doc")
    assert tasks[3].description == "Email template: risk_action_plan"
    assert [t.title for t in started.tasks] == [t.title for t in tasks]

    # Roles: E-1's CSM is ana, whose manager is mia, the top of her chain.
    with transaction(engine) as s:
        escalation = trigger(
            s, admin, "executive_escalation", "E-1", reason=None, force=False, as_of=AS_OF, now=NOW
        )
        renewal = trigger(s, admin, "renewal_prep", "E-1", reason=None, force=False, as_of=AS_OF, now=NOW)
        # W-1's CSM bo has no manager: manager tasks stay unassigned, keeping the role.
        west = trigger(
            s, admin, "executive_escalation", "W-1", reason=None, force=False, as_of=AS_OF, now=NOW
        )
    rows = _tasks(engine, escalation.run.id)
    assert [(t.login, t.assigned_to_role) for t in rows] == [
        ("ana", "csm"),
        ("mia", "manager"),
        ("mia", "executive"),
        ("mia", "manager"),
    ]
    assert rows[2].description.startswith("Call Ed Sponsor (CTO), executive sponsor at Alpha Analytics.")
    assert "Thank Ed Sponsor for their candour" in rows[2].description
    assert "- Agree a weekly update from Ana and a date" in rows[2].description
    assert rows[3].due_date == day(21)
    assert "Health was 82 when the escalation started." in rows[3].description
    assert [(t.login, t.assigned_to_role) for t in _tasks(engine, west.run.id)] == [
        ("bo", "csm"),
        (None, "manager"),
        (None, "executive"),
        (None, "manager"),
    ]
    first = _tasks(engine, renewal.run.id)[0].description
    assert first.startswith(
        "Alpha Analytics renews on 2025-02-01 (31 days from now)\nat 120K ARR; health is 82 (healthy)."
    )

    # Never a second active run; the event log and the counter saw each run once.
    with (
        transaction(engine) as s,
        pytest.raises(BadInput, match=r"E-1 already has an active run of risk_response"),
    ):
        trigger(s, admin, "risk_response", "E-1", reason=None, force=True, as_of=AS_OF, now=NOW)
    with transaction(engine) as s:
        with pytest.raises(NotFound):
            trigger(s, admin, "no_such", "E-1", reason=None, force=False, as_of=AS_OF, now=NOW)
        with pytest.raises(BadInput, match="E-2 has churned"):
            trigger(s, admin, "risk_response", "E-2", reason=None, force=False, as_of=AS_OF, now=NOW)
        bo = s.scalar(sa.select(User).where(User.login == "bo"))
        from cs_cli.domain import Actor

        as_bo = Actor(name="bo", role=Role.CSM, user_id=bo.id, team_id=bo.team_id)
        with pytest.raises(NotFound, match="no customer 'E-3' that you can see"):
            trigger(s, as_bo, "risk_response", "E-3", reason=None, force=False, as_of=AS_OF, now=NOW)
    with engine.connect() as c:
        triggered = c.execute(
            sa.select(DomainEvent.customer_id, DomainEvent.data).where(
                DomainEvent.event_type == "playbook.triggered"
            )
        ).all()
        assert len(triggered) == 4
        assert triggered[0].data == {
            "playbook": "risk_response",
            "run_id": started.run.id,
            "triggered_by": "manual",
            "reason": "sales escalation",
        }
        counts = dict(c.execute(sa.select(Playbook.key, Playbook.times_triggered)).all())
        assert counts["risk_response"] == 1 and counts["executive_escalation"] == 2


def test_cancel_and_cooldown(engine, admin, book):
    _sync(engine, admin, paths.playbooks_dir())
    with transaction(engine) as s:
        run = trigger(s, admin, "risk_response", "M-1", reason=None, force=False, as_of=AS_OF, now=NOW).run
    with transaction(engine) as s:
        assert run_cancel.cancel_run(s, admin, run.id, now=NOW + dt.timedelta(days=2), reason="paused") == 9
        with pytest.raises(BadInput, match=f"run {run.id} is cancelled"):
            run_cancel.cancel_run(s, admin, run.id, now=NOW, reason=None)
    with engine.connect() as c:
        assert {t.status for t in _tasks(engine, run.id)} == {TaskStatus.CANCELLED}
        cancelled = c.scalar(sa.select(sa.func.count()).where(DomainEvent.event_type == "task.cancelled"))
        assert cancelled == 9
    later = NOW + dt.timedelta(days=20)
    with (
        transaction(engine) as s,
        pytest.raises(BadInput, match=r"cooldown of 30 days lasts until 2025-02-02"),
    ):
        trigger(s, admin, "risk_response", "M-1", reason=None, force=False, as_of=later.date(), now=later)
    # evaluate respects the cooldown too: W-1 (30) starts, M-1 (45) waits.
    with transaction(engine) as s:
        result = evaluate(s, admin, as_of=later.date(), now=later)
    assert result.runs_started["risk_response"] == 1
    with transaction(engine) as s:
        forced = trigger(
            s, admin, "risk_response", "M-1", reason=None, force=True, as_of=later.date(), now=later
        )
    assert forced.run.status == PlaybookRunStatus.ACTIVE
    after = NOW + dt.timedelta(days=33)
    with transaction(engine) as s:
        run_cancel.cancel_run(s, admin, forced.run.id, now=NOW + dt.timedelta(days=21), reason=None)
        assert evaluate(s, admin, as_of=after.date(), now=after).runs_started.get("risk_response") is None
    nearly = NOW + dt.timedelta(days=52)
    with transaction(engine) as s:
        assert evaluate(s, admin, as_of=nearly.date(), now=nearly).runs_started["risk_response"] == 1


def _write(folder: Path, name: str, text: str) -> None:
    (folder / f"{name}.yaml").write_text(text)


CUSTOM = """
playbook: {key}
category: custom
cooldown_days: 10
triggers:
  {trigger}
steps:
  - order: 1
    name: Look
    type: review
    due_days: 2
    description: "{{{{ customer.name }}}} ({{{{ run.reason }}}})"
"""


def test_evaluate_fires_each_trigger_kind_once(engine, admin, book, tmp_path):
    with transaction(engine) as s:
        s.add(Segment(name="Big Accounts"))
    folder = _folder(tmp_path)
    _write(folder, "big_entry", CUSTOM.format(key="big_entry", trigger="segment: Big Accounts"))
    _write(folder, "sso_broken", CUSTOM.format(key="sso_broken", trigger="event: integration.failed"))
    with transaction(engine) as s:
        segment_id = s.scalar(sa.select(Segment.id))
        # Events from before the playbooks were loaded never start them.
        events.record(s, admin, "integration.failed", customer_id=_customer_id(s, "E-1"), occurred_at=NOW)
    _sync(engine, admin, folder)

    with transaction(engine) as s:
        result = evaluate(s, admin, as_of=AS_OF, now=NOW)
    # Health below 50: M-1 (45) and W-1 (30); not E-2 (churned). Renewal in
    # 90 days: M-1, W-1, E-1. Nothing below 30.
    assert result.runs_started == {"risk_response": 2, "renewal_prep": 3}
    assert result.tasks_created == 2 * 9 + 3 * 5
    with engine.connect() as c:
        started = {
            (key, ext, by)
            for key, ext, by in c.execute(
                sa.select(Playbook.key, Customer.external_id, PlaybookRun.triggered_by)
                .join(Playbook, Playbook.id == PlaybookRun.playbook_id)
                .join(Customer, Customer.id == PlaybookRun.customer_id)
            )
        }
    assert started == {
        ("risk_response", "M-1", "health"),
        ("risk_response", "W-1", "health"),
        ("renewal_prep", "M-1", "renewal"),
        ("renewal_prep", "W-1", "renewal"),
        ("renewal_prep", "E-1", "renewal"),
    }
    with transaction(engine) as s:
        assert evaluate(s, admin, as_of=AS_OF, now=NOW).runs_started == {}

    # Segment entry and named events after the cursor; each once.
    with transaction(engine) as s:
        e3, w2 = _customer_id(s, "E-3"), _customer_id(s, "W-2")
        events.record(
            s, admin, "segment.entered", customer_id=e3, occurred_at=NOW, data={"segment_id": segment_id}
        )
        events.record(
            s, admin, "segment.entered", customer_id=w2, occurred_at=NOW, data={"segment_id": segment_id + 1}
        )
        events.record(s, admin, "integration.failed", customer_id=w2, occurred_at=NOW)
        events.record(s, admin, "integration.failed", customer_id=w2, occurred_at=NOW)
    with transaction(engine) as s:
        result = evaluate(s, admin, as_of=AS_OF, now=NOW)
    assert result.runs_started == {"big_entry": 1, "sso_broken": 1}
    with engine.connect() as c:
        texts = (
            c.execute(
                sa.select(CSTask.description)
                .join(Playbook, Playbook.id == CSTask.playbook_id)
                .where(Playbook.key.in_(["big_entry", "sso_broken"]))
                .order_by(CSTask.id)
            )
            .scalars()
            .all()
        )
        assert texts == [
            "Gamma Goods (entered segment Big Accounts)",
            "Epsilon Energy (event integration.failed)",
        ]
        high = c.scalar(
            sa.select(sa.func.max(DomainEvent.id)).where(DomainEvent.event_type != "playbook.triggered")
        )
        cursors = dict(c.execute(sa.select(Playbook.key, Playbook.event_cursor)).all())
        assert cursors["big_entry"] >= high and cursors["sso_broken"] >= high
    with transaction(engine) as s:
        assert evaluate(s, admin, as_of=AS_OF, now=NOW).runs_started == {}

    # Renewal: once per renewal, even after the run was cancelled; the next renewal starts it again.
    with transaction(engine) as s:
        run_id = s.scalar(
            sa.select(PlaybookRun.id)
            .join(Playbook, Playbook.id == PlaybookRun.playbook_id)
            .where(Playbook.key == "renewal_prep", PlaybookRun.customer_id == _customer_id(s, "E-1"))
        )
        run_cancel.cancel_run(s, admin, run_id, now=NOW, reason=None)
    soon = NOW + dt.timedelta(days=5)
    with transaction(engine) as s:
        assert "renewal_prep" not in evaluate(s, admin, as_of=soon.date(), now=soon).runs_started
        s.execute(
            sa.update(Customer).where(Customer.external_id == "E-1").values(renewal_date=dt.date(2026, 2, 1))
        )
    next_year = dt.datetime(2025, 12, 1, 9, tzinfo=dt.UTC)
    with transaction(engine) as s:
        again = evaluate(s, admin, as_of=next_year.date(), now=next_year).runs_started
    assert again.get("renewal_prep") == 1

    # Only admins evaluate (the event cursors are the whole book's).
    with transaction(engine) as s, pytest.raises(NotPermitted):
        evaluate(s, _csm(s), as_of=AS_OF, now=NOW)


def test_evaluate_never_moves_past_an_event_still_being_written(engine, admin, book, tmp_path):
    path = tmp_path / "sso_broken.yaml"
    path.write_text(CUSTOM.format(key="sso_broken", trigger="event: integration.failed"))
    _sync(engine, admin, path)
    with transaction(engine) as s:
        e1, w2 = _customer_id(s, "E-1"), _customer_id(s, "W-2")
        before = dialect.event_horizon(s)
    # An event recorded by a transaction that is still open.
    writer = session_factory(engine)()
    try:
        events.record(writer, admin, "integration.failed", customer_id=w2, occurred_at=NOW)
        writer.flush()
        if engine.dialect.name != "postgresql":
            # One writer at a time: what a reader sees ends below the open
            # transaction's event, which comes after it once committed.
            with session_factory(engine)() as reader:
                assert dialect.event_horizon(reader) == before
            writer.commit()
            with transaction(engine) as s:
                assert evaluate(s, admin, as_of=AS_OF, now=NOW).runs_started == {"sso_broken": 1}
            return
        # Postgres: a later event is committed while the first is open, so
        # the highest id committed is above an event not yet visible.
        with transaction(engine) as s:
            events.record(s, admin, "integration.failed", customer_id=e1, occurred_at=NOW)
        outcome: dict = {}

        def run() -> None:
            try:
                with transaction(engine) as s:
                    # Never wait for ever, whatever goes wrong.
                    s.execute(sa.text("SET LOCAL lock_timeout = '10s'"))
                    outcome["result"] = evaluate(s, admin, as_of=AS_OF, now=NOW)
            except BaseException as exc:
                outcome["error"] = exc

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        thread.join(0.5)
        assert thread.is_alive(), f"evaluate did not wait for the open transaction: {outcome}"
        writer.commit()
        thread.join(15)
        assert not thread.is_alive()
        assert "error" not in outcome, outcome
        # Both events acted on: the one committed late was not skipped.
        assert outcome["result"].runs_started == {"sso_broken": 2}
    finally:
        writer.rollback()
        writer.close()
    with engine.connect() as c:
        started = c.execute(sa.select(Customer.external_id).join(PlaybookRun)).scalars().all()
        assert sorted(started) == ["E-1", "W-2"]
        cursor = c.scalar(sa.select(Playbook.event_cursor).where(Playbook.key == "sso_broken"))
        high = c.scalar(
            sa.select(sa.func.max(DomainEvent.id)).where(DomainEvent.event_type == "integration.failed")
        )
        assert cursor >= high


def test_an_override_in_force_stands_in_for_the_computed_score(engine, admin, book):
    _sync(engine, admin, paths.playbooks_dir())
    with transaction(engine) as s:
        # W-1 is computed at 30; its CSM says 90 until February. M-1's
        # override (45 -> 90) expired yesterday: the computed 45 stands.
        for ext, expires in (("W-1", dt.date(2025, 2, 1)), ("M-1", AS_OF - dt.timedelta(days=1))):
            s.add(
                HealthOverride(
                    customer_id=_customer_id(s, ext),
                    overall_score=90,
                    health_status=HealthStatus.HEALTHY,
                    reason="renewal signed",
                    expires_on=expires,
                    set_by="admin",
                    created_at=NOW,
                )
            )
    with transaction(engine) as s:
        result = evaluate(s, admin, as_of=AS_OF, now=NOW)
    # Health below 50: M-1 only (W-1 counts as 90). Renewals: M-1, W-1, E-1.
    assert result.runs_started == {"risk_response": 1, "renewal_prep": 3}
    with engine.connect() as c:
        rows = c.execute(
            sa.select(Playbook.key, Customer.external_id, PlaybookRun.baseline_health_score, PlaybookRun.id)
            .join(Playbook, Playbook.id == PlaybookRun.playbook_id)
            .join(Customer, Customer.id == PlaybookRun.customer_id)
        ).all()
    assert {(key, ext, base) for key, ext, base, _ in rows} == {
        ("risk_response", "M-1", 45),
        ("renewal_prep", "M-1", 45),
        ("renewal_prep", "W-1", 90),
        ("renewal_prep", "E-1", 82),
    }
    # The task text reads the score a person sees, too.
    w1_renewal = next(run_id for key, ext, _, run_id in rows if (key, ext) == ("renewal_prep", "W-1"))
    assert "ARR; health is 90 (healthy)." in _tasks(engine, w1_renewal)[0].description
    # A run started by hand takes the override as its baseline.
    with transaction(engine) as s:
        run = trigger(s, admin, "risk_response", "W-1", reason=None, force=False, as_of=AS_OF, now=NOW).run
    assert run.baseline_health_score == 90


def _close_all(engine, run_id: int, status: TaskStatus = TaskStatus.COMPLETED) -> None:
    with transaction(engine) as s:
        s.execute(sa.update(CSTask).where(CSTask.playbook_run_id == run_id).values(status=status))


def test_runs_settle_and_the_playbook_learns(engine, admin, book):
    _sync(engine, admin, paths.playbooks_dir())
    with transaction(engine) as s:
        m1 = trigger(s, admin, "risk_response", "M-1", reason=None, force=False, as_of=AS_OF, now=NOW).run
        w1 = trigger(s, admin, "risk_response", "W-1", reason=None, force=False, as_of=AS_OF, now=NOW).run
        # W-2 has no health score: nothing to measure an increase from.
        w2 = trigger(s, admin, "risk_response", "W-2", reason=None, force=False, as_of=AS_OF, now=NOW).run
        for ext, day, score in (("M-1", 5, 50), ("M-1", 12, 61), ("W-1", 40, 90), ("W-2", 3, 95)):
            s.add(
                HealthScoreHistory(
                    customer_id=_customer_id(s, ext),
                    as_of=AS_OF + dt.timedelta(days=day),
                    overall_score=score,
                )
            )
    # One task still open: the run goes on.
    with transaction(engine) as s:
        s.execute(
            sa.update(CSTask)
            .where(CSTask.playbook_run_id == m1.id, CSTask.title != "Health Review")
            .values(status=TaskStatus.COMPLETED)
        )
        runs.settle_runs(s, [m1.id], now=NOW + dt.timedelta(days=10))
        assert s.get(PlaybookRun, m1.id).status == PlaybookRunStatus.ACTIVE
    # All done (a cancelled one counts as done): completed, and 45 -> 61 within 30 days is a success.
    _close_all(engine, m1.id, TaskStatus.CANCELLED)
    twenty = NOW + dt.timedelta(days=20)
    with transaction(engine) as s:
        runs.settle_runs(s, [m1.id, w1.id, None], now=twenty)
    # W-1 went 30 -> 90, but on day 40: outside the window. Settled on day 20, still open.
    _close_all(engine, w1.id)
    _close_all(engine, w2.id)
    with transaction(engine) as s:
        runs.settle_runs(s, [w1.id, w2.id], now=twenty)
    with engine.connect() as c:
        got = {
            r.id: (r.status, r.success, r.completed_at)
            for r in c.execute(
                sa.select(PlaybookRun.id, PlaybookRun.status, PlaybookRun.success, PlaybookRun.completed_at)
            )
        }
        assert got[m1.id] == (PlaybookRunStatus.COMPLETED, True, twenty)
        assert got[w1.id] == (PlaybookRunStatus.COMPLETED, None, twenty)
        assert got[w2.id] == (PlaybookRunStatus.COMPLETED, None, twenty)
    with transaction(engine) as s:
        p = s.scalar(sa.select(Playbook).where(Playbook.key == "risk_response"))
        assert (p.times_triggered, p.times_completed, p.success_rate) == (3, 3, 1.0)
        assert p.avg_completion_days == pytest.approx(20.0)
    # Once the window has passed, evaluate closes the open judgement; a run
    # with no baseline stays undecided and out of the success rate.
    later = NOW + dt.timedelta(days=45)
    with transaction(engine) as s:
        assert evaluate(s, admin, as_of=later.date(), now=later).runs_judged == 1
    with engine.connect() as c:
        success = dict(c.execute(sa.select(PlaybookRun.id, PlaybookRun.success)).all())
        assert (success[m1.id], success[w1.id], success[w2.id]) == (True, False, None)
        assert c.scalar(sa.select(Playbook.success_rate).where(Playbook.key == "risk_response")) == 0.5
    even_later = NOW + dt.timedelta(days=90)
    with transaction(engine) as s:
        assert evaluate(s, admin, as_of=even_later.date(), now=even_later).runs_judged == 0
    with engine.connect() as c:
        assert c.scalar(sa.select(PlaybookRun.success).where(PlaybookRun.id == w2.id)) is None


def test_the_docs_cover_every_field_name_and_command():
    import typer

    from cs_cli.cli.playbooks import app
    from cs_cli.specs.playbook import PlaybookSpec, Step, SuccessCriteria, Triggers

    text = (Path(__file__).parent.parent.parent / "docs" / "playbooks.md").read_text()
    for model in (PlaybookSpec, Step, Triggers, SuccessCriteria):
        for name in model.model_fields:
            assert f"| `{name}` |" in text, f"docs/playbooks.md: {model.__name__}.{name}"
    for name, fields in TEMPLATE_FIELDS.items():
        assert f"| `{name}` |" in text, name
        for field in fields:
            assert f"`{field}`" in text, f"{name}.{field}"
    for command in typer.main.get_command(app).commands:
        assert f"`cs playbooks {command}" in text, command
