"""Steps that wait, on both dialects: a task (assignee by role, waiting for
its completion and branching on the outcome, cancelled, timed out), a wait
of days, a wait for an event (woken by it, or timed out), a human touchpoint
(asked as a task, done when a touchpoint of its type is logged, or timed
out), and conditions on rules and on facts."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import User
from cs_cli.domain import TaskStatus

T0 = dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.UTC)


def day(n: float) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


def users(kit) -> dict[int, str]:
    with transaction(kit.engine) as s:
        return dict(s.execute(sa.select(User.id, User.login)).all())


CALLS = """\
key: calls
duration_days: 30
steps:
  - key: call
    type: task
    title: "Call {{ customer.name }}"
    description: "Ask how the {{ customer.plan }} plan works for them."
    task_type: call
    priority: high
    assignee_role: manager
    due_days: 5
    wait_for_completion:
      timeout_days: 10
      outcomes:
        unsuccessful: retry
      on_timeout: late
    next: done
  - key: done
    type: exit
    success: true
    reason: called
  - key: retry
    type: exit
    success: false
    reason: no answer
  - key: late
    type: exit
    success: false
    reason: too late
"""


def test_a_task_waits_for_its_completion_and_branches_on_the_outcome(kit, book):
    kit.load(CALLS)
    kit.enroll("calls", "E-1", "E-3", "W-1", "M-1", "U-1")
    first = kit.tick(T0)
    assert (first.advanced, first.steps, first.completed) == (5, 5, 0)

    tasks = {t.customer_id: t for t in kit.tasks()}
    by_ext = {ext: tasks[kit.customer_id(ext)] for ext in ("E-1", "E-3", "W-1", "M-1", "U-1")}
    login = users(kit)
    e1 = by_ext["E-1"]
    assert (e1.title, e1.description, e1.task_type.value, e1.priority.value) == (
        "Call Alpha Analytics",
        "Ask how the enterprise plan works for them.",
        "call",
        "high",
    )
    assert (e1.due_date, e1.status, e1.assigned_to_role) == (
        dt.date(2025, 1, 11),
        TaskStatus.PENDING,
        "manager",
    )
    assert e1.journey_enrollment_id == kit.enrollments("calls")["E-1"].id
    # The manager role: Ana's manager Mia; Bo has none, nor has a customer without a CSM.
    assert login[e1.assigned_to_user_id] == "mia"
    assert by_ext["W-1"].assigned_to_user_id is None and by_ext["U-1"].assigned_to_user_id is None
    waiting = kit.enrollments("calls")["E-1"]
    assert waiting.step == "call" and waiting.facts["waiting"]["task_id"] == e1.id
    assert waiting.next_run_at == day(10)

    kit.complete(by_ext["E-1"].id, "successful", day(1))
    kit.complete(by_ext["E-3"].id, "unsuccessful", day(1))
    kit.complete(by_ext["U-1"].id, "rescheduled", day(1))  # not listed: goes to next
    kit.cancel(by_ext["W-1"].id, day(1))
    woken = kit.tick(day(1))
    assert (woken.woken, woken.advanced, woken.completed) == (4, 4, 4)
    ended = kit.enrollments("calls")
    assert {k: (e.status, e.success, e.exit_reason) for k, e in ended.items() if k != "M-1"} == {
        "E-1": ("completed", True, "called"),
        "E-3": ("completed", False, "no answer"),
        "U-1": ("completed", True, "called"),
        "W-1": ("completed", True, "called"),
    }
    assert ended["E-1"].facts["tasks"]["call"] == {
        "id": e1.id,
        "status": "completed",
        "outcome": "successful",
    }
    assert ended["W-1"].facts["tasks"]["call"]["status"] == "cancelled"

    # M-1's task is still open: nothing before the timeout, then on_timeout; the task stays open.
    assert kit.tick(day(9)).advanced == 0
    late = kit.tick(day(10))
    assert (late.advanced, late.completed) == (1, 1)
    m1 = kit.enrollments("calls")["M-1"]
    assert (m1.status, m1.success, m1.exit_reason) == ("completed", False, "too late")
    assert m1.facts["notes"][-1]["text"] == "call: the task was still open after 10 days"
    assert kit.tasks("M-1")[0].status == TaskStatus.PENDING

    # Metrics: the task step ran five times, all created; the exits as they went.
    steps = kit.steps("calls")
    assert (steps["call"].times_executed, steps["call"].success_count) == (5, 5)
    assert (steps["done"].times_executed, steps["retry"].times_executed, steps["late"].times_executed) == (
        3,
        1,
        1,
    )
    journey = kit.journey("calls")
    assert (journey.total_enrolled, journey.total_completed, journey.success_rate) == (5, 5, 0.6)
    assert journey.avg_completion_days == 2.8  # four after one day, one after ten


WAITS = """\
key: waits
steps:
  - key: pause
    type: wait
    days: 3
    next: listen
  - key: listen
    type: wait
    until_event: product.activated
    timeout_days: 5
    on_timeout: nudge
    next: thanks
  - key: thanks
    type: exit
    success: true
  - key: nudge
    type: exit
    success: false
    reason: never activated
"""


def test_wait_days_then_wait_for_an_event_woken_by_it_or_timed_out(kit, book):
    from cs_cli.services import events

    kit.load(WAITS)
    kit.enroll("waits", "E-1", "W-1")
    assert kit.tick(T0).steps == 2
    assert {e.next_run_at for e in kit.enrollments("waits").values()} == {day(3)}
    # An event before the event wait began does not count.
    with transaction(kit.engine) as s:
        events.emit(s, kit.admin, "product.activated", customer="W-1", data=None, now=day(1))
    early = kit.tick(day(1))
    assert (early.woken, early.steps) == (1, 0)  # W-1 looked again and sleeps on
    assert kit.enrollments("waits")["W-1"].step == "pause"
    assert kit.tick(day(2)).advanced == 0

    on = kit.tick(day(3))
    assert (on.advanced, on.steps) == (2, 2)
    assert {e.step for e in kit.enrollments("waits").values()} == {"listen"}
    assert {e.next_run_at for e in kit.enrollments("waits").values()} == {day(8)}

    with transaction(kit.engine) as s:
        events.emit(s, kit.admin, "product.activated", customer="E-1", data={"n": 1}, now=day(4))
    woken = kit.tick(day(4))
    assert (woken.woken, woken.completed) == (1, 1)
    e1 = kit.enrollments("waits")["E-1"]
    assert (e1.status, e1.success) == ("completed", True)
    assert e1.facts["events"] == {"product.activated": day(4).isoformat()}

    assert kit.tick(day(7)).advanced == 0
    timed_out = kit.tick(day(8))
    assert timed_out.completed == 1
    w1 = kit.enrollments("waits")["W-1"]
    assert (w1.status, w1.success, w1.exit_reason) == ("completed", False, "never activated")
    assert w1.facts["notes"][-1]["text"] == "listen: no product.activated within 5 days"
    assert kit.path("waits", "W-1") == ["pause", "listen", "nudge"]


TOUCH = """\
key: touch
steps:
  - key: meet
    type: human_touchpoint
    prompt: "Meet {{ contact.name or customer.name }} about {{ customer.name }}"
    touchpoint_types: [meeting, qbr]
    due_days: 2
    timeout_days: 7
    on_timeout: missed
    next: met
  - key: met
    type: exit
    success: true
  - key: missed
    type: exit
    success: false
"""


def test_a_human_touchpoint_asks_with_a_task_and_goes_on_when_one_is_logged(kit, book):
    from cs_cli.domain import TouchpointType
    from cs_cli.services.touchpoints import log_touchpoint

    kit.load(TOUCH)
    kit.enroll("touch", "E-1", "E-3", "W-1")
    kit.tick(T0)
    tasks = {t.customer_id: t for t in kit.tasks()}
    asked = tasks[kit.customer_id("E-1")]
    assert (asked.title, asked.description, asked.task_type.value, asked.due_date) == (
        "Log a meeting, qbr with Alpha Analytics",
        "Meet Alpha Analytics about Alpha Analytics",
        "meeting",
        dt.date(2025, 1, 8),
    )
    assert users(kit)[asked.assigned_to_user_id] == "ana"

    def log(ext: str, kind: TouchpointType, at: dt.datetime) -> None:
        with transaction(kit.engine) as s:
            log_touchpoint(s, kit.admin, ext, touchpoint_type=kind, subject="talked", now=at)

    # A touchpoint of another type wakes it, but it sleeps on.
    log("E-1", TouchpointType.CALL, day(1))
    other = kit.tick(day(1))
    assert (other.woken, other.steps, other.completed) == (1, 0, 0)
    log("E-1", TouchpointType.QBR, day(2))
    # Completing the meeting task logs a meeting: that counts too.
    kit.complete(tasks[kit.customer_id("E-3")].id, "successful", day(2))
    met = kit.tick(day(2))
    assert (met.woken, met.completed) == (2, 2)
    ended = kit.enrollments("touch")
    assert (ended["E-1"].status, ended["E-1"].success) == ("completed", True)
    assert ended["E-1"].facts["events"]["meet"] == day(2).isoformat()
    assert (ended["E-3"].status, ended["E-3"].success) == ("completed", True)

    assert kit.tick(day(6)).advanced == 0
    assert kit.tick(day(7)).completed == 1
    w1 = kit.enrollments("touch")["W-1"]
    assert (w1.status, w1.success) == ("completed", False)
    assert w1.facts["notes"][-1]["text"] == "meet: no meeting, qbr logged within 7 days"


BRANCHES = """\
key: branches
steps:
  - key: ask
    type: task
    title: "Ask {{ customer.name }}"
    wait_for_completion:
      timeout_days: 3
    next: big
  - key: big
    type: condition
    rules:
      arr: {gte: 100000}
      health_score: {gt: 40}
    then: pleased
    else: small
  - key: pleased
    type: condition
    facts:
      - task: ask
        outcome: successful
      - event: product.activated
    then: yes_both
    else: no_both
  - key: small
    type: condition
    facts:
      - task: ask
        status: [pending, in_progress]
      - event: product.activated
        seen: false
    then: small_open
    else: small_other
  - {key: yes_both, type: exit, success: true}
  - {key: no_both, type: exit, success: false}
  - {key: small_open, type: exit, success: true}
  - {key: small_other, type: exit, success: false}
"""


def test_conditions_branch_on_rules_and_on_facts(kit, book):
    from cs_cli.services import events

    kit.load(BRANCHES)
    # E-1 and E-3 are large; E-3 has no health score, so only E-1 passes both rules.
    kit.enroll("branches", "E-1", "E-3", "W-1", "M-1")
    kit.tick(T0)
    tasks = {t.customer_id: t.id for t in kit.tasks()}
    kit.complete(tasks[kit.customer_id("E-1")], "successful", day(1))
    kit.complete(tasks[kit.customer_id("E-3")], "successful", day(1))
    with transaction(kit.engine) as s:
        events.emit(s, kit.admin, "product.activated", customer="E-1", data=None, now=day(1))
        events.emit(s, kit.admin, "product.activated", customer="M-1", data=None, now=day(1))
    kit.tick(day(1))
    kit.tick(day(3))  # W-1 and M-1 time out with their task open
    paths = {ext: kit.path("branches", ext) for ext in ("E-1", "E-3", "W-1", "M-1")}
    assert paths == {
        "E-1": ["ask", "big", "pleased", "yes_both"],
        "E-3": ["ask", "big", "small", "small_other"],
        "W-1": ["ask", "big", "small", "small_open"],
        "M-1": ["ask", "big", "small", "small_other"],
    }
    outcomes = {(ext, step): o for ext, step, _, o in kit.runs("branches")}
    assert outcomes[("E-1", "big")] == "yes" and outcomes[("E-3", "big")] == "no"
    steps = kit.steps("branches")
    # A condition's answers are all successes; "no" is not a failure.
    assert (steps["big"].times_executed, steps["big"].success_count) == (4, 4)
