"""Steps that change things elsewhere, on both dialects: segment_update
(static segments, segment.entered/exited events), health_check (recalculates
the customer's score for the day, then branches), start_journey,
trigger_playbook (never a second active run), and ab_split (draws by the
shares, the same draw on a retried tick)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from cs_cli import paths
from cs_cli.db.engine import session_factory, transaction
from cs_cli.db.models import (
    Customer,
    CustomerSegment,
    DomainEvent,
    HealthScore,
    HealthScoreHistory,
    JourneyEnrollment,
    PlaybookRun,
    Segment,
    UsageEvent,
)
from cs_cli.domain import CustomerStatus, SegmentType

T0 = dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.UTC)
SCORECARD = Path(__file__).parent.parent / "fixtures" / "simple_scorecard.yaml"

TAGGING = """\
key: tagging
steps:
  - key: tag
    type: segment_update
    add: VIP list
    remove: [Old list]
    next: done
  - key: done
    type: exit
    success: true
"""


def test_segment_update_adds_and_removes_with_their_events(kit, book):
    from cs_cli.services.segments.members import add_stays

    with transaction(kit.engine) as s:
        vip = Segment(name="VIP list", segment_type=SegmentType.STATIC)
        old = Segment(name="Old list", segment_type=SegmentType.STATIC)
        s.add_all([vip, old])
        s.flush()
        add_stays(s, kit.admin, old, [kit.customer_id("E-1"), kit.customer_id("W-1")], now=T0)
        ids = {"vip": vip.id, "old": old.id}
    kit.load(TAGGING)
    kit.enroll("tagging", "E-1", "M-1")
    assert kit.tick(T0 + dt.timedelta(hours=1)).completed == 2

    with transaction(kit.engine) as s:
        stays = s.execute(
            sa.select(Customer.external_id, CustomerSegment.segment_id, CustomerSegment.exited_at)
            .join(Customer, Customer.id == CustomerSegment.customer_id)
            .order_by(Customer.external_id, CustomerSegment.segment_id)
        ).all()
        entered = s.execute(
            sa.select(Customer.external_id, DomainEvent.data)
            .join(Customer, Customer.id == DomainEvent.customer_id)
            .where(DomainEvent.event_type == "segment.entered", DomainEvent.occurred_at > T0)
            .order_by(Customer.external_id)
        ).all()
        exited = s.scalars(
            sa.select(Customer.external_id)
            .select_from(DomainEvent)
            .join(Customer, Customer.id == DomainEvent.customer_id)
            .where(DomainEvent.event_type == "segment.exited")
        ).all()
        counts = dict(s.execute(sa.select(Segment.name, Segment.customer_count)).all())
    later = T0 + dt.timedelta(hours=1)
    assert stays == [
        ("E-1", ids["vip"], None),
        ("E-1", ids["old"], later),
        ("M-1", ids["vip"], None),
        ("W-1", ids["old"], None),  # not enrolled: stays
    ]
    assert [(ext, data["segment_id"]) for ext, data in entered] == [("E-1", ids["vip"]), ("M-1", ids["vip"])]
    assert exited == ["E-1"]
    assert counts == {"VIP list": 2, "Old list": 1}
    assert kit.path("tagging", "E-1") == ["tag", "done"]


CHECKUP = """\
key: checkup
steps:
  - key: score
    type: health_check
    rules:
      health_score: {gt: 70}
    then: good
    else: poor
  - key: good
    type: exit
    success: true
  - key: poor
    type: exit
    success: false
"""


def test_health_check_recalculates_the_customer_for_the_day_then_branches(kit, book):
    with transaction(kit.engine) as s:
        e1 = kit.customer_id("E-1")
        s.add_all(
            UsageEvent(customer_id=e1, event_name="login", occurred_at=T0 - dt.timedelta(days=n))
            for n in range(1, 9)
        )
        # W-1 was active one day of ten; a customer with no data at all is not scored.
        s.add(UsageEvent(customer_id=kit.customer_id("W-1"), event_name="login", occurred_at=T0))
    kit.load(CHECKUP)
    kit.enroll("checkup", "E-1", "W-1")
    kit.tick(T0, scorecard=SCORECARD)
    with transaction(kit.engine) as s:
        scores = dict(
            s.execute(
                sa.select(Customer.external_id, HealthScore.overall_score)
                .join(Customer, Customer.id == HealthScore.customer_id)
                .where(HealthScore.as_of == T0.date())
            ).all()
        )
        history = s.scalars(
            sa.select(Customer.external_id)
            .select_from(HealthScoreHistory)
            .join(Customer, Customer.id == HealthScoreHistory.customer_id)
            .where(HealthScoreHistory.as_of == T0.date())
            .order_by(Customer.external_id)
        ).all()
    # Only the enrolled customers were scored, for the tick's day.
    assert set(scores) == {"E-1", "W-1"} and history == ["E-1", "W-1"]
    assert scores["E-1"] > 70 >= scores["W-1"]
    ended = kit.enrollments("checkup")
    assert (ended["E-1"].success, ended["W-1"].success) == (True, False)
    assert kit.path("checkup", "E-1") == ["score", "good"] and kit.path("checkup", "W-1") == ["score", "poor"]


HANDOVER = """\
key: handover
steps:
  - key: start_care
    type: start_journey
    journey: care
    next: play
  - key: play
    type: trigger_playbook
    playbook: risk_response
    reason: handed over
    next: play_again
  - key: play_again
    type: trigger_playbook
    playbook: risk_response
"""

CARE = """\
key: care
max_concurrent_enrollments: 2
steps:
  - key: pause
    type: wait
    days: 5
"""


def test_start_journey_enrolls_and_trigger_playbook_starts_one_run(kit, book):
    from cs_cli.services.playbooks import catalog as playbooks

    with transaction(kit.engine) as s:
        playbooks.sync(s, kit.admin, playbooks.read(paths.playbooks_dir()), full=True, now=T0)
    kit.load(CARE)
    kit.load(HANDOVER)
    kit.enroll("care", "W-1")  # already in it: start_journey leaves it
    kit.enroll("handover", "E-1", "W-1", "M-1")
    result = kit.tick(T0)
    assert result.completed == 3

    care = kit.enrollments("care")
    assert sorted(care) == ["E-1", "W-1"]  # M-1: the journey was full
    assert care["E-1"].facts["source"] == "journey:handover" and care["E-1"].step == "pause"
    outcomes = {(ext, step): o for ext, step, _, o in kit.runs("handover")}
    assert outcomes[("E-1", "start_care")] == "enrolled"
    assert outcomes[("W-1", "start_care")] == outcomes[("M-1", "start_care")] == "skipped"
    notes = [n["text"] for n in kit.enrollments("handover")["M-1"].facts["notes"]]
    assert "start_care: journey care did not take it (already in it, done before, or full)" in notes

    with transaction(kit.engine) as s:
        runs = s.execute(
            sa.select(Customer.external_id, PlaybookRun.trigger_reason)
            .join(Customer, Customer.id == PlaybookRun.customer_id)
            .order_by(Customer.external_id)
        ).all()
    # One run per customer: the second trigger finds it running.
    assert runs == [("E-1", "handed over"), ("M-1", "handed over"), ("W-1", "handed over")]
    assert {ext for (ext, step), o in outcomes.items() if step == "play" and o == "started"} == {
        "E-1",
        "M-1",
        "W-1",
    }
    assert {o for (_, step), o in outcomes.items() if step == "play_again"} == {"skipped"}
    assert kit.tasks("E-1"), "the playbook run made its tasks"
    steps = kit.steps("handover")
    assert (steps["play_again"].times_executed, steps["play_again"].success_count) == (3, 0)


SPLIT = """\
key: split
steps:
  - key: opener
    type: ab_split
    branches:
      - {name: email, share: 20, next: a}
      - {name: in_app, share: 80, next: b}
  - {key: a, type: exit, success: true}
  - {key: b, type: exit, success: false}
"""


def test_ab_split_draws_by_the_shares_and_the_same_branch_on_a_retry(kit, admin):
    from cs_cli.services.journeys.batch import Batch
    from cs_cli.services.journeys.engine import advance, claim
    from cs_cli.services.journeys.program import Programs

    with transaction(kit.engine) as s:
        s.execute(
            sa.insert(Customer),
            [
                {"external_id": f"C-{n:03}", "name": f"Customer {n}", "status": CustomerStatus.ACTIVE}
                for n in range(300)
            ],
        )
    kit.load(SPLIT)
    kit.enroll("split", *(f"C-{n:03}" for n in range(300)))

    # A tick that dies after drawing (its transaction rolled back) ...
    with session_factory(kit.engine)() as s:
        lives = claim(s, now=T0, size=1000)
        advance(Batch(s, admin, T0, Programs(s)), lives)
        drawn = {live.id: live.facts["split"]["opener"] for live in lives}
        s.rollback()
    assert kit.count(JourneyEnrollment, JourneyEnrollment.status == "active") == 300
    # ... and the tick after it draws the same for everyone.
    assert kit.tick(T0).completed == 300
    ended = kit.enrollments("split")
    assert {e.id: e.facts["split"]["opener"] for e in ended.values()} == drawn
    shares = {name: sum(1 for b in drawn.values() if b == name) for name in ("email", "in_app")}
    assert 35 <= shares["email"] <= 85 and shares["email"] + shares["in_app"] == 300
    assert all(e.success == (e.facts["split"]["opener"] == "email") for e in ended.values())
