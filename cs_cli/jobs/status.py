"""`cs jobs status`: for each job its last run, how long it took, its result
and when it is next due, judged ok, running, failing or overdue."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from cs_cli.domain import JobStatus
from cs_cli.jobs import ledger
from cs_cli.jobs.lease import Holder
from cs_cli.jobs.registry import JOBS, schedules

if TYPE_CHECKING:
    from cs_cli.settings import Settings

# A job is overdue when the slot after its last success has been due this
# long without a success (before that, cron or an overlapping run is late).
GRACE = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class JobState:
    job: str
    schedule: str
    state: str  # ok, running, failing, overdue, never run
    last_slot: str | None
    last_result: str | None  # the latest run's status
    last_started_at: dt.datetime | None
    last_seconds: float | None
    attempts: int | None
    next_due_at: dt.datetime  # the next slot's start; now when the current slot is still to run
    running_on: str | None
    error: str | None

    @property
    def is_alarm(self) -> bool:
        return self.state in ("failing", "overdue", "never run")


def status(engine: Engine, settings: Settings, *, now: dt.datetime) -> list[JobState]:
    """Every job's state at `now`, in the order `cs run due` runs them."""
    plan = schedules(settings)
    last, good, held = ledger.latest(engine)
    states = []
    for job in JOBS:
        schedule = plan[job.name]
        current = schedule.slot(now, settings.job_timezone)
        run = last.get(job.name)
        ok = good.get(job.name)
        lease = held.get(job.name)
        running_on = None
        if lease is not None:
            who = Holder.parse(lease.holder)
            # An expired lease whose holder is alive on this machine is still
            # running: on SQLite its heartbeat waits behind the job's own long
            # write (one writer at a time), as the lease's claim knows too.
            if lease.expires_at >= now or (who is not None and who.alive_here()):
                running_on = who.describe() if who else lease.holder
        done_now = ok is not None and ok.slot == current.key
        if running_on is not None:
            state = "running"
        elif run is None:
            state = "never run"
        elif run.status in (JobStatus.FAILED, JobStatus.RUNNING):
            # A 'running' row with no live lease was abandoned.
            state = "failing"
        elif ok is None or now > schedule.slot(ok.started_at, settings.job_timezone).end + GRACE:
            state = "overdue"
        else:
            state = "ok"
        error = run.error if run is not None and run.status != JobStatus.SUCCEEDED else None
        if run is not None and run.status == JobStatus.RUNNING and running_on is None:
            error = "abandoned: the run stopped without finishing (its lease expired)"
        gave_up = (
            run is not None
            and run.slot == current.key
            and run.status == JobStatus.FAILED
            and run.attempts >= settings.job_attempts
        )
        states.append(
            JobState(
                job=job.name,
                schedule=schedule.describe(settings.job_timezone),
                state=state,
                last_slot=run.slot if run else None,
                last_result=run.status.value if run else None,
                last_started_at=run.started_at if run else None,
                last_seconds=run.seconds if run else None,
                attempts=run.attempts if run else None,
                next_due_at=current.end if done_now or gave_up else current.start,
                running_on=running_on,
                error=error,
            )
        )
    return states
