"""Benchmark: the task board's cost when nothing changes (live updates on).

    python benchmarks/board_idle.py                       # SQLite demo book, 30 s each way
    python benchmarks/board_idle.py --url postgresql+psycopg://postgres@127.0.0.1/cs_bench
    python benchmarks/board_idle.py --seconds 60 --poll 3

Loads the demo book (`cs demo --customers 300`) into the database (a fresh
SQLite file unless --url is given: that database is reset), opens the
board headless (Textual's run_test, 160x50) as an admin (scope all), lets
it sit idle for --seconds with live updates off, then again with them on
(every --poll seconds), and reports for each: the process CPU time over the
idle window, its share of the wall clock, and the SQL statements run.

Target (issue 20): when nothing changes the poll is one tiny query every
few seconds, and the idle board's CPU share stays negligible.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from cs_cli.db.engine import make_engine
from cs_cli.tui.app import BoardApp
from cs_cli.tui.data import Database


def load_book(url: str) -> None:
    env = {**os.environ, "CS_DATABASE_URL": url, "CS_USER": "admin"}
    cs = [sys.executable, "-m", "cs_cli"]
    if url.startswith("postgresql"):
        subprocess.run([*cs, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run(
        [*cs, "demo", "--customers", "300", "--reset", "--yes"], env=env, check=True, capture_output=True
    )


def idle(url: str, seconds: float, poll: float) -> dict[str, float]:
    engine = make_engine(url)
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    db = Database(engine, "admin")
    db.connect()
    app = BoardApp(db, poll=poll)
    out: dict[str, float] = {}

    async def go() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause(1.0)
            await app.workers.wait_for_complete()
            await pilot.pause()
            cards = sum(len(c.cards) for c in app.screen.columns())
            before = len(statements)
            cpu, wall = time.process_time(), time.perf_counter()
            await asyncio.sleep(seconds)
            out["cpu"] = time.process_time() - cpu
            out["wall"] = time.perf_counter() - wall
            out["statements"] = len(statements) - before
            out["cards"] = cards

    asyncio.run(go())
    engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="database URL (reset!); default: a new SQLite file")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--poll", type=float, default=3.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{Path(tmp) / 'idle.db'}"
        load_book(url)
        rows = []
        for label, poll in (("live updates off", 0.0), (f"live updates every {args.poll:g} s", args.poll)):
            r = idle(url, args.seconds, poll)
            share = 100 * r["cpu"] / r["wall"]
            rows.append((label, r))
            print(
                f"{label}: {r['cards']:.0f} cards, {r['wall']:.1f} s idle, CPU {r['cpu']:.3f} s"
                f" ({share:.2f}%), {r['statements']:.0f} statements"
            )
    print(
        f"\n{sa.engine.make_url(url).get_backend_name()}, {platform.machine()}, {os.cpu_count()} CPUs,"
        f" Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
