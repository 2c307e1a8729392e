"""The journey catalog on both dialects: loading the shipped journeys into
rows the tick engine can walk, idempotence, versions (old step rows stay for
the enrollments on them), deactivation, what loading looks up in the
database (segments, playbooks, journeys), and the funnel of `show --metrics`."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from cs_cli import paths
from cs_cli.db.engine import transaction
from cs_cli.db.models import AuditEntry, Customer, Journey, JourneyEnrollment, JourneyStep, Segment, User
from cs_cli.domain import Actor, EnrollmentStatus, JourneyStepType, Role, SegmentType
from cs_cli.errors import FileError, NotPermitted
from cs_cli.services.journeys import catalog
from cs_cli.services.journeys.views import journey_detail, list_journeys
from cs_cli.services.playbooks import catalog as playbooks

NOW = dt.datetime(2025, 1, 1, 9, 0, tzinfo=dt.UTC)


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "journeys"
    shutil.copytree(paths.journeys_dir(), folder)
    return folder


def _sync(engine, actor, path: Path):
    with transaction(engine) as s:
        return catalog.sync(s, actor, catalog.read(path), full=path.is_dir(), now=NOW)


def _load_playbooks(engine, admin) -> None:
    with transaction(engine) as s:
        playbooks.sync(s, admin, playbooks.read(paths.playbooks_dir()), full=True, now=NOW)


def _steps(conn, key: str, version: int) -> dict[str, JourneyStep]:
    rows = conn.execute(
        sa.select(JourneyStep)
        .join(Journey, Journey.id == JourneyStep.journey_id)
        .where(Journey.key == key, JourneyStep.version == version)
        .order_by(JourneyStep.step_order)
    ).scalars()
    return {s.key: s for s in rows}


def test_load_writes_walkable_versions_idempotently_and_deactivates(engine, admin, tmp_path):
    _load_playbooks(engine, admin)
    folder = _folder(tmp_path)
    first = _sync(engine, admin, folder)
    assert sorted((c.key, c.kind, c.version) for c in first) == sorted(
        (key, "added", 1)
        for key in (
            "onboarding",
            "adoption",
            "renewal",
            "risk_mitigation",
            "expansion",
            "advocacy",
            "win_back",
        )
    )
    added = next(c for c in first if c.key == "onboarding")
    assert added.diff.startswith("--- database: onboarding\n+++ ") and "+- key: welcome_email\n" in added.diff
    assert "+templates:\n+  onboarding_training:\n" in added.diff

    with transaction(engine) as s:
        journey = s.scalars(sa.select(Journey).where(Journey.key == "onboarding")).one()
        assert (journey.trigger_type.value, journey.trigger_config) == (
            "event",
            {"event": "customer.created"},
        )
        assert journey.goal["goal"]["rules"] == {"adoption_score": {"gte": 50}}
        assert journey.goal["exit_when"]["rules"] == {"status": "churned"}
        assert (journey.duration_days, journey.version, journey.is_active) == (90, 1, True)
        steps = _steps(s, "onboarding", 1)
        by_id = {step.id: step.key for step in steps.values()}
        # The tick engine walks ids: follow the yes branch to the end.
        path, step = [], steps["welcome_email"]
        while step is not None:
            path.append(step.key)
            target = step.true_next_step_id or step.next_step_id
            step = steps[by_id[target]] if target else None
        assert path == [
            "welcome_email",
            "wait_2_days",
            "kickoff_call",
            "kickoff_complete",
            "training_email",
            "wait_7_days",
            "adoption_check",
            "adoption_over_50",
            "continue_week_2",
            "review_30_day",
            "health_check",
            "health_over_70",
            "exit_success",
        ]
        assert by_id[steps["kickoff_complete"].false_next_step_id] == "reschedule_kickoff"
        assert by_id[steps["health_over_70"].false_next_step_id] == "risk_journey"
        assert (steps["wait_2_days"].step_type, steps["wait_2_days"].wait_days) == (JourneyStepType.WAIT, 2)
        assert steps["adoption_over_50"].condition_rules == {"adoption_score": {"gt": 50}}
        assert steps["kickoff_complete"].config["facts"] == [
            {"task": "kickoff_call", "outcome": ["successful"]}
        ]
        # The four actions sit under a plan type until the column takes them; config says what they are.
        exit_step = steps["exit_success"]
        assert (exit_step.step_type, exit_step.config["type"], exit_step.config["success"]) == (
            JourneyStepType.HEALTH_CHECK,
            "exit",
            True,
        )
        assert steps["risk_journey"].config == {"type": "start_journey", "journey": "risk_mitigation"}
        welcome = steps["welcome_email"].config
        assert welcome["template"] == "onboarding_welcome" and welcome["to"] == "contact"
        shipped = Path(paths.PACKAGE_DIR / "templates" / "emails" / "onboarding_welcome.txt.j2").read_text()
        assert welcome["resolved"]["text"] == shipped and welcome["resolved"]["html"].startswith("<p>Hello")
        assert steps["kickoff_call"].config["wait_for_completion"] == {"timeout_days": 10}
        # An enrollment running on version 1, at the kickoff call.
        customer = Customer(external_id="C-1", name="Acme")
        s.add(customer)
        s.flush()
        s.add(
            JourneyEnrollment(
                journey_id=journey.id,
                journey_version=1,
                customer_id=customer.id,
                current_step_id=steps["kickoff_call"].id,
                enrolled_at=NOW,
                facts={"visited": {"welcome_email": 1, "wait_2_days": 1}},
            )
        )
        v1_ids = {key: step.id for key, step in steps.items()}

    assert {c.kind for c in _sync(engine, admin, folder)} == {"unchanged"}

    # Edit a step and override a template; remove a journey; comments alone change nothing.
    path = folder / "onboarding.yaml"
    path.write_text(path.read_text().replace("    days: 2\n", "    days: 3\n", 1))
    override = folder / "templates" / "emails" / "onboarding_week_2.txt.j2"
    override.parent.mkdir(parents=True)
    override.write_text("Week 2 for {{ customer.name }}.\n")
    (folder / "advocacy.yaml").unlink()
    win_back = folder / "win_back.yaml"
    win_back.write_text("# reviewed\n" + win_back.read_text())
    with transaction(engine) as s:
        planned = catalog.plan(s, catalog.read(folder), full=True)
    kinds = {c.key: (c.kind, c.version) for c in planned}
    assert kinds["onboarding"] == ("changed", 2) and kinds["advocacy"] == ("deactivated", 1)
    assert kinds["win_back"] == ("unchanged", 1)
    diff = next(c.diff for c in planned if c.key == "onboarding")
    assert "-  days: 2\n+  days: 3\n" in diff
    week_2 = diff.split("   onboarding_week_2:\n", 1)[1].split("   onboarding_welcome:\n", 1)[0]
    # The override has no HTML part: the template is the folder's, both parts or none.
    assert week_2.startswith("-    html: |\n") and "+      Week 2 for {{ customer.name }}.\n" in week_2
    assert "-      Your team at {{ customer.name }} is off to a good start. In week 2 we\n" in diff
    assert "-key: advocacy\n" in next(c.diff for c in planned if c.key == "advocacy")

    changed = _sync(engine, admin, folder)
    assert {c.key: c.kind for c in changed if c.kind != "unchanged"} == {
        "onboarding": "changed",
        "advocacy": "deactivated",
    }
    with transaction(engine) as s:
        journey = s.scalars(sa.select(Journey).where(Journey.key == "onboarding")).one()
        assert journey.version == 2
        old, new = _steps(s, "onboarding", 1), _steps(s, "onboarding", 2)
        # Version 1 is untouched: the running enrollment keeps its step and its wait of 2 days.
        assert {key: step.id for key, step in old.items()} == v1_ids
        assert old["wait_2_days"].wait_days == 2 and new["wait_2_days"].wait_days == 3
        assert set(new) == set(old) and not set(v1_ids.values()) & {step.id for step in new.values()}
        assert new["continue_week_2"].config["resolved"] == {"text": "Week 2 for {{ customer.name }}.\n"}
        enrollment = s.scalars(sa.select(JourneyEnrollment)).one()
        assert (enrollment.journey_version, enrollment.current_step_id) == (1, v1_ids["kickoff_call"])
        active = dict(s.execute(sa.select(Journey.key, Journey.is_active)).all())
        assert active["advocacy"] is False and active["onboarding"] is True
        assert (
            s.scalar(
                sa.select(sa.func.count())
                .select_from(JourneyStep)
                .join(Journey)
                .where(Journey.key == "advocacy")
            )
            == 6
        )
        audited = s.execute(sa.select(AuditEntry.action, AuditEntry.entity_id, AuditEntry.details)).all()
        assert ("journey.changed", "onboarding", {"path": str(path), "version": 2}) in audited
        assert ("journey.deactivated", "advocacy", None) in audited
        assert [r.key for r in list_journeys(s, admin)] == [
            "adoption",
            "expansion",
            "onboarding",
            "renewal",
            "risk_mitigation",
            "win_back",
        ]

    # The shipped folder again: advocacy comes back on its version, onboarding gets a third.
    back = _sync(engine, admin, paths.journeys_dir())
    assert {(c.key, c.kind, c.version) for c in back if c.kind != "unchanged"} == {
        ("onboarding", "changed", 3),
        ("advocacy", "changed", 1),
    }
    assert next(c.diff for c in back if c.key == "advocacy").startswith("(reactivated)\n")
    # One file touches only its journey.
    assert [c.kind for c in _sync(engine, admin, folder / "renewal.yaml")] == ["unchanged"]

    with transaction(engine) as s, pytest.raises(NotPermitted) as info:
        user = User(login="carl", name="Carl", email="carl@example.com", role=Role.CSM)
        s.add(user)
        s.flush()
        catalog.sync(
            s, Actor(name="carl", role=Role.CSM, user_id=user.id), catalog.read(folder), full=True, now=NOW
        )
    assert "loading journeys needs the admin role" in str(info.value)


CUSTOM = """\
key: vip_care
name: VIP care
trigger:
  type: segment_entry
  segment: Big Renewals
goal:
  in_segment: VIP list
steps:
  - key: tag
    type: segment_update
    add: VIP list
    remove: [Old list]
    next: notify

  - key: notify
    type: webhook
    url: https://crm.example.com/hooks/vip
    timeout_seconds: 5
    payload: {source: cs}
    next: escalate

  - key: escalate
    type: trigger_playbook
    playbook: executive_escalation
    next: hand_over

  - key: hand_over
    type: start_journey
    journey: renewal
"""


def test_load_looks_up_segments_playbooks_and_journeys(engine, admin, book, tmp_path):
    path = tmp_path / "vip_care.yaml"

    def attempt(text: str) -> str:
        path.write_text(text)
        with transaction(engine) as s, pytest.raises(FileError) as info:
            catalog.sync(s, admin, catalog.read(path), full=False, now=NOW)
        return str(info.value).removeprefix(str(path))

    assert attempt(CUSTOM) == ":5:3: trigger.segment: there is no segment named 'Big Renewals'"
    with transaction(engine) as s:
        for name, kind in (("Big Renewals", SegmentType.DYNAMIC), ("Old list", SegmentType.STATIC)):
            s.add(
                Segment(
                    name=name, segment_type=kind, rules={"arr": {"gte": 1}} if kind == "dynamic" else None
                )
            )
    assert attempt(CUSTOM) == ":11:5: steps.0.add: there is no segment named 'VIP list'"
    assert attempt(CUSTOM.replace("add: VIP list", "add: Big Renewals")) == (
        ":11:5: steps.0.add: segment 'Big Renewals' is dynamic: a journey can add to or remove from a static "
        "segment only"
    )
    with transaction(engine) as s:
        s.add(Segment(name="VIP list", segment_type=SegmentType.STATIC))
    assert attempt(CUSTOM.replace("in_segment: VIP list", "in_segment: [VIP list, Gone]")) == (
        ":7:3: goal.in_segment: there is no segment named 'Gone'"
    )
    assert attempt(CUSTOM) == ":24:5: steps.2.playbook: playbook 'executive_escalation' does not exist"
    _load_playbooks(engine, admin)
    assert attempt(CUSTOM) == (
        ":29:5: steps.3.journey: there is no active journey 'renewal' (neither loaded nor among the files)"
    )
    _sync(engine, admin, paths.journeys_dir() / "renewal.yaml")
    path.write_text(CUSTOM)
    assert [(c.kind, c.version) for c in _sync(engine, admin, path)] == [("added", 1)]
    with transaction(engine) as s:
        ids = dict(s.execute(sa.select(Segment.name, Segment.id)).all())
        journey = s.scalars(sa.select(Journey).where(Journey.key == "vip_care")).one()
        assert journey.trigger_config == {"segment": "Big Renewals", "segment_id": ids["Big Renewals"]}
        assert journey.goal == {"goal": {"rules": {"in_segment": "VIP list"}}}
        steps = _steps(s, "vip_care", 1)
        assert steps["tag"].config == {
            "type": "segment_update",
            "add": ["VIP list"],
            "remove": ["Old list"],
            "next": "notify",
            "resolved": {"add": {"VIP list": ids["VIP list"]}, "remove": {"Old list": ids["Old list"]}},
        }
        assert steps["notify"].config == {
            "type": "webhook",
            "payload": {"source": "cs"},
            "timeout_seconds": 5.0,
            "url": "https://crm.example.com/hooks/vip",
            "next": "escalate",
        }
        assert steps["escalate"].step_type == JourneyStepType.TASK
        # A segment made again under the same name is another segment: a new version.
        s.execute(sa.delete(Segment).where(Segment.name == "Old list"))
        s.add(Segment(name="Old list", segment_type=SegmentType.STATIC))
    assert [(c.kind, c.version) for c in _sync(engine, admin, path)] == [("changed", 2)]
    assert [c.kind for c in _sync(engine, admin, path)] == ["unchanged"]


def test_the_funnel_counts_enrollments_that_reached_each_step_in_scope(engine, admin, book):
    _load_playbooks(engine, admin)
    _sync(engine, admin, paths.journeys_dir())
    with transaction(engine) as s:
        journey = s.scalars(sa.select(Journey).where(Journey.key == "onboarding")).one()
        steps = _steps(s, "onboarding", 1)
        customers = dict(s.execute(sa.select(Customer.external_id, Customer.id)).all())
        rows = [
            # customer, current step, steps visited, status
            ("E-1", "kickoff_call", ["welcome_email", "wait_2_days"], EnrollmentStatus.ACTIVE),
            (
                "E-3",
                None,
                ["welcome_email", "wait_2_days", "kickoff_call", "kickoff_complete", "reschedule_kickoff"],
                EnrollmentStatus.COMPLETED,
            ),
            ("W-1", "wait_2_days", ["welcome_email"], EnrollmentStatus.ACTIVE),
        ]
        for ext, current, visited, status in rows:
            s.add(
                JourneyEnrollment(
                    journey_id=journey.id,
                    customer_id=customers[ext],
                    status=status,
                    current_step_id=steps[current].id if current else None,
                    enrolled_at=NOW,
                    facts={"visited": dict.fromkeys(visited, 1)},
                )
            )
        everyone = journey_detail(s, admin, "onboarding", metrics=True)
        ana = s.scalars(sa.select(User).where(User.login == "ana")).one()
        mine = journey_detail(
            s,
            Actor(name="ana", role=Role.CSM, user_id=ana.id, team_id=ana.team_id),
            "onboarding",
            metrics=True,
        )
        plain = journey_detail(s, admin, "adoption")
    funnel = {step.key: (step.reached, step.current) for step in everyone.steps}
    assert everyone.enrollments == 3 and everyone.journey.active_enrollments == 2
    assert funnel["welcome_email"] == (3, 0)
    assert funnel["wait_2_days"] == (3, 1)
    assert funnel["kickoff_call"] == (2, 1)
    assert funnel["reschedule_kickoff"] == (1, 0)
    assert funnel["training_email"] == (0, 0) and funnel["exit_success"] == (0, 0)
    # Ana sees her customers only (E-1 and E-3).
    assert mine.enrollments == 2 and {s.key: s.reached for s in mine.steps}["wait_2_days"] == 2
    assert plain.enrollments is None and plain.steps[0].reached is None
    assert [(label, key) for label, key in everyone.steps[3].branches] == [
        ("yes", "training_email"),
        ("no", "reschedule_kickoff"),
    ]
