"""Benchmark: how fast `cs` starts: `cs --help` and simple listings, as whole
processes, on the embedded SQLite default with the demo book.

    python benchmarks/startup.py            # times, and the slowest imports of a listing
    python benchmarks/startup.py --runs 15

Targets (issue: scripting and day-to-day CLI): `cs --help` under 0.3 s and a
simple listing under 0.5 s, whole process, on a quiet machine. Each command
runs once to warm the disk cache, then `--runs` times; the median counts.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from measure import run_measured

DATA = Path(__file__).parent / "data" / "startup"
CS = str(Path(sys.executable).parent / "cs")
CSM = "lena.silva@demo.example"
COMMANDS = [
    ["--version"],
    ["--help"],
    ["customers", "--help"],
    ["customers", "list"],
    ["health", "list"],
    ["--user", CSM, "tasks", "my"],
    ["customers", "list", "--format", "json"],
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "CS_DATABASE_URL": f"sqlite:///{DATA / 'cs.db'}",
        "XDG_CONFIG_HOME": str(DATA / "config"),
        "COLUMNS": "120",
    }
    env.pop("CS_USER", None)
    if not (DATA / "cs.db").exists():
        subprocess.run([CS, "demo", "--customers", "200"], env=env, check=True, capture_output=True)
    load = os.getloadavg()[0]
    machine = platform.processor() or platform.machine()
    print(f"{machine}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"load average before: {load:.2f}\n")
    print("| command | median s | min s | max s | peak RSS MB |")
    print("|---|---|---|---|---|")
    for command in COMMANDS:
        run_measured([CS, *command], env)
        times, peaks = [], []
        for _ in range(args.runs):
            seconds, peak, _ = run_measured([CS, *command], env)
            times.append(seconds)
            peaks.append(peak)
        print(
            f"| `cs {' '.join(command)}` | {statistics.median(times):.3f} | {min(times):.3f} "
            f"| {max(times):.3f} | {max(peaks)} |"
        )
    # Where a listing's start-up goes: the imports that take longest, whole.
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "cs_cli", "customers", "list"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        own, whole, name = line.split(":", 1)[1].split("|")
        if own.strip().isdigit() and not name[1:].startswith(" "):  # top level: not nested
            rows.append((int(whole), name.strip()))
    print("\nslowest top-level imports of `cs customers list` (cumulative ms):")
    for whole, name in sorted(rows, reverse=True)[:12]:
        print(f"  {whole / 1000:7.1f}  {name}")


if __name__ == "__main__":
    main()
