"""Benchmark: analytics and reports on a large book (by default the one
benchmarks/history_book.py writes, with its weekly health history from
benchmarks/history.py), each a whole `cs` process with its peak memory.

    python benchmarks/analytics.py --url postgresql+psycopg://.../cs_hist

Targets (issue: analytics, success metrics, reports): Postgres, 100,000
customers and a year of history: `cs analytics dashboard` at most 2 s, `cs
report book` at most 10 s, a QBR pack at most 1 s, memory under 500 MB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from measure import run_measured


def cs(url: str, *args: str) -> tuple[float, int]:
    env = {**os.environ, "CS_DATABASE_URL": url, "CS_USER": "bench"}
    seconds, peak, _stderr = run_measured([sys.executable, "-m", "cs_cli", *args], env)
    return seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True)
    parser.add_argument("--as-of", default="2026-11-01", help="the last day (the history book's)")
    parser.add_argument("--customer", default="C0000001", help="the QBR's customer")
    args = parser.parse_args()
    start = (dt.date.fromisoformat(args.as_of) - dt.timedelta(days=364)).isoformat()
    with tempfile.TemporaryDirectory() as tmp:
        runs = {
            "cs analytics dashboard": ("analytics", "dashboard", "--as-of", args.as_of, "-f", "json"),
            "cs analytics retention (12 months)": (
                "analytics",
                "retention",
                "--from",
                start,
                "--to",
                args.as_of,
                "-f",
                "json",
            ),
            "cs analytics success-metrics": (
                "analytics",
                "success-metrics",
                "--as-of",
                args.as_of,
                "-f",
                "json",
            ),
            "cs report book --html (12 months)": (
                "report",
                "book",
                "--from",
                start,
                "--to",
                args.as_of,
                "--html",
                f"{tmp}/book.html",
            ),
            "cs report qbr --html": (
                "report",
                "qbr",
                args.customer,
                "--as-of",
                args.as_of,
                "--html",
                f"{tmp}/q.html",
            ),
        }
        rows = {name: cs(args.url, *argv) for name, argv in runs.items()}
    print(f"{dt.date.today()}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print("| what | seconds | peak RSS MB |")
    print("|---|---|---|")
    for name, (seconds, peak) in rows.items():
        print(f"| {name} | {seconds:.1f} | {peak} |")


if __name__ == "__main__":
    main()
