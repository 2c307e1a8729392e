"""`cs journeys tick` as cron runs it, several at once and killed: real
processes against the test database, and every effect counted afterwards.

The rounds come from benchmarks/journeys_soak.py (the soak script runs 500
of them): a random journey mixing email, task, condition, ab_split and wait
steps, loaded from a folder; every customer of a small book enrolled; ticks
phase after phase (a day apart, one per wait). In a random phase 2-4 tick
processes start at once and one of them is killed with SIGKILL at a random
point; the others finish, then one more tick (the tick function, in the
test's process) must take up at once whatever the killed one held (its row
locks died with its connection) and leave nothing due. After each phase:
one step run per (enrollment, step) on each enrollment's path, one outbox
message per email step visit, one task per task step visit, each
enrollment on the step it should be on, step and journey metrics as
counted. The seed of a failing round is in the message.

On SQLite the same rounds run with two ticks taking turns on the write lock
(each waits out the other with the busy timeout).
"""

from __future__ import annotations

import importlib.util
import os
import random
import sys
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from cs_cli.db.models import JourneyEnrollment, JourneyStepRun, OutboxMessage

ROOT = Path(__file__).resolve().parents[2]
# Rounds per run of the suite: each starts three to five processes, so the
# default keeps the whole suite inside its time budget; CS_TEST_SOAK_ROUNDS=36
# runs a few dozen, benchmarks/journeys_soak.py hundreds.
ROUNDS = int(os.environ.get("CS_TEST_SOAK_ROUNDS", "6"))


def _soak():
    spec = importlib.util.spec_from_file_location("journeys_soak", ROOT / "benchmarks" / "journeys_soak.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


soak = _soak()


def _explain(result, customers: int) -> str:
    return (
        f"{result.describe()}: {result.findings.summary()} "
        f"(replay: python benchmarks/journeys_soak.py --rounds 1 --seed {result.seed} "
        f"--customers {customers})"
    )


def _assert_clean(result, customers: int) -> None:
    assert not result.findings, _explain(result, customers)
    killed = [p for p in result.phases if p.killed]
    assert len(killed) == 1, _explain(result, customers)
    phase = killed[0]
    # The tick after the kill found the killed one's enrollments free at
    # once (no lease to wait out) and advanced every one left due.
    assert phase.rerun is not None and phase.due_after == 0, _explain(result, customers)
    assert phase.rerun["advanced"] == phase.due_before_rerun, _explain(result, customers)
    assert phase.gone_after < 20, _explain(result, customers)


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("run", range(ROUNDS))
def test_ticks_at_once_with_one_killed_do_every_step_exactly_once(db_url, admin, tmp_path, run):
    seed = random.randrange(10**6)
    customers = 120
    result = soak.soak_round(db_url, seed, customers=customers, home=tmp_path, processes=(2, 3))
    _assert_clean(result, customers)


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_thousands_of_enrollments_over_every_phase_with_ticks_at_once(db_url, admin, engine, tmp_path):
    """2,000 customers through a split, an email, a condition, a task, a
    wait and an email: every phase 2-4 ticks at once, one killed in one."""
    seed = random.randrange(10**6)
    customers = 2000
    kinds = ["ab_split", "email", "condition", "task", "wait", "email"]
    result = soak.soak_round(db_url, seed, customers=customers, home=tmp_path, kinds=kinds, every_phase=True)
    _assert_clean(result, customers)
    why = _explain(result, customers)
    assert [p.processes >= 2 for p in result.phases] == [True, True], why
    # The ticks shared the work: more than one of them advanced enrollments
    # in the phase nobody was killed in.
    calm = next(p for p in result.phases if not p.killed)
    assert sum(1 for r in calm.finished if r["advanced"]) >= 2, why
    assert sum(r["advanced"] for r in calm.finished) == customers, why
    with engine.connect() as conn:
        split = Counter(
            conn.scalars(sa.select(JourneyStepRun.outcome).where(JourneyStepRun.step_key == "s0_ab_split"))
        )
        statuses = Counter(conn.scalars(sa.select(JourneyEnrollment.status)))
        sent = conn.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    share = soak.random_plan(random.Random(seed), kinds).blocks[0][1]["share"]
    assert sum(split.values()) == customers, why
    assert abs(split["a"] / customers * 100 - share) < 6, why  # the draw follows the shares
    assert statuses == {"completed": customers}, why
    assert sent > customers, why  # two emails each, for those with a champion


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("run", range(max(1, ROUNDS // 3)))
def test_on_sqlite_ticks_take_turns_and_a_killed_one_loses_nothing(db_url, admin, tmp_path, run):
    seed = random.randrange(10**6)
    customers = 120
    result = soak.soak_round(db_url, seed, customers=customers, home=tmp_path, processes=(2, 2))
    _assert_clean(result, customers)


def test_the_soak_plans_paths_as_the_journey_file_draws_them():
    """The expectations the rounds check come from `Plan.path`: it must
    follow the file it writes (the conditions and splits' ways out)."""
    plan = soak.random_plan(random.Random(1), ["condition", "ab_split", "wait", "task"])
    steps = {s["key"]: s for s in plan.steps}
    assert [s["key"] for s in plan.steps] == [
        "s0_condition",
        plan.blocks[0][1]["side"],
        "s1_ab_split",
        plan.blocks[1][1]["side"],
        "s2_wait",
        "s3_task",
    ]
    assert steps["s0_condition"]["then"] == "s1_ab_split"
    assert steps["s1_ab_split"]["branches"][0]["next"] == plan.blocks[1][1]["side"]
    assert plan.path(80, {"s1_ab_split": "b"}) == ["s0_condition", "s1_ab_split", "s2_wait", "s3_task"]
    assert plan.path(10, {"s1_ab_split": "a"}) == [
        "s0_condition",
        plan.blocks[0][1]["side"],
        "s1_ab_split",
        plan.blocks[1][1]["side"],
        "s2_wait",
        "s3_task",
    ]
    assert plan.path(80, {}) == ["s0_condition", "s1_ab_split"]  # no split recorded: it stops there
    assert plan.waits == ["s2_wait"]
    last = soak.random_plan(random.Random(2), ["email", "ab_split"])
    assert [k for k, _ in last.blocks] == ["email", "ab_split", "email"]  # never a branch last
