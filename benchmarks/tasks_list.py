"""Benchmark: `cs tasks list --mine` on a big task table, as one CSM.

    python benchmarks/tasks_list.py
    python benchmarks/tasks_list.py --skip-build     # time again on the book already built

Builds a Postgres book of 100,000 customers (benchmarks/harness.py), spreads
them over 200 CSMs, adds 1,000,000 tasks (COPY) assigned to each customer's
CSM, about a quarter of them open, and times the whole `cs` process (start-up
included) over several runs.

Target (issue: segments, playbooks and CS tasks): at most 0.5 s with
1,000,000 tasks in the table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import platform
import random
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from harness import AS_OF, build_book
from measure import run_measured

from cs_cli.db.engine import make_engine

CSMS = 200
FIRST_CSM = 2  # the harness's admin is user 1
KINDS = ["call", "email", "meeting", "internal", "review", "escalation", "follow_up", "custom"]
PRIORITIES = ["low", "medium", "medium", "high", "critical"]
# Most tasks of a book are history: closed. About a quarter are open.
STATUSES = ["completed"] * 62 + ["cancelled"] * 11 + ["pending"] * 19 + ["in_progress"] * 5 + ["blocked"] * 3
NULL = "\\N"
OUTCOMES = ["successful", "successful", "unsuccessful", "rescheduled", "no_response"]


def add_csms_and_tasks(url: str, customers: int, tasks: int, seed: int = 2) -> float:
    """200 CSMs owning the customers round-robin, and `tasks` tasks; returns seconds."""
    rng = random.Random(seed)
    started = time.perf_counter()
    engine = make_engine(url)
    raw = engine.raw_connection()
    conn = raw.driver_connection
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT max(id) FROM api_users")
            have = cur.fetchone()[0]
            users = io.StringIO()
            for u in range(have + 1, FIRST_CSM + CSMS):
                users.write(
                    f"{u}\tcsm{u}@example.com\tcsm{u}\tCSM {u}\tcsm\tt\tnone\t2026-01-01 00:00:00+00\n"
                )
            with cur.copy(
                "COPY api_users (id, email, login, name, role, is_active, notify_preference, created_at)"
                " FROM STDIN"
            ) as copy:
                copy.write(users.getvalue())
            cur.execute(
                "SELECT setval(pg_get_serial_sequence('api_users', 'id'), (SELECT max(id) FROM api_users))"
            )
            cur.execute(f"UPDATE customers SET csm_id = {FIRST_CSM} + (id % {CSMS})")
            columns = (
                "customer_id, title, task_type, assigned_to_user_id, priority, status, due_date,"
                " snoozed_until, started_at, completed_at, outcome, created_at"
            )
            rand, choice, randint = rng.random, rng.choice, rng.randint
            with cur.copy(f"COPY cs_tasks ({columns}) FROM STDIN") as copy:
                buffer = io.StringIO()
                for n in range(tasks):
                    c = 1 + int(rand() * customers)
                    status = choice(STATUSES)
                    due = AS_OF + dt.timedelta(days=randint(-240, 60))
                    created = due - dt.timedelta(days=randint(1, 30))
                    closed = status in ("completed", "cancelled")
                    snoozed = (
                        AS_OF + dt.timedelta(days=randint(1, 14)) if not closed and rand() < 0.03 else None
                    )
                    row = (
                        c,
                        f"Task {n} for customer {c}",
                        choice(KINDS),
                        FIRST_CSM + c % CSMS,
                        choice(PRIORITIES),
                        status,
                        due,
                        snoozed,
                        f"{created} 10:00:00+00" if status != "pending" else None,
                        f"{due} 16:00:00+00" if closed else None,
                        choice(OUTCOMES) if status == "completed" else None,
                        f"{created} 09:00:00+00",
                    )
                    buffer.write("\t".join(NULL if v is None else str(v) for v in row) + "\n")
                    if n % 50_000 == 49_999:
                        copy.write(buffer.getvalue())
                        buffer = io.StringIO()
                copy.write(buffer.getvalue())
        raw.commit()
    finally:
        raw.close()
    # In a transaction that commits: statistics gathered in one that rolls
    # back are thrown away with it.
    with engine.begin() as c:
        c.exec_driver_sql("ANALYZE api_users")
        c.exec_driver_sql("ANALYZE customers")
        c.exec_driver_sql("ANALYZE cs_tasks")
    engine.dispose()
    return time.perf_counter() - started


def time_command(
    url: str, user: str, args: list[str], runs: int
) -> tuple[list[float], list[float], int, str]:
    """Wall seconds and CPU seconds (user + system) of each run, peak RSS, last summary line."""
    env = {**os.environ, "CS_DATABASE_URL": url, "CS_USER": user}
    command = [sys.executable, "-m", "cs_cli", *args]
    run_measured(command, env)  # warm the page cache and the bytecode
    times, cpu, peak, summary = [], [], 0, ""
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        seconds, rss, stderr = run_measured(command, env)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        times.append(seconds)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        peak = max(peak, rss)
        summary = stderr.strip().splitlines()[-1] if stderr.strip() else ""
    return times, cpu, peak, summary


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=0, help="usage events of the book (not read here)")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/cs_bench_tasks")
    parser.add_argument("--skip-build", action="store_true", help="time the book already built")
    args = parser.parse_args()
    url = args.pg_url
    if not args.skip_build:
        print(f"building {args.customers:,} customers ...", file=sys.stderr)
        build_book(url, args.customers, args.events)
        seconds = add_csms_and_tasks(url, args.customers, args.tasks)
        print(f"{CSMS} CSMs and {args.tasks:,} tasks in {seconds:.1f} s", file=sys.stderr)
    engine = make_engine(url)
    with engine.connect() as c:
        total = c.exec_driver_sql("SELECT count(*) FROM cs_tasks").scalar()
        csm = c.exec_driver_sql("SELECT login FROM api_users WHERE id = 57").scalar()
        mine = c.exec_driver_sql(
            "SELECT count(*) FROM cs_tasks WHERE assigned_to_user_id = 57"
            " AND status IN ('pending', 'in_progress', 'blocked')"
        ).scalar()
        version = c.exec_driver_sql("SHOW server_version").scalar()
    engine.dispose()
    as_of = ["--as-of", AS_OF.isoformat()]
    cases = [
        ("cs tasks list --mine", csm, ["tasks", "list", "--mine", *as_of]),
        ("cs tasks my", csm, ["tasks", "my", *as_of]),
        (
            "cs tasks list --mine --due overdue --sort priority",
            csm,
            ["tasks", "list", "--mine", "--due", "overdue", "--sort", "priority", *as_of],
        ),
        ("cs tasks list (as the CSM, no filter)", csm, ["tasks", "list", *as_of]),
        ("cs tasks list (admin, whole book)", "bench", ["tasks", "list", *as_of]),
        ("cs --version (start-up floor)", csm, ["--version"]),
    ]
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()},"
        f" PostgreSQL {version}"
    )
    print(f"\n{dt.date.today()} on {machine}: {total:,} tasks; {csm} has {mine:,} open ones")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print("| command | median s | min s | max s | median CPU s | peak RSS MB | says |")
    print("|---|---|---|---|---|---|---|")
    for name, user, command in cases:
        times, cpu, peak, summary = time_command(url, user, command, args.runs)
        print(
            f"| {name} | {statistics.median(times):.3f} | {min(times):.3f} | {max(times):.3f}"
            f" | {statistics.median(cpu):.3f} | {peak} | {summary} |",
            flush=True,
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
