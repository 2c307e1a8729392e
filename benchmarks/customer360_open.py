"""Benchmark: opening Customer 360 in `cs board` for a customer with 5,000
touchpoints, from pushing the screen to its first paint with the timeline
filled.

    python benchmarks/customer360_open.py
    python benchmarks/customer360_open.py --skip-build     # time again on the book already built

Builds a Postgres book of 10,000 customers with 200,000 usage events
(benchmarks/harness.py), scores it with the recalculation (the whole book on
the day, and the customer under test weekly for 12 weeks before, for its
trend), then gives one customer 5,000 touchpoints, 40 tasks and an alert. The
board runs headless (Textual's run_test, 120x40) as the harness's admin;
each run pushes Customer 360 for that customer and waits for the screen to
paint with its data. The first run is reported apart (cold: imports and
caches); then the median of the others. For comparison the same for a
customer with the harness's 6 touchpoints, and the service call alone.

Target (issue: the CSM terminal board): at most 0.5 s.
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

from cs_cli.db.engine import make_engine, transaction

TARGET = "C0000042"
SMALL = "C0000043"
TOUCHPOINTS = 5_000
KINDS = [
    "call",
    "meeting",
    "email_sent",
    "email_opened",
    "webinar",
    "qbr",
    "renewal_discussion",
    "escalation",
]
SENTIMENTS = ["positive", "neutral", "negative", None]


def score(url: str) -> float:
    """The whole book on AS_OF, and the target's history weekly before it."""
    from cs_cli.domain import Actor
    from cs_cli.services.health.recalc import recalc_day, target_ids
    from cs_cli.specs.scorecard import load_scorecard

    started = time.perf_counter()
    engine = make_engine(url)
    card = load_scorecard()
    admin = Actor.system()
    with transaction(engine) as session:
        for k in range(12, 0, -1):
            day = AS_OF - dt.timedelta(days=7 * k)
            ids = target_ids(session, admin, [TARGET, SMALL])
            recalc_day(session, admin, card, ids, as_of=day, now=_noon(day), named=True)
        recalc_day(session, admin, card, target_ids(session, admin), as_of=AS_OF, now=_noon(AS_OF))
    engine.dispose()
    return time.perf_counter() - started


def _noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), dt.UTC)


def add_history(url: str, seed: int = 3) -> float:
    """5,000 touchpoints (COPY), 40 tasks and an alert for the target customer."""
    rng = random.Random(seed)
    started = time.perf_counter()
    engine = make_engine(url)
    raw = engine.raw_connection()
    conn = raw.driver_connection
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id FROM customers WHERE external_id = %s", (TARGET,))
            customer_id = cur.fetchone()[0]
            buffer = io.StringIO()
            for i in range(TOUCHPOINTS):
                when = _noon(AS_OF) - dt.timedelta(hours=1 + i * 7, minutes=rng.randint(0, 59))
                sentiment = rng.choice(SENTIMENTS)
                buffer.write(
                    f"{customer_id}\t{rng.choice(KINDS)}\tTouchpoint {i} about the rollout\t"
                    f"{sentiment or chr(92) + 'N'}\t{rng.randint(5, 60)}\t2\t"
                    f"{when.isoformat()}\t{when.isoformat()}\n"
                )
            columns = (
                "customer_id, touchpoint_type, subject, sentiment_label, duration_minutes, user_id,"
                " occurred_at, created_at"
            )
            with cur.copy(f"COPY cs_touchpoints ({columns}) FROM STDIN") as copy:
                copy.write(buffer.getvalue())
            for i in range(40):
                status = "completed" if i < 20 else rng.choice(["pending", "in_progress", "blocked"])
                due = AS_OF + dt.timedelta(days=rng.randint(-10, 20))
                cur.execute(
                    "INSERT INTO cs_tasks (customer_id, title, task_type, assigned_to_user_id, priority,"
                    " status, due_date, created_at) VALUES (%s, %s, 'call', 2, 'medium', %s, %s, now())",
                    (customer_id, f"Task {i}", status, due),
                )
            cur.execute(
                "INSERT INTO cs_alerts (customer_id, alert_type, severity, status, title, reason, raised_at,"
                " created_at) VALUES (%s, 'health_drop', 'critical', 'open',"
                " 'Health dropped 18 points in 30 days', 'benchmark', now(), now())",
                (customer_id,),
            )
            cur.execute("ANALYZE cs_touchpoints")
        raw.commit()
    finally:
        raw.close()
    engine.dispose()
    return time.perf_counter() - started


def time_screen(url: str, ref: str, runs: int) -> tuple[list[float], list[float], list[float]]:
    """Seconds from pushing Customer 360 to its first paint with data, per
    run; to the paint of its footer (mounted right after the data); and the
    CPU seconds the process spent up to then (all threads: the part that
    does not depend on what else the machine is doing)."""
    from cs_cli.tui.app import BoardApp
    from cs_cli.tui.data import Database
    from cs_cli.tui.screens.customer import CustomerScreen

    engine = make_engine(url)
    db = Database(engine, "bench", as_of=AS_OF)
    db.connect()
    app = BoardApp(db)
    times: list[float] = []
    footer: list[float] = []
    cpu: list[float] = []

    async def go() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.2)
            for _ in range(runs):
                started, cpu_started = time.perf_counter(), time.process_time()
                app.open_customer(ref)
                screen = app.screen
                assert isinstance(screen, CustomerScreen)
                while screen.footer_at is None:
                    await asyncio.sleep(0.001)
                times.append(screen.painted_at - started)
                footer.append(screen.footer_at - started)
                cpu.append(time.process_time() - cpu_started)
                rows = screen.query_one("#timeline").row_count
                assert rows == CustomerScreen.PAGE or screen.touchpoint_total < CustomerScreen.PAGE, rows
                await pilot.press("escape")
                await pilot.pause(0.05)

    asyncio.run(go())
    engine.dispose()
    return times, footer, cpu


def time_service(url: str, ref: str, runs: int) -> tuple[list[float], int, int]:
    """Seconds of customer_360 alone per run, its statement count and the touchpoints it found."""
    import sqlalchemy as sa

    from cs_cli.services.access import resolve_actor
    from cs_cli.services.customer360 import customer_360

    engine = make_engine(url)
    statements: list[str] = []
    times: list[float] = []
    total = 0
    for i in range(runs):
        if i == runs - 1:
            sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        started = time.perf_counter()
        with transaction(engine) as session:
            view = customer_360(session, resolve_actor(session, "bench"), ref, as_of=AS_OF, touchpoints=50)
        times.append(time.perf_counter() - started)
        total = view.touchpoints.total
    engine.dispose()
    return times, len(statements), total


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/cs_bench_c360")
    parser.add_argument("--skip-build", action="store_true", help="time the book already built")
    args = parser.parse_args()
    if not args.skip_build:
        print(f"building {args.customers:,} customers, {args.events:,} events ...", file=sys.stderr)
        build_book(args.pg_url, args.customers, args.events)
        print(f"history of {TARGET}: {add_history(args.pg_url):.1f} s", file=sys.stderr)
        print(f"scoring: {score(args.pg_url):.1f} s", file=sys.stderr)

    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()},"
        f" load average {os.getloadavg()[0]:.2f}"
    )
    print(f"\n{dt.date.today()} on {machine}")
    print("| customer | touchpoints | what | first (cold) s | median s | min s | max s |")
    print("|---|---|---|---|---|---|---|")
    for ref in (TARGET, SMALL):
        service, statements, total = time_service(args.pg_url, ref, args.runs)
        screen, footer, cpu = time_screen(args.pg_url, ref, args.runs)
        for what, times in (
            (f"service ({statements} statements)", service),
            ("push to first paint with data", screen),
            ("push to footer painted too", footer),
            ("CPU seconds up to then", cpu),
        ):
            rest = times[1:] or times
            print(
                f"| {ref} | {total:,} | {what} | {times[0]:.3f} | {statistics.median(rest):.3f}"
                f" | {min(rest):.3f} | {max(rest):.3f} |"
            )


if __name__ == "__main__":
    main()
