"""Benchmark: how fast `cs churn` trains and predicts on a big book.

    python benchmarks/churn_speed.py --url postgresql+psycopg://.../cs_hist100k [--reuse]

The book is benchmarks/history_book.py's (100,000 customers and 10,000,000
events over a year by default; --reuse takes the one already at --url, e.g.
after benchmarks/history.py). Times, each a whole `cs` process with its own
peak memory: `cs churn train` (monthly snapshots over the year, 90-day
horizon) and `cs churn predict` (every active customer, as of the book's
last day). Prints a Markdown table for benchmarks/RESULTS.md.

Targets (issue: churn prediction): Postgres, 100,000 customers x 12 monthly
snapshots: training at most 120 s, predicting 100,000 customers at most
15 s, peak memory under 2 GB.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from history_book import AS_OF, build
from measure import run_measured


def cs(url: str, *args: str) -> tuple[float, int, str]:
    env = {**os.environ, "CS_DATABASE_URL": url, "CS_USER": "bench"}
    return run_measured([sys.executable, "-m", "cs_cli", *args], env)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--reuse", action="store_true", help="use the book already at --url")
    args = parser.parse_args()
    if not args.reuse:
        for part, seconds in build(args.url, args.customers, args.events).items():
            print(f"built {part}: {seconds:.1f} s", file=sys.stderr)
    as_of = AS_OF.isoformat()
    rows = {}
    seconds, peak, err = cs(args.url, "churn", "train", "--as-of", as_of, "--format", "json", "--activate")
    rows["churn train"] = (seconds, peak)
    print(err, file=sys.stderr)
    seconds, peak, err = cs(args.url, "churn", "predict", "--as-of", as_of, "--format", "json")
    rows["churn predict"] = (seconds, peak)
    print(err, file=sys.stderr)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print("| what | seconds | peak RSS MB |")
    print("|---|---|---|")
    for name, (seconds, peak) in rows.items():
        print(f"| {name} | {seconds:.1f} | {peak} |")


if __name__ == "__main__":
    main()
