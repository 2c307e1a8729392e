"""Benchmark: `cs playbooks evaluate` over a generated book with the seven
standard playbooks loaded.

    python benchmarks/playbooks_evaluate.py --customers 100000 --events 1000000
    python benchmarks/playbooks_evaluate.py --reuse        # the book is already built

Target (issue: segments, playbooks and tasks): Postgres, 100,000 customers,
`cs playbooks evaluate` in at most 10 s, as a whole process (start-up
included). Timed twice: the first evaluation, which starts every run the
book calls for (health below 50 and below 30, renewals within 90 days, and
1,000 `champion.left` and 1,000 `customer.created` events recorded after
loading) with all their tasks; then the next day's, when only the customers
whose renewal came into the window start.

The health scores come from `cs recalc` on the book (the events only serve
it). The CSMs of the harness get managers and a head of CS above them, so
manager and executive tasks are assigned too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import sqlalchemy as sa
from harness import AS_OF, build_book
from measure import run_measured

from cs_cli.db.engine import make_engine


def cs(url: str, *args: str) -> tuple[float, int, str]:
    env = {**os.environ, "CS_DATABASE_URL": url, "CS_USER": "bench"}
    seconds, peak, stderr = run_measured([sys.executable, "-m", "cs_cli", *args], env)
    return seconds, peak, stderr.strip().splitlines()[-1]


def _scored(url: str) -> bool:
    engine = make_engine(url)
    with engine.connect() as conn:
        scored = conn.scalar(sa.text("SELECT count(*) FROM cs_health_scores"))
    engine.dispose()
    return bool(scored)


def prepare(url: str) -> None:
    """A management chain above the CSMs, and no playbook state left from an
    earlier run of this benchmark."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO api_users (id, email, login, name, role, is_active, notify_preference, created_at)"
            " VALUES (100, 'head@example.com', 'head', 'Head of CS', 'manager', true, 'none', now()),"
            " (101, 'east@example.com', 'east', 'East Manager', 'manager', true, 'none', now()),"
            " (102, 'west@example.com', 'west', 'West Manager', 'manager', true, 'none', now())"
            " ON CONFLICT DO NOTHING"
        )
        conn.exec_driver_sql("UPDATE api_users SET manager_id = 100 WHERE id IN (101, 102)")
        conn.exec_driver_sql(
            "UPDATE api_users SET manager_id = CASE WHEN mod(id, 2) = 0 THEN 101 ELSE 102 END"
            " WHERE id BETWEEN 2 AND 11"
        )
        # cs_touchpoints.task_id has no index, so the foreign key check of a
        # DELETE scans the touchpoints once per task; no touchpoint of the
        # generated book names a task, so skip the checks (superuser only).
        conn.exec_driver_sql("UPDATE cs_touchpoints SET task_id = NULL WHERE task_id IS NOT NULL")
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        conn.exec_driver_sql("DELETE FROM cs_tasks")
        conn.exec_driver_sql("SET LOCAL session_replication_role = origin")
        conn.exec_driver_sql("DELETE FROM cs_playbook_runs")
        conn.exec_driver_sql("DELETE FROM cs_playbooks")
        conn.exec_driver_sql(
            "DELETE FROM cs_domain_events WHERE left(event_type, 9) = 'playbook.'"
            " OR event_type IN ('champion.left', 'customer.created')"
        )
        conn.exec_driver_sql("DELETE FROM cs_audit_log WHERE entity_type IN ('playbook', 'playbook_run')")
    engine.dispose()


def record_events(url: str) -> None:
    """1,000 champions leave and 1,000 customers are new, after the playbooks
    were loaded (events from before never start a playbook)."""
    engine = make_engine(url)
    with engine.begin() as conn:
        for event_type, remainder in (("champion.left", 0), ("customer.created", 1)):
            conn.exec_driver_sql(
                "INSERT INTO cs_domain_events"
                " (event_type, customer_id, occurred_at, data, actor_name, created_at)"
                f" SELECT '{event_type}', id, TIMESTAMPTZ '2026-11-01 08:00+00', NULL, 'bench', now()"
                f" FROM customers WHERE mod(id, 50) = {remainder} AND status = 'active'"
                " ORDER BY id LIMIT 1000"
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()


def counts(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        runs = conn.scalar(sa.text("SELECT count(*) FROM cs_playbook_runs"))
        tasks = conn.scalar(sa.text("SELECT count(*) FROM cs_tasks"))
    engine.dispose()
    return runs, tasks


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/cs_bench_playbooks")
    parser.add_argument("--reuse", action="store_true", help="Use the book already in the database.")
    args = parser.parse_args()
    url = args.pg_url
    if not args.reuse:
        print(f"building {args.customers:,} customers, {args.events:,} events ...", file=sys.stderr)
        build_book(url, args.customers, args.events)
    if not _scored(url):
        print("scoring ...", file=sys.stderr)
        print(cs(url, "recalc", "--as-of", AS_OF.isoformat())[2], file=sys.stderr)
    prepare(url)
    rows = []
    seconds, peak, summary = cs(url, "playbooks", "load")
    rows.append(("load the seven playbooks", seconds, peak, summary))
    record_events(url)
    for label, day in (("first evaluation", AS_OF), ("the next day", AS_OF + dt.timedelta(days=1))):
        seconds, peak, summary = cs(url, "playbooks", "evaluate", "--as-of", day.isoformat())
        rows.append((label, seconds, peak, summary))
        print(f"{label}: {summary}", file=sys.stderr)
    runs, tasks = counts(url)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(
        f"\n{dt.date.today()} on {machine}: {args.customers:,} customers; "
        f"{runs:,} runs and {tasks:,} tasks in the end"
    )
    print("| run | wall s | peak RSS MB | summary |")
    print("|---|---|---|---|")
    for label, seconds, peak, summary in rows:
        print(f"| {label} | {seconds:.2f} | {peak} | {summary} |")


if __name__ == "__main__":
    main()
