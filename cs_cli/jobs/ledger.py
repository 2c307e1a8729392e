"""The run ledger: one row per job and schedule slot (unique), so a slot runs
once however many machines fire it; a failed slot is tried again, counted in
`attempts`. Each step is its own short transaction."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cs_cli.db.models import JobRun
from cs_cli.domain import JobStatus
from cs_cli.jobs.lease import HOST, dialect_insert


@dataclass(frozen=True)
class Claimed:
    id: int
    attempt: int


@dataclass(frozen=True)
class Taken:
    """Why a slot was not claimed: the run already recorded for it."""

    status: JobStatus
    attempts: int
    finished_at: dt.datetime | None
    error: str | None


def claim(
    engine: Engine,
    job: str,
    slot: str,
    *,
    started_at: dt.datetime,
    retry_failed: bool,
    max_attempts: int | None = None,
    failed_before: dt.datetime | None = None,
) -> Claimed | Taken:
    """Start the run of (job, slot): a new row, or a failed row tried again
    (when `retry_failed`, within `max_attempts`, finished before
    `failed_before`). Otherwise the row that is there."""
    table = JobRun.__table__
    me = {"host": HOST[:200], "pid": os.getpid(), "started_at": started_at}
    with engine.begin() as conn:
        insert = dialect_insert(conn, table).values(
            job=job, slot=slot, status=JobStatus.RUNNING, attempts=1, **me
        )
        new_id = conn.execute(insert.on_conflict_do_nothing().returning(table.c.id)).scalar()
        if new_id is not None:
            return Claimed(new_id, 1)
        if retry_failed:
            conditions = [table.c.job == job, table.c.slot == slot, table.c.status == JobStatus.FAILED]
            if max_attempts is not None:
                conditions.append(table.c.attempts < max_attempts)
            if failed_before is not None:
                conditions.append(table.c.finished_at < failed_before)
            again = conn.execute(
                sa.update(table)
                .where(*conditions)
                .values(
                    status=JobStatus.RUNNING,
                    attempts=table.c.attempts + 1,
                    finished_at=None,
                    counts=None,
                    error=None,
                    **me,
                )
                .returning(table.c.id, table.c.attempts)
            ).first()
            if again is not None:
                return Claimed(*again)
        row = conn.execute(
            sa.select(table.c.status, table.c.attempts, table.c.finished_at, table.c.error).where(
                table.c.job == job, table.c.slot == slot
            )
        ).one()
    return Taken(JobStatus(row.status), row.attempts, row.finished_at, row.error)


def finish(
    engine: Engine,
    run: Claimed,
    *,
    status: JobStatus,
    finished_at: dt.datetime,
    counts: dict[str, Any] | None = None,
    error: str | None = None,
) -> bool:
    """Record the end of a run; False when the row is no longer this attempt's
    (it was declared abandoned and taken over)."""
    table = JobRun.__table__
    with engine.begin() as conn:
        result = conn.execute(
            sa.update(table)
            .where(table.c.id == run.id, table.c.attempts == run.attempt, table.c.status == JobStatus.RUNNING)
            .values(status=status, finished_at=finished_at, counts=counts, error=error)
        )
    return bool(result.rowcount)


def abandon(engine: Engine, job: str, *, now: dt.datetime) -> list[tuple[str, str]]:
    """Mark as failed every run of `job` still 'running'. Only the holder of
    the job's lease calls this, so no such run is alive: it was killed, or
    its machine went down, and its lease ran out. Returns (slot, who) of each."""
    table = JobRun.__table__
    with engine.begin() as conn:
        rows = conn.execute(
            sa.select(table.c.id, table.c.slot, table.c.host, table.c.pid).where(
                table.c.job == job, table.c.status == JobStatus.RUNNING
            )
        ).all()
        for row in rows:
            who = f"{row.host} (pid {row.pid})"
            conn.execute(
                sa.update(table)
                .where(table.c.id == row.id, table.c.status == JobStatus.RUNNING)
                .values(
                    status=JobStatus.FAILED,
                    finished_at=now,
                    error=f"abandoned: the run on {who} stopped without finishing "
                    "(killed, or its machine went down) and its lease expired",
                )
            )
    return [(row.slot, f"{row.host} (pid {row.pid})") for row in rows]


def runs_of_slots(engine: Engine, slots: dict[str, str]) -> dict[str, Taken]:
    """The recorded run of each job's slot ({job: slot}), in one query."""
    table = JobRun.__table__
    wanted = sa.or_(*(sa.and_(table.c.job == job, table.c.slot == slot) for job, slot in slots.items()))
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                table.c.job, table.c.status, table.c.attempts, table.c.finished_at, table.c.error
            ).where(wanted)
        ).all()
    return {row.job: Taken(JobStatus(row.status), row.attempts, row.finished_at, row.error) for row in rows}


@dataclass(frozen=True)
class RunRow:
    """One row of the run ledger, as `cs jobs history` shows it."""

    id: int
    job: str
    slot: str
    status: JobStatus
    attempts: int
    started_at: dt.datetime
    finished_at: dt.datetime | None
    seconds: float | None
    host: str | None
    pid: int | None
    counts: dict[str, Any] | None
    error: str | None


def _run_row(row: Any) -> RunRow:
    seconds = (row.finished_at - row.started_at).total_seconds() if row.finished_at else None
    return RunRow(
        row.id,
        row.job,
        row.slot,
        JobStatus(row.status),
        row.attempts,
        row.started_at,
        row.finished_at,
        seconds,
        row.host,
        row.pid,
        row.counts,
        row.error,
    )


def history(engine: Engine, job: str | None = None, *, limit: int | None = 50) -> list[RunRow]:
    """The latest runs, newest first (of one job, or of all)."""
    table = JobRun.__table__
    query = sa.select(table).order_by(table.c.started_at.desc(), table.c.id.desc()).limit(limit)
    if job is not None:
        query = query.where(table.c.job == job)
    with engine.connect() as conn:
        return [_run_row(row) for row in conn.execute(query)]


def latest(engine: Engine) -> tuple[dict[str, RunRow], dict[str, RunRow], dict[str, Any]]:
    """Per job: its latest run, its latest successful run, and its lease row."""
    from cs_cli.db.models import JobLease

    table = JobRun.__table__

    def newest(*where: sa.ColumnElement[bool]) -> sa.Select:
        order = (table.c.started_at.desc(), table.c.id.desc())
        ranked = sa.select(
            table, sa.func.row_number().over(partition_by=table.c.job, order_by=order).label("n")
        )
        inner = ranked.where(*where).subquery()
        return sa.select(inner).where(inner.c.n == 1)

    leases = JobLease.__table__
    with engine.connect() as conn:
        last = {row.job: _run_row(row) for row in conn.execute(newest())}
        good = {row.job: _run_row(row) for row in conn.execute(newest(table.c.status == JobStatus.SUCCEEDED))}
        held = {row.job: row for row in conn.execute(sa.select(leases))}
    return last, good, held
