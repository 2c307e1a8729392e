"""Who gets into a journey and how enrollments end, on both dialects:
re-enrollment, max_concurrent_enrollments, event / segment_entry / scheduled
triggers (old events ignored, each event once, a replay enrolls nobody),
goals, exit criteria, the end of the steps, and the journey's metrics."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import Customer, JourneyEnrollment, JourneyStepRun, Segment
from cs_cli.domain import CustomerStatus, SegmentType
from cs_cli.errors import BadInput, NotFound
from cs_cli.services import events

T0 = dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.UTC)


def day(n: float) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


ONCE = """\
key: once
{extra}
steps:
  - key: pause
    type: wait
    days: 1
"""


def test_re_enrollment_off_and_on(kit, book):
    kit.load(ONCE.format(extra=""))
    kit.load(ONCE.format(extra="allow_re_enrollment: true").replace("key: once", "key: again"))
    for key in ("once", "again"):
        assert kit.enroll(key, "E-1").enrolled == ["E-1"]
        busy = kit.enroll(key, "E-1", "W-1")
        assert (busy.enrolled, busy.already_active) == (["W-1"], ["E-1"])
    kit.tick(T0)
    kit.tick(day(1))
    assert {e.status for e in kit.enrollments("once").values()} == {"completed"}

    refused = kit.enroll("once", "E-1", "W-1", at=day(2))
    assert (refused.enrolled, refused.enrolled_before) == ([], ["E-1", "W-1"])
    allowed = kit.enroll("again", "E-1", at=day(2))
    assert allowed.enrolled == ["E-1"]
    with transaction(kit.engine) as s:
        counts = dict(
            s.execute(
                sa.select(Customer.external_id, sa.func.count())
                .select_from(JourneyEnrollment)
                .join(Customer, Customer.id == JourneyEnrollment.customer_id)
                .group_by(Customer.external_id)
            ).all()
        )
    assert counts == {"E-1": 3, "W-1": 2}
    assert (kit.journey("once").total_enrolled, kit.journey("again").total_enrolled) == (2, 3)


def test_enroll_refuses_over_capacity_unknown_names_and_nothing_named(kit, book):
    kit.load(ONCE.format(extra="max_concurrent_enrollments: 2"))
    assert kit.enroll("once", "E-1").enrolled == ["E-1"]
    with pytest.raises(BadInput) as info:
        kit.enroll("once", "W-1", "M-1")
    assert str(info.value) == "journey 'once' holds at most 2 active enrollments; it has room for 1, not 2"
    assert info.value.exit_code == 2
    assert kit.count(JourneyEnrollment) == 1  # nobody, not one of the two
    # One already in it does not count against the room.
    assert kit.enroll("once", "E-1", "W-1").enrolled == ["W-1"]
    with pytest.raises(NotFound) as missing:
        kit.enroll("once", "E-3", "NOPE-9")
    assert (str(missing.value), missing.value.exit_code) == ("no customer 'NOPE-9'", 4)
    with pytest.raises(NotFound):
        kit.enroll("nope", "E-1")
    with pytest.raises(BadInput, match="name at least one customer, or --segment"):
        kit.enroll("once")


EVENTS = """\
key: signups
max_concurrent_enrollments: 2
trigger:
  type: event
  event: product.signed_up
  rules:
    region: EMEA
steps:
  - key: pause
    type: wait
    days: 2
"""


def _emit(kit, event: str, *customers: str, at: dt.datetime) -> None:
    with transaction(kit.engine) as s:
        for ext in customers:
            events.emit(s, kit.admin, event, customer=ext, data=None, now=at)


def test_event_trigger_enrolls_once_per_event_ignores_old_ones_and_leaves_the_rest_when_full(kit, book):
    with transaction(kit.engine) as s:
        s.execute(sa.update(Customer).values(region="EMEA"))
        s.execute(sa.update(Customer).where(Customer.external_id == "E-3").values(region="APAC"))
    _emit(kit, "product.signed_up", "E-1", at=T0 - dt.timedelta(days=1))  # before the load
    kit.load(EVENTS)
    assert kit.tick(T0).enrolled == 0

    # E-2 churned and E-3 is outside the rules; W-1 signs up twice.
    _emit(kit, "product.signed_up", "W-1", "E-2", "E-3", "M-1", "W-1", "W-2", at=day(0.1))
    first = kit.tick(day(0.1))
    assert (first.enrolled, first.advanced) == (2, 2)
    assert sorted(kit.enrollments("signups")) == ["M-1", "W-1"]
    # Full: W-2 waits for room; a replay of the same moment enrolls nobody again.
    assert kit.tick(day(0.1)).enrolled == 0
    assert kit.tick(day(1)).enrolled == 0
    done = kit.tick(day(2.1))  # the two end, then the next tick takes W-2
    assert (done.completed, done.enrolled) == (2, 0)
    assert kit.tick(day(2.2)).enrolled == 1
    assert sorted(kit.enrollments("signups")) == ["M-1", "W-1", "W-2"]
    assert kit.tick(day(3)).enrolled == 0
    assert kit.count(JourneyEnrollment) == 3
    assert kit.enrollments("signups")["W-2"].facts["source"] == "trigger:product.signed_up"


SEGMENT_ENTRY = """\
key: vips
trigger:
  type: segment_entry
  segment: VIP list
steps:
  - key: pause
    type: wait
    days: 1
"""


def test_segment_entry_trigger_enrolls_who_enters_that_segment(kit, book):
    from cs_cli.services.segments.members import add_stays

    with transaction(kit.engine) as s:
        vip = Segment(name="VIP list", segment_type=SegmentType.STATIC)
        other = Segment(name="Other", segment_type=SegmentType.STATIC)
        s.add_all([vip, other])
        s.flush()
        add_stays(s, kit.admin, vip, [kit.customer_id("E-3")], now=T0)  # before the load
    kit.load(SEGMENT_ENTRY, at=day(0.1))
    with transaction(kit.engine) as s:
        vip, other = s.get(Segment, vip.id), s.get(Segment, other.id)
        add_stays(s, kit.admin, vip, [kit.customer_id("E-1"), kit.customer_id("E-2")], now=day(0.2))
        add_stays(s, kit.admin, other, [kit.customer_id("W-1")], now=day(0.2))
    assert kit.tick(day(0.3)).enrolled == 1
    assert sorted(kit.enrollments("vips")) == ["E-1"]  # E-2 churned, W-1 entered another
    assert kit.tick(day(0.3)).enrolled == 0


RENEWALS = """\
key: renewals
allow_re_enrollment: true
trigger:
  type: scheduled
  days_before_renewal: 20
steps:
  - key: pause
    type: wait
    days: 1
"""

WEEKLY = """\
key: weekly
allow_re_enrollment: true
trigger:
  type: scheduled
  every: weekly
  rules:
    health_score: {lt: 50}
steps:
  - key: pause
    type: wait
    days: 1
"""


def test_scheduled_triggers_before_renewal_and_every_week_with_rules(kit, book):
    kit.load(RENEWALS)
    kit.load(WEEKLY)
    # M-1 renews in 14 days, W-1 in 19, E-1 in 26; E-2 churned.
    kit.tick(T0)
    assert sorted(kit.enrollments("renewals")) == ["M-1", "W-1"]
    # M-1 (45) and W-1 (30) are below 50.
    assert sorted(kit.enrollments("weekly")) == ["M-1", "W-1"]
    kit.tick(day(1))  # all four end
    kit.tick(day(2))
    assert kit.count(JourneyEnrollment, JourneyEnrollment.status == "active") == 0
    assert kit.count(JourneyEnrollment) == 4  # once per renewal date, once per week
    kit.tick(day(6))  # E-1 is 20 days from renewal
    assert sorted(kit.enrollments("renewals")) == ["E-1", "M-1", "W-1"]
    kit.tick(day(7))  # a new week: the weekly rules again
    assert kit.count(JourneyEnrollment) == 7
    weekly = [e for e in kit.enrollments("weekly").values() if e.status == "active"]
    assert sorted(e.customer for e in weekly) == ["M-1", "W-1"]
    # A renewal date moved a term ahead comes round again.
    with transaction(kit.engine) as s:
        s.execute(
            sa.update(Customer).where(Customer.external_id == "M-1").values(renewal_date=dt.date(2025, 2, 5))
        )
    kit.tick(day(12))
    assert kit.enrollments("renewals")["M-1"].enrolled_at == day(12)


ENDS = """\
key: ends
goal:
  description: Healthy
  rules:
    health_score: {gt: 80}
exit_when:
  description: Churned
  rules:
    status: churned
steps:
  - key: hello
    type: task
    title: "Say hello to {{ customer.name }}"
    next: pause
  - key: pause
    type: wait
    days: 10
"""


def test_goal_exit_criteria_the_end_of_the_steps_and_the_metrics(kit, book):
    kit.load(ENDS)
    kit.enroll("ends", "E-1", "W-1", "M-1", "E-3")
    first = kit.tick(T0)
    # E-1 (82) meets the goal before any step runs.
    assert (first.completed, first.steps) == (1, 6)
    e1 = kit.enrollments("ends")["E-1"]
    assert (e1.status, e1.success, e1.exit_reason) == ("completed", True, "goal met: Healthy")
    assert kit.path("ends", "E-1") == [] and not kit.tasks("E-1")

    # W-1 churns while it sleeps: the hourly sweep exits it.
    with transaction(kit.engine) as s:
        s.execute(
            sa.update(Customer).where(Customer.external_id == "W-1").values(status=CustomerStatus.CHURNED)
        )
        # M-1 becomes healthy while it sleeps: the sweep completes it.
        from cs_cli.db.models import HealthScore

        s.execute(
            sa.update(HealthScore)
            .where(HealthScore.customer_id == kit.customer_id("M-1"))
            .values(overall_score=85)
        )
    assert kit.tick(day(0.01)).advanced == 0  # within the hour: no sweep
    kit.tick(day(1))
    ended = kit.enrollments("ends")
    assert (ended["W-1"].status, ended["W-1"].success, ended["W-1"].exit_reason) == (
        "exited",
        False,
        "Churned",
    )
    assert (ended["M-1"].status, ended["M-1"].success) == ("completed", True)
    assert ended["E-3"].status == "active"

    # E-3 reaches the end of its steps: completed, without success (goal not met).
    kit.tick(day(10))
    e3 = kit.enrollments("ends")["E-3"]
    assert (e3.status, e3.success, e3.exit_reason) == ("completed", False, "reached the end of the journey")
    assert kit.path("ends", "E-3") == ["hello", "pause"]

    journey = kit.journey("ends")
    assert (journey.total_enrolled, journey.total_completed) == (4, 3)
    assert journey.success_rate == 0.5  # two of four that ended
    assert journey.avg_completion_days == pytest.approx((0 + 1 + 10) / 3, abs=0.01)
    steps = kit.steps("ends")
    assert (steps["hello"].times_executed, steps["hello"].success_count) == (3, 3)
    assert (steps["pause"].times_executed, steps["pause"].success_count) == (3, 3)
    with transaction(kit.engine) as s:
        ends = dict(
            s.execute(
                sa.select(Customer.external_id, sa.func.min(events_table().c.event_type))
                .select_from(events_table())
                .join(Customer, Customer.id == events_table().c.customer_id)
                .where(
                    events_table().c.event_type.like("journey.%"),
                    events_table().c.event_type != "journey.enrolled",
                )
                .group_by(Customer.external_id)
            ).all()
        )
    assert ends == {
        "E-1": "journey.completed",
        "M-1": "journey.completed",
        "W-1": "journey.exited",
        "E-3": "journey.completed",
    }
    assert kit.count(JourneyStepRun) == 6


def events_table():
    from cs_cli.db.models import DomainEvent

    return DomainEvent.__table__


def test_a_tick_killed_before_its_recount_leaves_the_metrics_to_the_next_tick(kit, book, monkeypatch):
    """The batches commit the ended enrollments and mark the journey pending;
    the tick dies before recounting; the next tick, with nothing due, counts."""
    from cs_cli.services.journeys import metrics

    kit.load(ENDS)
    kit.enroll("ends", "E-1", "E-3")

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("killed before the recount")

    monkeypatch.setattr(metrics, "refresh_journeys", killed)
    with pytest.raises(KeyboardInterrupt):
        kit.tick(T0)
    assert kit.enrollments("ends")["E-1"].status == "completed"  # E-1 meets the goal at once
    stale = kit.journey("ends")
    assert (stale.total_completed, stale.metrics_pending) == (0, 1)

    monkeypatch.undo()
    assert kit.tick(T0 + dt.timedelta(minutes=5)).advanced == 0
    journey = kit.journey("ends")
    assert (journey.total_completed, journey.success_rate, journey.metrics_pending) == (1, 1.0, 0)
