"""Benchmark: health history on a realistic year (benchmarks/history_book.py:
heavy-tailed activity, events in arrival order, churn, new accounts).

    python benchmarks/history.py --customers 100000 --events 10000000 --url postgresql+psycopg://.../cs_hist
    python benchmarks/history.py ... --reuse          # the book is already built

Times, each as a whole `cs` process with its own peak memory:
- the best single statement for the same usage measures (a bare GROUP BY of
  the events, parallel workers as Postgres chooses them), the baseline;
- a one-day `cs recalc`;
- `cs recalc --from` a year ago `--to` the last day, every --every days
  (1 for daily history, 7 for weekly);
- `cs health backtest` weekly over that year: from the stored history the
  backfill wrote, and scored afresh (with a scorecard whose history is not
  stored: the shipped one with a renamed copy);
and prints a Markdown row for benchmarks/RESULTS.md.

Targets (issue: health you can trust): Postgres, 100,000 customers and
10,000,000 events over a year: 365-day recalc at most 10 minutes under 1 GB;
weekly backtest over the year at most 2 minutes; a one-day recalc at most 2x
the bare GROUP BY.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from history_book import AS_OF, build
from measure import run_measured

from cs_cli.db.engine import make_engine
from cs_cli.specs.scorecard import DEFAULT_PATH


def bare(url: str) -> float:
    """Seconds of one GROUP BY over the events for the same measures (days,
    names, users and the last event by customer), best of three."""
    engine = make_engine(url)
    best = float("inf")
    sql = (
        "SELECT customer_id, count(DISTINCT event_name), count(DISTINCT contact_id),"
        " count(DISTINCT date_trunc('day', occurred_at)), max(occurred_at)"
        " FROM usage_events WHERE occurred_at >= %s GROUP BY customer_id"
    )
    if engine.dialect.name != "postgresql":
        sql = sql.replace("date_trunc('day', occurred_at)", "substr(occurred_at, 1, 10)").replace("%s", "?")
    since = dt.datetime.combine(AS_OF - dt.timedelta(days=29), dt.time())
    for _ in range(3):
        with engine.connect() as conn:
            started = time.perf_counter()
            conn.exec_driver_sql(sql, (since,)).fetchall()
            best = min(best, time.perf_counter() - started)
    engine.dispose()
    return best


def vacuum(url: str) -> None:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(
                "VACUUM (ANALYZE) cs_health_scores, cs_health_score_history, cs_domain_events"
            )
    engine.dispose()


def cs(url: str, *args: str) -> tuple[float, int, str]:
    env = {**os.environ, "CS_DATABASE_URL": url, "CS_USER": "bench"}
    seconds, peak, stderr = run_measured([sys.executable, "-m", "cs_cli", *args], env)
    return seconds, peak, stderr.strip().splitlines()[-1] if stderr.strip() else ""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--url", required=True)
    parser.add_argument("--reuse", action="store_true", help="use the book already at --url")
    parser.add_argument("--every", type=int, default=1, help="days between backfilled days")
    parser.add_argument("--skip-backfill", action="store_true")
    args = parser.parse_args()
    if not args.reuse:
        for part, seconds in build(args.url, args.customers, args.events).items():
            print(f"built {part}: {seconds:.1f} s", file=sys.stderr)
    first = AS_OF - dt.timedelta(days=364)
    rows = {}
    rows["bare GROUP BY"] = (bare(args.url), 0, "")
    vacuum(args.url)
    rows["recalc, one day"] = cs(args.url, "recalc", "--as-of", AS_OF.isoformat())
    if not args.skip_backfill:
        vacuum(args.url)
        rows[f"recalc, a year every {args.every} days"] = cs(
            args.url,
            "recalc",
            "--from",
            first.isoformat(),
            "--to",
            AS_OF.isoformat(),
            "--every",
            f"{args.every}d",
        )
    # The backtest judges days whose 90 days have passed; 13 weeks back, its
    # weekly days are days the weekly backfill scored.
    last = (AS_OF - dt.timedelta(days=91)).isoformat()
    backtest = ["health", "backtest", "--as-of", AS_OF.isoformat(), "--to", last, "--format", "json"]
    rows["backtest, weekly, from history"] = cs(args.url, *backtest)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "fresh.yaml"
        copy.write_text(DEFAULT_PATH.read_text().replace("name: default", "name: fresh"))
        rows["backtest, weekly, scored afresh"] = cs(args.url, *backtest, "--scorecard", str(copy))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    print(f"{stamp}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print(f"{args.customers:,} customers, {args.events:,} events, {make_engine(args.url).dialect.name}")
    print("| what | seconds | peak RSS MB | last line |")
    print("|---|---|---|---|")
    for name, (seconds, peak, line) in rows.items():
        print(f"| {name} | {seconds:.1f} | {peak or '-'} | {line[:100]} |")


if __name__ == "__main__":
    main()
