"""Benchmark: `cs recalc` on a generated book, against a bare aggregate scan of
the events table (the floor for anything that reads every event) and against
the straightforward per-customer ORM implementation of the same scorecard
(benchmarks/naive_recalc.py; a test checks that it scores as cs recalc does).

    python benchmarks/recalc.py --customers 10000 --events 1000000
    python benchmarks/recalc.py --customers 100000 --events 10000000 --dialect postgres
    python benchmarks/recalc.py ... --runs 5 --reuse   # the book is already built

Before each cs recalc run, Postgres gets a VACUUM of the tables a recalc
rewrites, as autovacuum would between daily runs (see vacuum()).

The ORM way runs on a sample of customers (--naive-sample, the first by id)
after cs recalc, writes and commit included. Its once-per-run work (counting
the book's features, loading the customers) is timed apart from the
per-customer work, so the whole book's time is projected as
once + per customer x customers, and the speed-up is that over cs recalc's
whole process. With --runs N every timing is taken N times (best and median;
the speed-up of each run is its ORM timing over its own cs recalc timing).

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
import statistics
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


def vacuum(url: str) -> None:
    """Postgres: clear the dead rows of the tables a recalculation rewrites,
    as autovacuum would between two daily runs. Each run here scores the
    same day again, so it updates every row of the day; on a server with
    autovacuum off (as on some test machines) they would pile up and every
    later run would read through them."""
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            tables = "cs_health_scores, cs_health_score_history, cs_domain_events"
            conn.exec_driver_sql(f"VACUUM (ANALYZE) {tables}")
    engine.dispose()


def cs_recalc(url: str) -> tuple[float, int, str]:
    env = {**os.environ, "CS_DATABASE_URL": url, "CS_USER": "bench"}
    args = [sys.executable, "-m", "cs_cli", "recalc", "--as-of", AS_OF.isoformat()]
    seconds, peak, stderr = run_measured(args, env)
    return seconds, peak, stderr.strip().splitlines()[-1]


def naive(url: str, sample: int) -> tuple[float, float]:
    """The ORM way on `sample` customers: (seconds of its once-per-run work,
    seconds per customer)."""
    import sqlalchemy as sa
    from naive_recalc import count_features, score_customer

    from cs_cli.db.models import Customer

    engine = make_engine(url)
    scorecard = load_scorecard()
    now = dt.datetime.now(dt.UTC)
    with session_factory(engine)() as session:
        started = time.perf_counter()
        features = count_features(session, scorecard.card, AS_OF)
        customers = session.scalars(sa.select(Customer).order_by(Customer.id).limit(sample)).all()
        once = time.perf_counter() - started
        # Loading all the customers is part of the once-per-run work too: time
        # it for the whole book, then score the sample.
        started = time.perf_counter()
        session.scalars(sa.select(Customer)).all()
        once += time.perf_counter() - started
        started = time.perf_counter()
        for customer in customers:
            score_customer(
                session, scorecard, customer, as_of=AS_OF, now=now, features=features, actor_name="bench"
            )
        session.commit()
        per_customer = (time.perf_counter() - started) / len(customers)
    engine.dispose()
    return once, per_customer


def _best_median(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{min(values):.2f} / {statistics.median(values):.2f}"


def _has_book(url: str, customers: int) -> bool:
    import sqlalchemy as sa

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM customers")).scalar_one() == customers
    except sa.exc.DBAPIError:
        return False
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--dialect", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/cs_bench_recalc")
    parser.add_argument("--sqlite-path", type=Path, help="SQLite file (default: a new temporary one).")
    parser.add_argument("--naive-sample", type=int, default=300)
    parser.add_argument("--runs", type=int, default=1, help="Take every timing this many times.")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="Use the book already in the database when it has that many customers.",
    )
    args = parser.parse_args()
    urls = []
    if args.dialect in ("sqlite", "both"):
        path = args.sqlite_path or Path(tempfile.mkdtemp(prefix="cs-recalc-")) / "bench.db"
        urls.append(("sqlite", f"sqlite:///{path}"))
    if args.dialect in ("postgres", "both"):
        urls.append(("postgres", args.pg_url))
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    rows = []
    for name, url in urls:
        if not (args.reuse and _has_book(url, args.customers)):
            print(
                f"{name}: building {args.customers:,} customers, {args.events:,} events ...", file=sys.stderr
            )
            build_book(url, args.customers, args.events)
        scan = min(bare_scan(url) for _ in range(3))
        recalcs, peaks, projected, per_naive = [], [], [], []
        for run in range(args.runs):
            vacuum(url)
            seconds, peak, summary = cs_recalc(url)
            once, per_customer = naive(url, args.naive_sample)
            recalcs.append(seconds)
            peaks.append(peak)
            per_naive.append(per_customer)
            projected.append(once + per_customer * args.customers)
            print(
                f"{name} run {run + 1}: cs recalc {seconds:.2f} s ({summary}); ORM way: once {once:.2f} s,"
                f" {per_customer * 1000:.2f} ms per customer",
                file=sys.stderr,
            )
        rows.append((name, scan, recalcs, max(peaks), per_naive, projected))
    best_median = "best / median of" if args.runs > 1 else "one run of"
    print(f"\n{dt.date.today()} on {machine}: {args.customers:,} customers, {args.events:,} events")
    print(f"(bare scan: best of 3; the rest: {best_median} {args.runs})")
    print(
        "| dialect | bare scan s | cs recalc s | ratio | peak RSS MB | cs recalc ms/customer"
        " | ORM ms/customer | ORM whole book s (projected) | speed-up per customer vs ORM |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, scan, recalcs, peak, per_naive, projected in rows:
        per_cs = [s / args.customers * 1000 for s in recalcs]
        # Each run's ORM timing against the cs recalc timed just before it
        # (on a shared machine the load moves between runs): best and median.
        ratios = [p / r for p, r in zip(projected, recalcs, strict=True)]
        speedup = (
            f"{ratios[0]:,.0f}x"
            if args.runs == 1
            else f"{max(ratios):,.0f}x / {statistics.median(ratios):,.0f}x"
        )
        print(
            f"| {name} | {scan:.2f} | {_best_median(recalcs)} | {min(recalcs) / scan:.1f}x | {peak}"
            f" | {_best_median(per_cs)} | {_best_median([p * 1000 for p in per_naive])}"
            f" | {_best_median(projected)} | {speedup} |"
        )


if __name__ == "__main__":
    main()
