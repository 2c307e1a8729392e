"""Benchmark: the board's customer finder (`g`) over a big book.

    python benchmarks/finder.py --url postgresql+psycopg://postgres@127.0.0.1:5432/cs_hist

On a book already built (benchmarks/history_book.py: 100,000 customers).
For each text a user might type, times what the finder runs for it: the
service query `customer_matches` (name or external id holding the
characters in order, in scope, best 40 first), as an admin who sees every
customer and as a CSM, median of 7 after one to warm the cache. The
palette's own ranking of the 40 rows it gets back is microseconds.

Target (issue: the CSM's whole day in the board): the finder answers within
100 ms over 100,000 customers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import time

import sqlalchemy as sa

from cs_cli.db.engine import make_engine, transaction
from cs_cli.services.access import resolve_actor
from cs_cli.services.customers import customer_matches

TEXTS = ["a", "co", "acm", "C00000", "c0009999", "tech corp", "zzzq", "x y z"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True)
    parser.add_argument("--admin", default="bench")
    parser.add_argument("--csm", default="csm2")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    engine = make_engine(args.url)
    rows = []
    with transaction(engine) as session:
        customers = session.execute(sa.text("SELECT count(*) FROM customers")).scalar()
        for who in (args.admin, args.csm):
            actor = resolve_actor(session, who)
            for text in TEXTS:
                found = customer_matches(session, actor, text)
                times = []
                for _ in range(args.runs):
                    started = time.perf_counter()
                    customer_matches(session, actor, text)
                    times.append(time.perf_counter() - started)
                rows.append((who, text, len(found), statistics.median(times), max(times)))
    engine.dispose()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    machine = platform.processor() or platform.machine()
    print(f"{stamp}, {machine}, {os.cpu_count()} cores, {customers:,} customers")
    print("| who | typed | found (of 40 at most) | median ms | max ms |")
    print("|---|---|---|---|---|")
    for who, text, n, median, most in rows:
        print(f"| {who} | `{text}` | {n} | {1000 * median:.1f} | {1000 * most:.1f} |")


if __name__ == "__main__":
    main()
