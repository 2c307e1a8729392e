"""Benchmark: `cs recalc` on a generated book, against a bare aggregate scan of
the events table (the floor for anything that reads every event) and against
a per-customer ORM implementation (benchmarks/naive_recalc.py).

    python benchmarks/recalc.py --customers 10000 --events 1000000
    python benchmarks/recalc.py --customers 100000 --events 10000000 --dialect postgres

Targets (issue: health scoring): Postgres, 100,000 customers and 10,000,000
events: recalc wall time, writes included, at most 2.0x the bare scan; at
least 50x faster per customer than the per-customer ORM way; peak memory
under 400 MB. SQLite: at most 3x its own bare indexed scan.
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
from harness import AS_OF, build_book
from measure import run_measured

from cs_cli.db.engine import make_engine, session_factory
from cs_cli.specs.scorecard import load_scorecard


def bare_scan(url: str) -> float:
    engine = make_engine(url)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET max_parallel_workers_per_gather = 0")
        started = time.perf_counter()
        conn.exec_driver_sql(
            "SELECT customer_id, count(*), sum(quantity), max(occurred_at)"
            " FROM usage_events GROUP BY customer_id"
        ).fetchall()
        elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def cs_recalc(url: str) -> tuple[float, int, str]:
    env = {**os.environ, "CS_DATABASE_URL": url, "CS_USER": "bench"}
    args = [sys.executable, "-m", "cs_cli", "recalc", "--as-of", AS_OF.isoformat()]
    seconds, peak, stderr = run_measured(args, env)
    return seconds, peak, stderr.strip().splitlines()[-1]


def naive(url: str, sample: int) -> float:
    from naive_recalc import run

    engine = make_engine(url)
    card = load_scorecard().card
    with session_factory(engine)() as session:
        started = time.perf_counter()
        run(session, card, AS_OF, sample)
        elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed / sample


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--dialect", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/cs_bench_recalc")
    parser.add_argument("--naive-sample", type=int, default=300)
    args = parser.parse_args()
    urls = []
    tmp = Path(tempfile.mkdtemp(prefix="cs-recalc-"))
    if args.dialect in ("sqlite", "both"):
        urls.append(("sqlite", f"sqlite:///{tmp / 'bench.db'}"))
    if args.dialect in ("postgres", "both"):
        urls.append(("postgres", args.pg_url))
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    rows = []
    for name, url in urls:
        print(f"{name}: building {args.customers:,} customers, {args.events:,} events ...", file=sys.stderr)
        build_book(url, args.customers, args.events)
        scan = min(bare_scan(url) for _ in range(3))
        seconds, peak, summary = cs_recalc(url)
        per_naive = naive(url, args.naive_sample)
        per_cs = seconds / args.customers
        rows.append((name, scan, seconds, peak, per_naive / per_cs))
        print(f"{name}: {summary}", file=sys.stderr)
    print(f"\n{dt.date.today()} on {machine}: {args.customers:,} customers, {args.events:,} events")
    print("| dialect | bare scan s | cs recalc s | ratio | peak RSS MB | speed-up per customer vs ORM |")
    print("|---|---|---|---|---|---|")
    for name, scan, seconds, peak, speedup in rows:
        print(f"| {name} | {scan:.2f} | {seconds:.2f} | {seconds / scan:.1f}x | {peak} | {speedup:,.0f}x |")


if __name__ == "__main__":
    main()
