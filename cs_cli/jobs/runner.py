"""Run a job for its schedule slot: take the job's lease, mark runs a killed
process left behind as abandoned, claim the slot in the run ledger, run with
a heartbeat, record the end, let the lease go.

An overlapping run finds the lease taken and skips at once; a second machine
firing the same slot finds the ledger row and skips; a job that raises is
recorded as failed and the next job still runs.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from cs_cli.domain import JobStatus
from cs_cli.errors import CsError
from cs_cli.jobs import lease as leases
from cs_cli.jobs import ledger
from cs_cli.jobs.registry import JOBS, Job, JobContext, schedules

if TYPE_CHECKING:
    from cs_cli.domain import Actor
    from cs_cli.settings import Settings

Log = Callable[..., None]


@dataclass(frozen=True)
class Outcome:
    job: str
    slot: str
    result: str  # succeeded, failed or skipped
    reason: str = ""  # why it was skipped, or the error
    counts: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def _wall() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def run_job(
    engine: Engine,
    job: Job,
    *,
    actor: Actor,
    settings: Settings,
    moment: dt.datetime,
    log: Log,
    due: bool = False,
    force: bool = False,
) -> Outcome:
    """Run `job` for the slot `moment` falls in (a slot of its own with `force`).

    From `cs run due` (`due`), a failed slot is tried again only after the
    retry delay and within the attempts allowed; named on the command line,
    a failed slot is tried again at once.
    """
    schedule = schedules(settings).get(job.name, job.schedule)
    slot = schedule.slot(moment, settings.job_timezone).key
    if force:
        slot = f"manual {_wall():%Y-%m-%dT%H:%M:%S}"
    holder = leases.Holder.me()
    busy = leases.claim(engine, job.name, holder, settings.job_lease)
    if busy is not None:
        if busy.stale_but_alive:
            why = (
                f"{job.name} is still running on {busy.describe()} (its lease ran out, the process is alive)"
            )
        else:
            why = f"{job.name} is running on {busy.describe()} since {busy.acquired_at:%H:%M:%S}"
        log("info", f"{job.name} [{slot}]: skipped: {why}", job=job.name, slot=slot, event="skipped")
        return Outcome(job.name, slot, "skipped", why)
    try:
        abandoned = ledger.abandon(engine, job.name, now=_wall())
        for old_slot, who in abandoned:
            log(
                "warning",
                f"{job.name} [{old_slot}]: the run on {who} was abandoned "
                "(killed, or its machine went down); recorded as failed",
                job=job.name,
                slot=old_slot,
                event="abandoned",
            )
        started_at = _wall()
        # A slot whose run was killed is tried again at once: that was no failure of the job.
        wait = due and slot not in {old_slot for old_slot, _ in abandoned}
        claimed = ledger.claim(
            engine,
            job.name,
            slot,
            started_at=started_at,
            retry_failed=True,
            max_attempts=settings.job_attempts if due else None,
            failed_before=started_at - settings.job_retry_delay if wait else None,
        )
        if isinstance(claimed, ledger.Taken):
            why = _taken(claimed)
            log("info", f"{job.name} [{slot}]: skipped: {why}", job=job.name, slot=slot, event="skipped")
            return Outcome(job.name, slot, "skipped", why)
        return _execute(
            engine, job, claimed, slot, holder, actor=actor, settings=settings, moment=moment, log=log
        )
    finally:
        leases.release(engine, job.name, holder)


def _taken(row: ledger.Taken) -> str:
    if row.status == JobStatus.SUCCEEDED:
        return f"already ran for this slot (succeeded at {row.finished_at:%Y-%m-%d %H:%M:%S} UTC)"
    if row.status == JobStatus.RUNNING:
        return "running elsewhere"
    tries = f"{row.attempts} attempt{'s' if row.attempts != 1 else ''}"
    return f"failed ({tries}; last: {row.error}); `cs run` names it to try again now"


def _execute(
    engine: Engine,
    job: Job,
    claimed: ledger.Claimed,
    slot: str,
    holder: leases.Holder,
    *,
    actor: Actor,
    settings: Settings,
    moment: dt.datetime,
    log: Log,
) -> Outcome:
    attempt = f" (attempt {claimed.attempt})" if claimed.attempt > 1 else ""
    log("info", f"{job.name} [{slot}]: started{attempt}", job=job.name, slot=slot, event="started")
    ctx = JobContext(engine=engine, actor=actor, now=moment, settings=settings)
    began = time.monotonic()
    lost = lambda text: log("warning", text, job=job.name, slot=slot, event="lease_lost")  # noqa: E731
    try:
        with leases.Heartbeat(engine, job.name, holder, settings.job_lease, lost):
            counts = job.run(ctx) or {}
    except BaseException as exc:
        seconds = time.monotonic() - began
        error = _error_text(exc)
        ledger.finish(engine, claimed, status=JobStatus.FAILED, finished_at=_wall(), error=error)
        log(
            "error",
            f"{job.name} [{slot}]: failed after {seconds:.1f} s: {error}",
            job=job.name,
            slot=slot,
            event="failed",
            seconds=round(seconds, 3),
            error=error,
        )
        if not isinstance(exc, Exception):
            raise  # interrupted: recorded, now stop
        return Outcome(job.name, slot, "failed", error, seconds=seconds)
    seconds = time.monotonic() - began
    if not ledger.finish(engine, claimed, status=JobStatus.SUCCEEDED, finished_at=_wall(), counts=counts):
        log(
            "warning", f"{job.name} [{slot}]: finished, but another run had taken the slot over", job=job.name
        )
    summary = ", ".join(f"{k} {v:,}" if isinstance(v, int) else f"{k}: {v}" for k, v in counts.items())
    log(
        "info",
        f"{job.name} [{slot}]: succeeded in {seconds:.1f} s" + (f" ({summary})" if summary else ""),
        job=job.name,
        slot=slot,
        event="succeeded",
        seconds=round(seconds, 3),
        counts=counts,
    )
    return Outcome(job.name, slot, "succeeded", counts=counts, seconds=seconds)


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, CsError):
        return exc.message
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    if isinstance(exc, SystemExit):
        return f"stopped (exit {exc.code})"
    # One line: database errors carry the statement and its values after it.
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first}"[:2000]


def run_due(
    engine: Engine,
    *,
    actor: Actor,
    settings: Settings,
    moment: dt.datetime,
    log: Log,
    jobs: Sequence[Job] = JOBS,
) -> list[Outcome]:
    """Run, in registry order, every job whose slot at `moment` has no run
    yet (or a failed one to try again). Nothing due costs one query."""
    plan = schedules(settings)
    slots = {
        job.name: plan.get(job.name, job.schedule).slot(moment, settings.job_timezone).key for job in jobs
    }
    recorded = ledger.runs_of_slots(engine, slots)
    retry_before = _wall() - settings.job_retry_delay
    outcomes = []
    for job in jobs:
        row = recorded.get(job.name)
        if row is not None and not _worth_trying(row, settings.job_attempts, retry_before):
            continue
        outcomes.append(
            run_job(engine, job, actor=actor, settings=settings, moment=moment, log=log, due=True)
        )
    if not outcomes:
        log("info", "nothing due", event="idle")
    return outcomes


def _worth_trying(row: ledger.Taken, attempts: int, retry_before: dt.datetime) -> bool:
    if row.status == JobStatus.SUCCEEDED:
        return False
    if row.status == JobStatus.FAILED:
        return row.attempts < attempts and row.finished_at is not None and row.finished_at < retry_before
    return True  # running: alive elsewhere (the lease says so), or abandoned (taken over)


def run_named(
    engine: Engine,
    names: Sequence[str],
    *,
    actor: Actor,
    settings: Settings,
    moment: dt.datetime,
    log: Log,
    force: bool = False,
) -> list[Outcome]:
    from cs_cli.jobs.registry import get

    jobs = [get(name) for name in names]  # every name checked before anything runs
    return [
        run_job(engine, job, actor=actor, settings=settings, moment=moment, log=log, force=force)
        for job in jobs
    ]
