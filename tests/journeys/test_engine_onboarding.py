"""The shipped onboarding journey end to end (the plan's section 4.3), on
both dialects, in time travel: new customers enrolled by their
customer.created event, then ticked at the days the journey's waits name,
with tasks completed through the tasks service in between."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from cs_cli import paths
from cs_cli.db.engine import transaction
from cs_cli.db.models import Contact, Customer, NpsResponse, PlaybookRun, UsageEvent, User
from cs_cli.domain import CustomerStatus, Role
from cs_cli.services import events

T0 = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC)
SCORECARD = Path(__file__).parent.parent / "fixtures" / "simple_scorecard.yaml"


def day(n: float) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


def _new_customers(kit) -> None:
    """Three new customers of CSM Ana, each with a contact: Apex and Birch
    use the product every day, Cedar one day; Apex has a champion who
    answered an NPS survey, Birch only a sponsor."""
    with transaction(kit.engine) as s:
        ana = User(login="ana", name="Ana Ruiz", email="ana@example.com", role=Role.CSM)
        s.add(ana)
        s.flush()
        made = {}
        for ext, name in (("N-1", "Apex"), ("N-2", "Birch"), ("N-3", "Cedar")):
            made[ext] = Customer(external_id=ext, name=name, csm_id=ana.id, status=CustomerStatus.ACTIVE)
        s.add_all(made.values())
        s.flush()
        s.add_all(
            [
                Contact(
                    customer_id=made["N-1"].id, name="Ada Apex", email="ada@apex.example", is_champion=True
                ),
                Contact(
                    customer_id=made["N-2"].id,
                    name="Ben Birch",
                    email="ben@birch.example",
                    is_exec_sponsor=True,
                ),
                Contact(
                    customer_id=made["N-3"].id, name="Cy Cedar", email="cy@cedar.example", is_champion=True
                ),
                NpsResponse(external_id="NPS-1", customer_id=made["N-1"].id, score=10, responded_at=day(1)),
            ]
        )
        s.add_all(
            UsageEvent(
                customer_id=made[ext].id, event_name="login", occurred_at=day(n) + dt.timedelta(hours=1)
            )
            for ext in ("N-1", "N-2")
            for n in range(0, 40)
        )
        s.add(UsageEvent(customer_id=made["N-3"].id, event_name="login", occurred_at=day(1)))
        events.record_many(
            s,
            kit.admin,
            "customer.created",
            [(c.id, {"external_id": ext}) for ext, c in made.items()],
            occurred_at=T0,
        )


def test_onboarding_end_to_end(kit, admin):
    from cs_cli.services.journeys import catalog
    from cs_cli.services.playbooks import catalog as playbooks

    before = T0 - dt.timedelta(hours=1)
    with transaction(kit.engine) as s:
        playbooks.sync(s, admin, playbooks.read(paths.playbooks_dir()), full=True, now=before)
        for key in ("risk_mitigation", "onboarding"):
            file = paths.journeys_dir() / f"{key}.yaml"
            catalog.sync(s, admin, catalog.read(file), full=False, now=before)
    _new_customers(kit)

    def tick(n: float):
        return kit.tick(day(n), scorecard=SCORECARD)

    # Day 0: enrolled by the event, welcomed, waiting two days.
    first = tick(0)
    assert (first.enrolled, first.messages) == (3, 3)
    welcome = {m.recipient: m for m in kit.outbox().values()}
    assert set(welcome) == {"ada@apex.example", "ben@birch.example", "cy@cedar.example"}
    assert welcome["ada@apex.example"].subject == "Welcome aboard, Apex"
    assert welcome["ada@apex.example"].payload["text"].startswith("Hello Ada,")
    assert "html" in welcome["ada@apex.example"].payload
    assert {e.step for e in kit.enrollments("onboarding").values()} == {"wait_2_days"}
    assert tick(1).advanced == 0

    # Day 2: the kickoff call, a task for the CSM.
    tick(2)
    kickoff = {t.customer_id: t for t in kit.tasks()}
    ids = {ext: kit.customer_id(ext) for ext in ("N-1", "N-2", "N-3")}
    assert kickoff[ids["N-1"]].title == "Kickoff call with Apex"
    assert (kickoff[ids["N-1"]].task_type.value, kickoff[ids["N-1"]].due_date) == (
        "call",
        dt.date(2025, 3, 10),
    )
    assert {e.step for e in kit.enrollments("onboarding").values()} == {"kickoff_call"}

    # Day 3: Apex and Birch held the call; Cedar's did not happen.
    kit.complete(kickoff[ids["N-1"]].id, "successful", day(3))
    kit.complete(kickoff[ids["N-2"]].id, "successful", day(3))
    kit.complete(kickoff[ids["N-3"]].id, "unsuccessful", day(3))
    tick(3)
    now = kit.enrollments("onboarding")
    assert (now["N-1"].step, now["N-2"].step, now["N-3"].step) == (
        "wait_7_days",
        "wait_7_days",
        "reschedule_kickoff",
    )
    training = [m for m in kit.outbox().values() if m.subject.startswith("Training")]
    assert sorted(m.recipient for m in training) == ["ada@apex.example", "ben@birch.example"]
    assert training[0].subject in ("Training for your team at Apex", "Training for your team at Birch")

    # Day 4: Cedar's rescheduled call is done; the adoption check finds it low.
    (reschedule,) = [t for t in kit.tasks("N-3") if t.title.startswith("Reschedule")]
    assert (reschedule.task_type.value, reschedule.priority.value) == ("follow_up", "high")
    kit.complete(reschedule.id, "successful", day(4))
    tick(4)
    cedar = kit.enrollments("onboarding")["N-3"]
    assert kit.path("onboarding", "N-3") == [
        "welcome_email",
        "wait_2_days",
        "kickoff_call",
        "kickoff_complete",
        "reschedule_kickoff",
        "adoption_check",
        "adoption_over_50",
        "intervention_playbook",
    ]
    assert (cedar.status, cedar.success) == ("completed", False)
    with transaction(kit.engine) as s:
        runs = s.execute(
            sa.select(PlaybookRun.customer_id, PlaybookRun.trigger_reason).where(
                PlaybookRun.customer_id == ids["N-3"]
            )
        ).all()
    assert [r.trigger_reason for r in runs] == ["adoption at 50% or less during onboarding"]

    # Day 10: Apex and Birch use the product daily: on to week 2 and the 30-day review.
    tick(10)
    now = kit.enrollments("onboarding")
    assert (now["N-1"].step, now["N-2"].step) == ("review_30_day", "review_30_day")
    week_2 = sorted(m.recipient for m in kit.outbox().values() if "week 2" in m.subject)
    assert week_2 == ["ada@apex.example", "ben@birch.example"]

    # Day 31: the reviews are done, after the goal's 30 days: the health check decides.
    for ext in ("N-1", "N-2"):
        (review,) = [t for t in kit.tasks(ext) if t.title.startswith("30-day")]
        kit.complete(review.id, "successful", day(31))
    tick(31)
    done = kit.enrollments("onboarding")
    assert kit.path("onboarding", "N-1")[-4:] == [
        "review_30_day",
        "health_check",
        "health_over_70",
        "exit_success",
    ]
    assert (done["N-1"].status, done["N-1"].success, done["N-1"].exit_reason) == (
        "completed",
        True,
        "exit (success)",
    )
    assert kit.path("onboarding", "N-2")[-3:] == ["health_check", "health_over_70", "risk_journey"]
    assert (done["N-2"].status, done["N-2"].success) == ("completed", False)
    risk = kit.enrollments("risk_mitigation")
    assert "N-2" in risk and risk["N-2"].facts["source"] == "journey:onboarding"
    assert "N-1" not in risk

    journey = kit.journey("onboarding")
    assert (journey.total_enrolled, journey.total_completed) == (3, 3)
    assert journey.success_rate == round(1 / 3, 4)
    assert journey.avg_completion_days == round((4 + 31 + 31) / 3, 2)
    steps = kit.steps("onboarding")
    assert (steps["welcome_email"].times_executed, steps["welcome_email"].success_count) == (3, 3)
    assert steps["exit_success"].times_executed == 1 and steps["intervention_playbook"].success_count == 1
    # Nothing more to do at the same moment.
    assert tick(31).steps == 0
