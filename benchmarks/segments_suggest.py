"""Benchmark: `cs segments suggest` on a generated book.

    python benchmarks/segments_suggest.py --customers 100000 --events 10000000
    python benchmarks/segments_suggest.py --reuse        # the book is already built and scored

Target (issue 21): 100,000 customers, `cs segments suggest` in at most 30 s.
Each run is a whole `cs` process, start-up included: features read in a
handful of set-based statements, k-means for every k from 2 to 8 on the
whole book (auto) with the silhouette on a sample of 4,000, a decision tree
per cluster. The harness's touchpoints carry no sentiment; here they get a
spread of scores so that the sentiment feature is read and used too.
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


def enrich(url: str) -> None:
    """Contract starts (for tenure) and touchpoint sentiment, spread deterministically."""
    engine = make_engine(url)
    postgres = engine.dialect.name == "postgresql"
    start = (
        "DATE '2026-11-01' - mod(id, 1500)"
        if postgres
        else "date('2026-11-01', '-' || (id % 1500) || ' days')"
    )
    with engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE customers SET contract_start = {start}")
        mod = "%%" if postgres else "%"  # psycopg reads a lone % as a placeholder
        conn.exec_driver_sql(
            f"UPDATE cs_touchpoints SET sentiment_score = ((customer_id * 7919 + id) {mod} 201 - 100) / 100.0"
        )
        if postgres:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()


def _scored(url: str) -> bool:
    engine = make_engine(url)
    with engine.connect() as conn:
        scored = conn.scalar(sa.text("SELECT count(*) FROM cs_health_scores"))
    engine.dispose()
    return bool(scored)


def cs(url: str, *args: str) -> tuple[float, int, str]:
    env = {**os.environ, "CS_DATABASE_URL": url, "CS_USER": "bench", "COLUMNS": "80"}
    seconds, peak, stderr = run_measured([sys.executable, "-m", "cs_cli", *args], env)
    return seconds, peak, stderr.strip().splitlines()[-1] if stderr.strip() else ""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/cs_bench_suggest")
    parser.add_argument("--reuse", action="store_true", help="Use the book already in the database.")
    args = parser.parse_args()
    url = args.url
    if not args.reuse:
        print(f"building {args.customers:,} customers, {args.events:,} events ...", file=sys.stderr)
        build_book(url, args.customers, args.events)
    enrich(url)
    if not _scored(url):
        print("scoring ...", file=sys.stderr)
        print(cs(url, "recalc", "--as-of", AS_OF.isoformat())[2], file=sys.stderr)
    day = AS_OF.isoformat()
    runs = [
        ("suggest (k auto)", ["segments", "suggest", "--as-of", day]),
        (
            "suggest --k 4 --focus churn",
            ["segments", "suggest", "--k", "4", "--focus", "churn", "--as-of", day],
        ),
        (
            "suggest --accept 1 (k auto)",
            [
                "segments",
                "suggest",
                "--accept",
                "1",
                "--name",
                f"bench {dt.datetime.now():%H%M%S}",
                "--as-of",
                day,
            ],
        ),
    ]
    rows = []
    for label, argv in runs:
        seconds, peak, summary = cs(url, *argv)
        rows.append((label, seconds, peak, summary))
        print(f"{label}: {seconds:.1f} s, {summary}", file=sys.stderr)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"\n{dt.date.today()} on {machine}: {args.customers:,} customers, {args.events:,} events")
    print("| run | wall s | peak RSS MB |")
    print("|---|---|---|")
    for label, seconds, peak, _summary in rows:
        print(f"| {label} | {seconds:.2f} | {peak} |")


if __name__ == "__main__":
    main()
