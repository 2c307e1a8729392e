"""Benchmark: `cs automation run` over 100,000 new domain events.

    python benchmarks/automation_run.py --customers 100000
    python benchmarks/automation_run.py --reuse        # the book is already built

Target (issue: automation and cron): Postgres, `cs automation run` over
100,000 new events in at most 30 s, as a whole process (start-up included).

The book: the harness's 100,000 customers (usage events only serve its
shape; no health scores are needed). The CSMs get the immediate notify
preference, so alerts and escalations are emailed. The standard playbooks are
loaded, and a first `cs automation run` does the renewal scan (a Renewal Prep
run for each renewal within 90 days) and brings every rule's cursor to the
head of the log. Then 100,000 events are recorded, a mix in which every rule
has work and a good part is of types no rule reads:

  20,000 health.status_dropped   half with a score below 50: alert + Risk Response
  20,000 ticket.escalated        a task and an email to the CSM each
  10,000 contact.champion_left   Champion Change
  50,000 task.completed, segment.entered, invoice.paid_late  (no rule)

each on a different active customer per type. Timed: the run that acts on
them, then a second run (nothing left to do: the replay).
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

MIX = (
    (
        "health.status_dropped",
        20_000,
        "jsonb_build_object('from', 'at_risk', 'to', 'critical', 'score', 30 + mod(id, 40))",
    ),
    ("ticket.escalated", 20_000, "jsonb_build_object('ticket', 'T-' || id, 'priority', 'high')"),
    ("contact.champion_left", 10_000, "jsonb_build_object('contact', 'K-' || id)"),
    ("task.completed", 20_000, "jsonb_build_object('task_id', id)"),
    ("segment.entered", 20_000, "jsonb_build_object('segment_id', 1)"),
    ("invoice.paid_late", 10_000, "jsonb_build_object('days_late', 30)"),
)


def cs(url: str, *args: str) -> tuple[float, int, str]:
    env = {**os.environ, "CS_DATABASE_URL": url, "CS_USER": "bench"}
    seconds, peak, stderr = run_measured([sys.executable, "-m", "cs_cli", *args], env)
    return seconds, peak, stderr.strip().splitlines()[-1]


def prepare(url: str) -> None:
    """Start again from no automation state: no alerts, runs, tasks,
    messages, cursors or events of an earlier run of this benchmark."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE api_users SET notify_preference = 'immediate' WHERE role = 'csm'")
        conn.exec_driver_sql("UPDATE cs_touchpoints SET task_id = NULL WHERE task_id IS NOT NULL")
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        conn.exec_driver_sql("DELETE FROM cs_tasks")
        conn.exec_driver_sql("SET LOCAL session_replication_role = origin")
        for table in ("cs_playbook_runs", "cs_alerts", "cs_outbox", "cs_event_cursors", "cs_domain_events"):
            conn.exec_driver_sql(f"DELETE FROM {table}")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()


def record_events(url: str) -> int:
    engine = make_engine(url)
    total = 0
    with engine.begin() as conn:
        for offset, (event_type, count, data) in enumerate(MIX):
            total += conn.execute(
                sa.text(
                    "INSERT INTO cs_domain_events"
                    " (event_type, customer_id, occurred_at, data, actor_name, created_at)"
                    f" SELECT '{event_type}', id, TIMESTAMPTZ '{AS_OF} 08:00+00', {data}, 'bench', now()"
                    f" FROM (SELECT id FROM customers WHERE status = 'active'"
                    f" ORDER BY mod(id * 7919 + {offset * 104729}, 1000003) LIMIT {count}) picked"
                )
            ).rowcount
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE cs_domain_events")
    engine.dispose()
    return total


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        found = {
            name: conn.scalar(sa.text(f"SELECT count(*) FROM {table}"))
            for name, table in (
                ("alerts", "cs_alerts"),
                ("runs", "cs_playbook_runs"),
                ("tasks", "cs_tasks"),
                ("messages", "cs_outbox"),
                ("events", "cs_domain_events"),
            )
        }
    engine.dispose()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000, help="usage events of the book")
    parser.add_argument(
        "--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/cs_bench_automation"
    )
    parser.add_argument("--reuse", action="store_true", help="Use the book already in the database.")
    args = parser.parse_args()
    url = args.pg_url
    if not args.reuse:
        print(f"building {args.customers:,} customers, {args.events:,} usage events ...", file=sys.stderr)
        build_book(url, args.customers, args.events)
    prepare(url)
    day = AS_OF.isoformat()
    rows = []
    for label, command in (
        ("load the playbooks", ("playbooks", "load")),
        ("first run: renewal scan, cursors to the head", ("automation", "run", "--as-of", day)),
    ):
        seconds, peak, summary = cs(url, *command)
        rows.append((label, seconds, peak, summary))
        print(f"{label}: {summary}", file=sys.stderr)
    before = counts(url)
    recorded = record_events(url)
    for label in (f"{recorded:,} new events", "again (replay: nothing to do)"):
        seconds, peak, summary = cs(url, "automation", "run", "--as-of", day)
        rows.append((label, seconds, peak, summary))
        print(f"{label}: {seconds:.2f} s, {summary}", file=sys.stderr)
    after = counts(url)
    made = ", ".join(f"{after[k] - before[k]:,} {k}" for k in ("alerts", "runs", "tasks", "messages"))
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"\n{dt.date.today()} on {machine}: {args.customers:,} customers; the new events made {made}")
    print("| run | wall s | peak RSS MB | summary |")
    print("|---|---|---|---|")
    for label, seconds, peak, summary in rows:
        print(f"| {label} | {seconds:.2f} | {peak} | {summary} |")


if __name__ == "__main__":
    main()
