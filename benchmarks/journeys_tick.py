"""Benchmark: `cs journeys tick` on Postgres.

    python benchmarks/journeys_tick.py                    # everything below
    python benchmarks/journeys_tick.py --only due --due 20000
    python benchmarks/journeys_tick.py --only idle --idle 1000000

Targets (journeys issue):
- due: 100,000 due enrollments, each standing on an email step (the message
  goes into the outbox), advanced by one tick in at most 60 s;
- two: two ticks at once over the same 100,000: at least 1.6x the
  throughput of one;
- idle: a tick with nothing due over 1,000,000 enrollments in at most 0.5 s.

The book is written with INSERT ... SELECT over generate_series (not through
the engine): customers, one champion each with an email address, a journey
`bench` (loaded from a file like any journey: an email step, then a 30-day
wait) and its enrollments, due at once or (idle) waiting on the wait step.
For `idle` the million enrollments are spread over ten copies of the
journey (a customer is in a journey once at a time).

Each tick runs as its own process, `cs journeys tick --no-deliver`, timed
whole (start-up included, about 0.3 s of Python imports and more on a busy
machine) with its peak RSS; `idle` also times the tick function itself in
this process. Wrap runs in `flock /tmp/cs-bench.lock` so benchmarks do not
overlap.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import sqlalchemy as sa
from harness import fresh_database
from measure import run_measured

from cs_cli.db.engine import make_engine, transaction

AT = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)

JOURNEY = """\
key: {key}
name: Bench {key}
trigger: {{type: manual}}
steps:
  - key: hello
    type: email
    template: onboarding_welcome
    subject: "Hello from {{{{ csm.name }}}}, {{{{ customer.name }}}}"
    to: champion
    next: pause
  - key: pause
    type: wait
    days: 30
"""


def build(url: str, customers: int, journeys: int, *, due: bool) -> float:
    """A fresh database: `customers` customers with a champion each, and
    every customer enrolled in each of `journeys` journeys: due now on the
    email step, or (not due) waiting 30 days on the wait step. Returns seconds."""
    from cs_cli.db.models import User
    from cs_cli.services.access import resolve_actor
    from cs_cli.services.journeys import catalog

    started = time.perf_counter()
    engine = fresh_database(url)
    with transaction(engine) as session:
        session.add(User(login="bench", name="Bench", email="bench@vendor.example", role="admin"))
        for n in range(10):
            session.add(User(login=f"csm{n}", name=f"CSM {n}", email=f"csm{n}@vendor.example", role="csm"))
    folder = Path(tempfile.mkdtemp(prefix="cs-bench-journeys-"))
    for n in range(journeys):
        (folder / f"bench{n}.yaml").write_text(JOURNEY.format(key=f"bench{n}"))
    with transaction(engine) as session:
        actor = resolve_actor(session, "bench")
        catalog.sync(session, actor, catalog.read(folder), full=True, now=AT - dt.timedelta(days=1))
    with engine.begin() as conn:
        run = conn.exec_driver_sql
        run(
            "INSERT INTO customers (external_id, name, seats, status, csm_id, attributes, created_at) "
            "SELECT 'B-' || g, 'Customer ' || g, 10 + g %% 90, 'active', "
            "(SELECT min(id) FROM api_users WHERE role = 'csm') + g %% 10, '{}', now() "
            "FROM generate_series(1, %(n)s) g",
            {"n": customers},
        )
        run(
            "INSERT INTO contacts (customer_id, name, email, is_champion, is_exec_sponsor, created_at) "
            "SELECT id, 'Champion ' || id, 'champion' || id || '@customer.example', true, false, now() "
            "FROM customers"
        )
        step = "hello" if due else "pause"
        facts = (
            "'{}'::jsonb"
            if due
            else (
                "jsonb_build_object('visited', jsonb_build_object('hello', 1, 'pause', 1), "
                "'waiting', jsonb_build_object('step', 'pause', 'until', %(until)s::text))"
            )
        )
        run(
            "INSERT INTO cs_journey_enrollments (journey_id, journey_version, customer_id, status, "
            "current_step_id, next_run_at, enrolled_at, step_entered_at, facts, created_at) "
            f"SELECT j.id, j.version, c.id, 'active', s.id, %(next)s, %(enrolled)s, %(enrolled)s, {facts}, "
            "%(enrolled)s FROM cs_journeys j "
            "JOIN cs_journey_steps s ON s.journey_id = j.id AND s.version = j.version AND s.key = %(step)s "
            "CROSS JOIN customers c ORDER BY j.id, c.id",
            {
                "next": AT if due else AT + dt.timedelta(days=29),
                "until": (AT + dt.timedelta(days=29)).isoformat(),
                "enrolled": AT - dt.timedelta(days=1),
                "step": step,
            },
        )
        run("UPDATE cs_journeys SET total_enrolled = %(n)s", {"n": customers})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()
    return time.perf_counter() - started


def undo(url: str) -> None:
    """Put the due enrollments back on the email step, and empty the outbox
    and the step runs, so the same book can be ticked again."""
    engine = make_engine(url)
    with engine.begin() as conn:
        run = conn.exec_driver_sql
        run("TRUNCATE cs_outbox, cs_journey_step_runs")
        run(
            "UPDATE cs_journey_enrollments e SET current_step_id = s.id, next_run_at = %(at)s, "
            "facts = '{}', step_entered_at = enrolled_at, updated_at = NULL "
            "FROM cs_journey_steps s WHERE s.journey_id = e.journey_id AND s.version = e.journey_version "
            "AND s.key = 'hello'",
            {"at": AT},
        )
        run("UPDATE cs_journey_steps SET times_executed = 0, success_count = 0")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()


def env(url: str) -> dict[str, str]:
    return {**os.environ, "CS_DATABASE_URL": url, "CS_USER": "bench", "CS_CONFIG": ""}


def command(batch: int | None) -> list[str]:
    args = [sys.executable, "-m", "cs_cli", "journeys", "tick", "--no-deliver", "--as-of", AT.isoformat()]
    if batch:
        args += ["--batch", str(batch)]
    return [*args, "--format", "json"]


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        out = {
            "outbox": conn.exec_driver_sql("SELECT count(*) FROM cs_outbox").scalar_one(),
            "distinct keys": conn.exec_driver_sql(
                "SELECT count(DISTINCT idempotency_key) FROM cs_outbox"
            ).scalar_one(),
            "step runs": conn.exec_driver_sql("SELECT count(*) FROM cs_journey_step_runs").scalar_one(),
            "still due": conn.execute(
                sa.text(
                    "SELECT count(*) FROM cs_journey_enrollments "
                    "WHERE status = 'active' AND next_run_at <= :at"
                ),
                {"at": AT},
            ).scalar_one(),
        }
    engine.dispose()
    return out


def one_tick(url: str, n: int, batch: int | None) -> float:
    seconds, peak, _ = run_measured(command(batch), env(url))
    got = counts(url)
    print(
        f"one tick: {seconds:.1f} s, {n / seconds:,.0f} enrollments/s, peak RSS {peak} MB; {got}",
        flush=True,
    )
    if got["outbox"] != n or got["distinct keys"] != n or got["step runs"] != 2 * n or got["still due"]:
        raise SystemExit("the tick did not advance every enrollment exactly once")
    return seconds


def two_ticks(url: str, n: int, batch: int | None) -> float:
    started = time.perf_counter()
    processes = [
        subprocess.Popen(
            command(batch), env=env(url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    results = []
    for process in processes:
        out, err = process.communicate()
        if process.returncode != 0:
            raise SystemExit(err)
        results.append(json.loads(out))
    seconds = time.perf_counter() - started
    got = counts(url)
    shares = " + ".join(f"{r['advanced']:,}" for r in results)
    print(
        f"two ticks at once: {seconds:.1f} s, {n / seconds:,.0f} enrollments/s (advanced {shares}); {got}",
        flush=True,
    )
    if got["outbox"] != n or got["distinct keys"] != n or got["step runs"] != 2 * n or got["still due"]:
        raise SystemExit("the ticks did not advance every enrollment exactly once")
    return seconds


def idle(url: str, runs: int) -> None:
    from cs_cli.services.access import resolve_actor
    from cs_cli.services.journeys.engine import tick

    whole = sorted(run_measured(command(None), env(url))[0] for _ in range(runs))
    engine = make_engine(url)
    with transaction(engine) as session:
        actor = resolve_actor(session, "bench")
    inner = []
    for _ in range(runs):
        started = time.perf_counter()
        result = tick(engine, actor, now=AT)
        inner.append(time.perf_counter() - started)
        assert result.advanced == 0
    engine.dispose()
    inner.sort()
    print(
        f"nothing due: the whole process {whole[0]:.2f} s best, {whole[len(whole) // 2]:.2f} s median; "
        f"the tick function {inner[0] * 1000:.0f} ms best, {inner[len(inner) // 2] * 1000:.0f} ms median "
        f"({runs} runs each)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", choices=["due", "two", "idle"], action="append")
    parser.add_argument("--due", type=int, default=100_000, help="due enrollments (due, two)")
    parser.add_argument("--idle", type=int, default=1_000_000, help="enrollments none of which is due")
    parser.add_argument("--batch", type=int, default=None, help="--batch of the ticks (default: the tick's)")
    parser.add_argument("--runs", type=int, default=5, help="runs of the idle tick")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/cs_bench_journeys")
    args = parser.parse_args()
    parts = args.only or ["due", "two", "idle"]
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"{dt.date.today()} on {machine}", flush=True)
    if "due" in parts or "two" in parts:
        print(f"building {args.due:,} due enrollments ...", file=sys.stderr, flush=True)
        print(f"built in {build(args.pg_url, args.due, 1, due=True):.1f} s", file=sys.stderr, flush=True)
        one = None
        if "due" in parts:
            one = one_tick(args.pg_url, args.due, args.batch)
        if "two" in parts:
            if one is None:
                one = one_tick(args.pg_url, args.due, args.batch)
            undo(args.pg_url)
            both = two_ticks(args.pg_url, args.due, args.batch)
            print(f"two ticks at once: {one / both:.2f}x the throughput of one", flush=True)
    if "idle" in parts:
        journeys = 10
        print(f"building {args.idle:,} enrollments, none due ...", file=sys.stderr, flush=True)
        seconds = build(args.pg_url, args.idle // journeys, journeys, due=False)
        print(f"built in {seconds:.1f} s", file=sys.stderr, flush=True)
        idle(args.pg_url, args.runs)


if __name__ == "__main__":
    main()
