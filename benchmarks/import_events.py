"""Benchmark: `cs import events` of a large CSV into SQLite and Postgres, and
`cs --help` start-up time.

    python benchmarks/import_events.py                      # 2,000,000 events, both dialects
    python benchmarks/import_events.py --events 4000000     # memory must not grow with size
    python benchmarks/import_events.py --dialect sqlite

Postgres comes from --pg-url (default: the local server, trust auth); the
script creates and drops its own database. It runs the installed `cs` in a
subprocess, so figures include start-up, validation and commit, and reports
the child's peak RSS. Targets (issue: foundation): >= 250,000 rows/s into
either database, peak memory < 200 MB, `cs --help` < 0.3 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from gen_events import write_book
from measure import run_measured

HERE = Path(__file__).parent
CS = [sys.executable, "-m", "cs_cli"]


def pg_admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(sql)


def bench_dialect(name: str, url: str, files: dict[str, Path], events: int) -> dict:
    env = {**os.environ, "CS_DATABASE_URL": url, "CS_USER": "bench"}
    run_measured([*CS, "db", "upgrade"], env)
    run_measured([*CS, "import", "users", str(files["users"])], env)
    run_measured([*CS, "import", "customers", str(files["customers"])], env)
    run_measured([*CS, "import", "contacts", str(files["contacts"])], env)
    seconds, peak_mb, stderr = run_measured([*CS, "import", "events", str(files["events"])], env)
    print(f"{name}: {stderr.strip()} (peak RSS {peak_mb} MB)", file=sys.stderr)
    return {
        "dialect": name,
        "events": events,
        "seconds": seconds,
        "rows_per_s": events / seconds,
        "peak_mb": peak_mb,
        "summary": stderr.strip().splitlines()[-1],
    }


def help_time() -> float:
    times = []
    for _ in range(7):
        started = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "cs"), "--help"], capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--dialect", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    data = HERE / "data" / f"book_{args.customers}_{args.events}"
    if not (data / "events.csv").exists():
        print(
            f"generating {args.events:,} events for {args.customers:,} customers in {data} ...",
            file=sys.stderr,
        )
        write_book(data, args.customers, args.events)
    files = {name: data / f"{name}.csv" for name in ("customers", "contacts", "events")}
    files["users"] = data / "users.csv"
    files["users"].write_text("email,login,role\nbench@example.com,bench,admin\n")
    size_mb = files["events"].stat().st_size / 1e6

    results = []
    if args.dialect in ("sqlite", "both"):
        tmp = Path(tempfile.mkdtemp(prefix="cs-bench-"))
        try:
            results.append(bench_dialect("sqlite", f"sqlite:///{tmp / 'bench.db'}", files, args.events))
        finally:
            shutil.rmtree(tmp)
    if args.dialect in ("postgres", "both"):
        db = f"cs_bench_import_{os.getpid()}"
        pg_admin(args.pg_url, f'CREATE DATABASE "{db}"')
        try:
            url = args.pg_url.rsplit("/", 1)[0] + f"/{db}"
            results.append(bench_dialect("postgres", url, files, args.events))
        finally:
            pg_admin(args.pg_url, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')

    help_s = help_time()
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"\n{dt.date.today()} on {machine}; events file {size_mb:.0f} MB")
    print("| dialect | events | seconds | rows/s | peak RSS MB |")
    print("|---|---|---|---|---|")
    for r in results:
        rate = f"{r['rows_per_s']:,.0f}"
        cells = [r["dialect"], f"{r['events']:,}", f"{r['seconds']:.1f}", rate, r["peak_mb"]]
        print("| " + " | ".join(str(c) for c in cells) + " |")
    print(f"\n`cs --help`: {help_s * 1000:.0f} ms (median of 7)")


if __name__ == "__main__":
    main()
