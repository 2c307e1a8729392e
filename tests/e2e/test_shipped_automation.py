"""The shipped playbooks, journeys and automation rules work together: run
over the demo book for two weeks the way cron runs them, no customer ends up
with two open tasks of the same kind (the same purpose and task type) from
two different automations."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import aliased

from cs_cli.db.models import CSTask, Customer, Journey, JourneyEnrollment, Playbook

START = dt.date(2026, 6, 30)
DAYS = (0, 1, 2, 3, 5, 8, 10, 14)
# A journey's type and a playbook's category that name the same purpose.
PURPOSE = {"risk_mitigation": "churn_risk"}
OPEN = ("pending", "in_progress", "blocked")


@pytest.mark.slow  # long: runs in `-m slow` (README, Development)
def test_no_customer_gets_the_same_kind_of_task_from_two_automations(run_cli, engine):
    made = run_cli("demo", "--customers", "60", "--months", "6", "--as-of", START.isoformat(), "--no-score")
    assert made.exit_code == 0, made
    for offset in DAYS:
        day = (START + dt.timedelta(days=offset)).isoformat()
        ran = run_cli(
            "run", "health-refresh", "playbook-evaluate", "automation", "journey-tick", "--as-of", day, "-q"
        )
        assert ran.exit_code == 0, ran

    journey = aliased(Journey)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                Customer.external_id,
                CSTask.task_type,
                CSTask.title,
                Playbook.key,
                Playbook.category,
                journey.key,
                journey.journey_type,
            )
            .join(Customer, Customer.id == CSTask.customer_id)
            .outerjoin(Playbook, Playbook.id == CSTask.playbook_id)
            .outerjoin(JourneyEnrollment, JourneyEnrollment.id == CSTask.journey_enrollment_id)
            .outerjoin(journey, journey.id == JourneyEnrollment.journey_id)
            .where(CSTask.status.in_(OPEN))
            .where(sa.or_(CSTask.playbook_run_id.is_not(None), CSTask.journey_enrollment_id.is_not(None)))
        ).all()
    # The demo and two weeks of cron start enough of both to mean something.
    sources = {f"playbook {r[3]}" if r[3] else f"journey {r[5]}" for r in rows}
    assert {"playbook renewal_prep", "playbook risk_response"} <= sources, sources
    kinds: dict[tuple, set[str]] = defaultdict(set)
    titles: dict[tuple, list[str]] = defaultdict(list)
    for external_id, task_type, title, playbook, category, journey_key, journey_type in rows:
        purpose = str(category) if playbook else PURPOSE.get(str(journey_type), str(journey_type))
        kind = (external_id, purpose, str(task_type))
        kinds[kind].add(f"playbook {playbook}" if playbook else f"journey {journey_key}")
        titles[kind].append(title)
    doubled = {kind: (sorted(by), titles[kind]) for kind, by in kinds.items() if len(by) > 1}
    assert doubled == {}
