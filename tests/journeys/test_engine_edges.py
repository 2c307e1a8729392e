"""Edges of the tick on both dialects: a step reached again is a new visit
with its own message, step runs are unique, running enrollments keep their
version when the file changes, a deactivated journey enrolls nobody, --limit,
and waits of enrollments that began at different times resumed together."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import JourneyEnrollment, JourneyStepRun
from cs_cli.errors import BadInput

T0 = dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.UTC)


def day(n: float) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


LOOP = """\
key: loop
steps:
  - key: nudge
    type: email
    template: nudge
    subject: "Nudge {{ customer.name }}"
    next: ask
  - key: ask
    type: task
    title: "Did {{ customer.name }} answer?"
    wait_for_completion:
      timeout_days: 5
      outcomes:
        unsuccessful: nudge
    next: done
  - key: done
    type: exit
    success: true
"""


def test_a_step_reached_again_is_a_new_visit_and_step_runs_are_unique(kit, book):
    kit.template("nudge", "Hello {{ contact.first_name }}, visit of {{ step.key }}\n")
    kit.load(LOOP)
    kit.enroll("loop", "E-1")
    kit.tick(T0)
    (first,) = kit.tasks("E-1")
    kit.complete(first.id, "unsuccessful", day(1))
    kit.tick(day(1))
    enrollment = kit.enrollments("loop")["E-1"]
    assert kit.runs("loop") == [
        ("E-1", "nudge", 1, "queued"),
        ("E-1", "ask", 1, "created"),
        ("E-1", "nudge", 2, "queued"),
        ("E-1", "ask", 2, "created"),
    ]
    assert sorted(kit.outbox()) == [f"journey-{enrollment.id}-nudge-1", f"journey-{enrollment.id}-nudge-2"]
    second = kit.tasks("E-1")[1]
    assert enrollment.facts["visited"] == {"nudge": 2, "ask": 2}
    assert enrollment.facts["tasks"]["ask"]["id"] == second.id
    assert enrollment.facts["waiting"]["task_id"] == second.id
    kit.complete(second.id, "successful", day(2))
    kit.tick(day(2))
    assert kit.enrollments("loop")["E-1"].success is True
    steps = kit.steps("loop")
    assert (steps["nudge"].times_executed, steps["ask"].times_executed) == (2, 2)

    # The database itself refuses a step run recorded twice.
    with pytest.raises(sa.exc.IntegrityError), transaction(kit.engine) as s:
        s.execute(
            sa.insert(JourneyStepRun).values(
                enrollment_id=enrollment.id,
                step_id=steps["nudge"].id,
                step_key="nudge",
                visit=2,
                executed_at=day(3),
            )
        )
    assert kit.count(JourneyStepRun) == 5


VERSIONED = """\
key: versioned
steps:
  - key: pause
    type: wait
    days: {days}
    next: hello
  - key: hello
    type: email
    template: vhello
    subject: "{subject}"
    to: csm
"""


def test_running_enrollments_keep_their_version_and_a_deactivated_journey_enrolls_nobody(kit, book):
    from cs_cli.services.journeys import catalog

    kit.template("vhello", "Hi {{ customer.name }}\n")
    kit.load(VERSIONED.format(days=2, subject="Old words"))
    kit.enroll("versioned", "E-1")
    kit.tick(T0)
    kit.load(VERSIONED.format(days=5, subject="New words"), at=day(1))
    kit.enroll("versioned", "E-3", at=day(1))
    kit.tick(day(1))
    now = kit.enrollments("versioned")
    assert (now["E-1"].version, now["E-3"].version) == (1, 2)
    assert (now["E-1"].next_run_at, now["E-3"].next_run_at) == (day(2), day(6))
    kit.tick(day(2))
    assert [m.subject for m in kit.outbox().values()] == ["Old words"]

    # The folder without the file: the journey is deactivated; its enrollments go on.
    (kit.folder / "versioned.yaml").unlink()
    with transaction(kit.engine) as s:
        catalog.sync(s, kit.admin, catalog.read(kit.folder), full=True, now=day(3))
    with pytest.raises(BadInput, match="journey 'versioned' is deactivated"):
        kit.enroll("versioned", "W-1", at=day(3))
    kit.tick(day(6))
    assert [m.subject for m in kit.outbox().values()] == ["Old words", "New words"]
    assert kit.count(JourneyEnrollment) == 2


SHORT = """\
key: short
steps:
  - key: pause
    type: wait
    days: 1
"""


def test_limit_advances_at_most_that_many_and_the_next_tick_the_rest(kit, book):
    kit.load(SHORT)
    kit.load(SHORT.replace("key: short", "key: other"))
    kit.enroll("short", "E-1", "E-3", "W-1", "M-1")
    kit.enroll("other", "W-2")
    assert kit.tick(T0, limit=3).advanced == 3
    assert kit.tick(T0, journey="other").advanced == 1
    assert kit.tick(T0, batch_size=1).advanced == 1
    assert kit.tick(T0).advanced == 0
    assert {e.next_run_at for e in kit.enrollments("short").values()} == {day(1)}


TOUCH = """\
key: touch
steps:
  - key: meet
    type: human_touchpoint
    prompt: "Meet {{ customer.name }}"
    touchpoint_types: [meeting]
    timeout_days: 10
    next: met
  - key: met
    type: exit
    success: true
"""


def test_a_touchpoint_wait_counts_the_first_touchpoint_after_its_own_start(kit, book):
    from cs_cli.domain import TouchpointType
    from cs_cli.services.touchpoints import log_touchpoint

    def log(ext: str, kind: TouchpointType, when: dt.datetime) -> None:
        with transaction(kit.engine) as s:
            log_touchpoint(s, kit.admin, ext, touchpoint_type=kind, subject="talked", now=when)

    kit.load(TOUCH)
    kit.enroll("touch", "E-1")
    kit.tick(T0)
    log("E-3", TouchpointType.MEETING, day(1))  # before E-3 is asked: does not count
    kit.enroll("touch", "E-3", at=day(2))
    kit.tick(day(2))
    # Both wake at the same tick and are looked at together.
    log("E-1", TouchpointType.CALL, day(3))
    log("E-3", TouchpointType.MEETING, day(3))
    result = kit.tick(day(3))
    assert result.woken == 2
    ended = kit.enrollments("touch")
    assert (ended["E-3"].status, ended["E-3"].facts["events"]["meet"]) == ("completed", day(3).isoformat())
    assert ended["E-1"].status == "active"
