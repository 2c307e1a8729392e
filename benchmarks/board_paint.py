"""Benchmark: first paint of `cs board` with 10,000 open tasks for one CSM.

    python benchmarks/board_paint.py
    python benchmarks/board_paint.py --skip-build     # time again on the book already built

Builds a Postgres book (benchmarks/harness.py: 20,000 customers, a few usage
events), a health score for every customer, 10,000 open tasks (pending, in
progress, blocked) and 1,000 tasks completed this week for one CSM, and
100,000 tasks of the other CSMs. Then drives the board headless (Textual's
run_test, 160x50) and times, from the start of the app to the first paint
with the cards of the first column on screen:

- the CSM's board (scope mine), first in the process (cold) and again (warm);
- an admin's board over the whole book (scope all);
- paging: the cursor held down to the end of the pending column (every card
  loaded, a page of 100 at a time), then one key press with them all loaded.

Target (issue: the CSM terminal board): first paint at most 1 s with 10,000
tasks in the table.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from harness import AS_OF, build_book

from cs_cli.db.engine import make_engine

CSM = 2  # the harness's csm2 owns every tenth customer
STATUSES = ["pending"] * 7 + ["in_progress"] * 2 + ["blocked"]
KINDS = ["call", "email", "meeting", "internal", "review", "escalation", "follow_up", "custom"]
PRIORITIES = ["low", "medium", "medium", "high", "critical"]
NULL = "\\N"


def add_scores_and_tasks(url: str, customers: int, mine: int, done: int, others: int, seed: int = 3) -> float:
    """Health scores for every customer; the CSM's open and done tasks; the others' tasks."""
    rng = random.Random(seed)
    started = time.perf_counter()
    engine = make_engine(url)
    raw = engine.raw_connection()
    conn = raw.driver_connection
    try:
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO cs_health_scores (customer_id, overall_score, health_status, calculated_at,"
                " created_at, as_of) SELECT id, (id * 37) %% 101,"
                " CASE WHEN (id * 37) %% 101 >= 75 THEN 'healthy' WHEN (id * 37) %% 101 >= 50 THEN 'at_risk'"
                " ELSE 'critical' END, now(), now(), %s FROM customers",
                (AS_OF,),
            )
            owned = [c for c in range(1, customers + 1) if 2 + c % 10 == CSM]
            columns = (
                "customer_id, title, task_type, assigned_to_user_id, priority, status, due_date,"
                " blocked_reason, started_at, completed_at, outcome, created_at"
            )
            buffer = io.StringIO()
            for n in range(mine + done + others):
                if n < mine + done:
                    c, who = rng.choice(owned), CSM
                    status = rng.choice(STATUSES) if n < mine else "completed"
                else:
                    # The other CSMs' customers: the CSM's open work stays at `mine`.
                    c = 1 + rng.randrange(customers)
                    while 2 + c % 10 == CSM:
                        c = 1 + rng.randrange(customers)
                    who, status = 2 + c % 10, rng.choice([*STATUSES, "completed", "completed", "cancelled"])
                due = AS_OF + dt.timedelta(days=rng.randint(-60, 60))
                closed = status in ("completed", "cancelled")
                done_at = AS_OF - dt.timedelta(days=rng.randint(0, 6))
                row = (
                    c,
                    f"Task {n} for customer {c}",
                    rng.choice(KINDS),
                    who,
                    rng.choice(PRIORITIES),
                    status,
                    due,
                    "waiting on the customer" if status == "blocked" else None,
                    f"{AS_OF - dt.timedelta(days=10)} 10:00:00+00" if status != "pending" else None,
                    f"{done_at} 16:00:00+00" if closed else None,
                    "successful" if status == "completed" else None,
                    f"{AS_OF - dt.timedelta(days=20)} 09:00:00+00",
                )
                buffer.write("\t".join(NULL if v is None else str(v) for v in row) + "\n")
            with cur.copy(f"COPY cs_tasks ({columns}) FROM STDIN") as copy:
                copy.write(buffer.getvalue())
        raw.commit()
    finally:
        raw.close()
    # Committed: statistics gathered in a transaction that rolls back are lost.
    with engine.begin() as c:
        for table in ("customers", "cs_tasks", "cs_health_scores", "api_users"):
            c.exec_driver_sql(f"ANALYZE {table}")
    engine.dispose()
    return time.perf_counter() - started


async def first_paint(engine, user: str, *, page_through: bool = False) -> dict[str, float]:
    """Seconds from the app's start to the first paint with the pending
    column's cards; optionally the paging figures."""
    from cs_cli.domain import TaskStatus
    from cs_cli.tui.app import BoardApp
    from cs_cli.tui.data import Database
    from cs_cli.tui.widgets.tasks.column import TaskColumn

    db = Database(engine, user, as_of=AS_OF)
    started = time.perf_counter()
    db.connect()
    connected = time.perf_counter() - started
    app = BoardApp(db)
    out: dict[str, float] = {"connect": connected}
    started = time.perf_counter()
    async with app.run_test(size=(160, 50)) as pilot:
        out["app ready"] = time.perf_counter() - started
        while (
            not app.screen.query(TaskColumn)
            or not app.screen.query_one(f"#col-{TaskStatus.PENDING.value}", TaskColumn).cards
        ):
            await asyncio.sleep(0.001)
        await pilot.pause()  # the refresh that paints them
        out["first paint"] = time.perf_counter() - started
        pending = app.screen.query_one(f"#col-{TaskStatus.PENDING.value}", TaskColumn)
        first = pending.cards[0]
        screen = "".join(seg.text for strip in app.screen._compositor.render_strips() for seg in list(strip))
        assert first.customer in screen and first.title[:15] in screen, "the first card is not on screen"
        out["cards shown"] = len(pending.cards)
        out["column total"] = pending.total
        if page_through:
            started = time.perf_counter()
            pages = 0
            while pending.has_more:
                await pilot.press("end")
                while pending.loading:
                    await asyncio.sleep(0.001)
                await pilot.pause()
                pages += 1
            out["load every page"] = time.perf_counter() - started
            out["pages"] = pages
            out["cards loaded"] = len(pending.cards)
            started = time.perf_counter()
            await pilot.press("up")
            out["key press with all loaded"] = time.perf_counter() - started
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--mine", type=int, default=10_000, help="open tasks of the CSM")
    parser.add_argument("--others", type=int, default=100_000, help="tasks of the other CSMs")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/cs_bench_board")
    parser.add_argument("--skip-build", action="store_true", help="time the book already built")
    args = parser.parse_args()
    url = args.pg_url
    if not args.skip_build:
        print(f"building {args.customers:,} customers ...", file=sys.stderr)
        build_book(url, args.customers, args.events)
        seconds = add_scores_and_tasks(url, args.customers, args.mine, 1_000, args.others)
        print(f"scores and {args.mine + 1_000 + args.others:,} tasks in {seconds:.1f} s", file=sys.stderr)
    engine = make_engine(url)
    with engine.connect() as c:
        total = c.exec_driver_sql("SELECT count(*) FROM cs_tasks").scalar()
        csm = c.exec_driver_sql(f"SELECT login FROM api_users WHERE id = {CSM}").scalar()
        open_mine = c.exec_driver_sql(
            f"SELECT count(*) FROM cs_tasks WHERE assigned_to_user_id = {CSM}"
            " AND status IN ('pending', 'in_progress', 'blocked')"
        ).scalar()
        version = c.exec_driver_sql("SHOW server_version").scalar()
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()},"
        f" PostgreSQL {version}"
    )
    print(f"\n{dt.date.today()} on {machine}: {total:,} tasks; {csm} has {open_mine:,} open ones")
    print(f"load average before: {os.getloadavg()[0]:.2f}")

    cold = asyncio.run(first_paint(engine, csm))
    warm = [asyncio.run(first_paint(engine, csm)) for _ in range(args.runs)]
    admin = [asyncio.run(first_paint(engine, "bench")) for _ in range(args.runs)]
    paging = asyncio.run(first_paint(engine, csm, page_through=True))
    engine.dispose()

    def median(runs: list[dict], key: str) -> float:
        return statistics.median(r[key] for r in runs)

    print("| board | first paint s (median) | min s | max s | app ready s | cards shown / column total |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {csm}, mine, first in the process | {cold['first paint']:.3f} | | | {cold['app ready']:.3f}"
        f" | {cold['cards shown']:.0f} / {cold['column total']:,.0f} |"
    )
    for name, runs in ((f"{csm}, mine", warm), ("bench (admin), all", admin)):
        paints = [r["first paint"] for r in runs]
        print(
            f"| {name} | {statistics.median(paints):.3f} | {min(paints):.3f} | {max(paints):.3f}"
            f" | {median(runs, 'app ready'):.3f}"
            f" | {runs[0]['cards shown']:.0f} / {runs[0]['column total']:,.0f} |"
        )
    print(
        f"\npaging the pending column to its end: {paging['cards loaded']:,.0f} cards"
        f" in {paging['pages']:.0f} pages, {paging['load every page']:.2f} s"
        f" ({paging['load every page'] / max(1, paging['pages']) * 1000:.0f} ms a page);"
        f" a key press with them all loaded: {paging['key press with all loaded'] * 1000:.0f} ms"
    )
    print(f"database connect (before the app starts): {median(warm, 'connect') * 1000:.0f} ms")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
