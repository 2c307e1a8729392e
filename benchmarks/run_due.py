"""A full `cs run due` cycle when nothing is due, on a 100,000-customer book.

    flock /tmp/cs-bench.lock python benchmarks/run_due.py

Builds the book (unless --reuse), records a succeeded run of every job for
its slot at a fixed moment, then times `cs run due --as-of MOMENT` as a whole
process (start-up, settings, the schema check, the admin check, one ledger
query) and the runner alone, in process. Target: at most 2 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time

import sqlalchemy as sa
from harness import build_book, fresh_database
from measure import run_measured

from cs_cli.db.engine import make_engine
from cs_cli.db.models import JobRun
from cs_cli.domain import Actor, JobStatus
from cs_cli.jobs import runner
from cs_cli.jobs.log import quiet
from cs_cli.jobs.registry import JOBS, schedules
from cs_cli.settings import load_settings

MOMENT = dt.datetime(2026, 11, 28, 14, 7, 30, tzinfo=dt.UTC)


def fill_ledger(url: str) -> None:
    """Every job has run for its slot at MOMENT, after a day of cron's runs
    (a run ledger is never empty in production)."""
    engine = make_engine(url)
    plan = schedules(load_settings({}, {}))
    runs = {}
    for minutes in range(24 * 60, -1, -1):
        moment = MOMENT - dt.timedelta(minutes=minutes)
        for job in JOBS:
            slot = plan[job.name].slot(moment).key
            runs[(job.name, slot)] = {
                "job": job.name,
                "slot": slot,
                "status": JobStatus.SUCCEEDED,
                "attempts": 1,
                "started_at": moment,
                "finished_at": moment + dt.timedelta(seconds=2),
                "host": "bench",
                "pid": 1,
                "counts": {"n": 1},
            }
    with engine.begin() as conn:
        conn.execute(sa.insert(JobRun.__table__), list(runs.values()))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/cs_bench_run_due")
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--reuse", action="store_true", help="Use the book already in the database.")
    args = parser.parse_args()
    url = args.pg_url
    if not args.reuse:
        fresh_database(url).dispose()
        build_book(url, args.customers, args.events)
        fill_ledger(url)
    env = {**os.environ, "CS_DATABASE_URL": url, "CS_USER": "system"}
    command = [sys.executable, "-m", "cs_cli", "run", "due", "--as-of", MOMENT.isoformat()]
    walls, peaks = [], []
    for _ in range(args.runs):
        seconds, peak, stderr = run_measured(command, env)
        assert stderr.strip() == "", stderr  # nothing due: nothing said, exit 0
        walls.append(seconds)
        peaks.append(peak)
    engine = make_engine(url)
    settings = load_settings({}, {})
    inner = []
    for _ in range(args.runs):
        started = time.perf_counter()
        outcomes = runner.run_due(engine, actor=Actor.system(), settings=settings, moment=MOMENT, log=quiet())
        inner.append(time.perf_counter() - started)
        assert outcomes == []
    engine.dispose()
    print(f"cs run due, nothing due, {args.customers:,} customers, {args.runs} runs")
    print(
        f"  whole process: first {walls[0]:.3f} s, median {statistics.median(walls):.3f} s, "
        f"min {min(walls):.3f} s, max {max(walls):.3f} s, peak {max(peaks)} MB"
    )
    print(f"  runner alone:  median {statistics.median(inner) * 1000:.1f} ms, max {max(inner) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
