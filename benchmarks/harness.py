"""A book of business at any scale, written straight into a database (COPY on
Postgres, executemany on SQLite; not the ORM), for timing the project's jobs.

    python benchmarks/harness.py --customers 100000 --events 10000000 --url postgresql+psycopg://postgres@127.0.0.1/cs_bench

Other benchmarks import `build_book(url, customers, events)`. The book is
deterministic for a seed. Per customer: 4 contacts (one champion, one executive
sponsor), usage events spread over the last 120 days across 12 features, 6
touchpoints, 2 tickets, 4 invoices and 1 NPS response.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import random
import sys
import time

import sqlalchemy as sa
from gen_events import FEATURES

from cs_cli.db import migrate
from cs_cli.db.engine import make_engine

AS_OF = dt.date(2026, 11, 1)


def fresh_database(url: str) -> sa.Engine:
    """An empty, migrated database at `url` (a Postgres database is recreated)."""
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        name = engine.url.database
        admin = make_engine(engine.url.set(database="postgres")).execution_options(
            isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
    else:
        import pathlib

        for suffix in ("", "-wal", "-shm"):
            pathlib.Path(f"{engine.url.database}{suffix}").unlink(missing_ok=True)
    engine.dispose()
    engine = make_engine(url)
    migrate.upgrade(engine)
    return engine


class _Sink:
    """Rows into one table: COPY text on Postgres, executemany on SQLite."""

    def __init__(
        self, conn, postgres: bool, table: str, columns: list[str], after: _Sink | None = None
    ) -> None:
        self.conn, self.postgres, self.table, self.columns = conn, postgres, table, columns
        self.after = after  # rows this table refers to are written first
        self.rows: list = []

    def add(self, *values) -> None:
        self.rows.append(values)
        if len(self.rows) >= 50_000:
            self.flush()

    def flush(self) -> None:
        if self.after is not None:
            self.after.flush()
        if not self.rows:
            return
        cols = ", ".join(self.columns)
        if self.postgres:
            buffer = io.StringIO()
            for row in self.rows:
                buffer.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
            with self.conn.cursor() as cur, cur.copy(f"COPY {self.table} ({cols}) FROM STDIN") as copy:
                copy.write(buffer.getvalue())
        else:
            marks = ", ".join("?" for _ in self.columns)
            self.conn.executemany(f"INSERT INTO {self.table} ({cols}) VALUES ({marks})", self.rows)
        self.rows = []


def _ts(day: dt.date, seconds: int, postgres: bool) -> str:
    moment = dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=seconds)
    return moment.isoformat(" ") + "+00" if postgres else moment.isoformat(" ", "microseconds")


def build_book(url: str, customers: int, events: int, seed: int = 1) -> dict[str, float]:
    """Write the book; returns seconds per part."""
    rng = random.Random(seed)
    engine = fresh_database(url)
    postgres = engine.dialect.name == "postgresql"
    raw = engine.raw_connection()
    conn = raw.driver_connection
    timings: dict[str, float] = {}
    now = "2026-11-01 00:00:00" + ("+00" if postgres else ".000000")
    try:
        started = time.perf_counter()
        users = _Sink(
            conn,
            postgres,
            "api_users",
            ["id", "email", "login", "name", "role", "is_active", "notify_preference", "created_at"],
        )
        users.add(1, "bench@example.com", "bench", "Bench", "admin", True if postgres else 1, "none", now)
        for u in range(2, 12):
            users.add(
                u, f"csm{u}@example.com", f"csm{u}", f"CSM {u}", "csm", True if postgres else 1, "none", now
            )
        users.flush()
        t, f = (True, False) if postgres else (1, 0)
        cust = _Sink(
            conn,
            postgres,
            "customers",
            [
                "id",
                "external_id",
                "name",
                "arr",
                "seats",
                "renewal_date",
                "status",
                "csm_id",
                "attributes",
                "created_at",
            ],
        )
        contacts = _Sink(
            conn,
            postgres,
            "contacts",
            [
                "id",
                "external_id",
                "customer_id",
                "name",
                "is_champion",
                "is_exec_sponsor",
                "left_at",
                "created_at",
            ],
            after=cust,
        )
        for c in range(1, customers + 1):
            renewal = AS_OF + dt.timedelta(days=rng.randint(-30, 365))
            status = "churned" if rng.random() < 0.05 else "active"
            cust.add(
                c,
                f"C{c:07d}",
                f"Customer {c}",
                f"{rng.lognormvariate(11, 1):.2f}",
                rng.randint(5, 400),
                renewal.isoformat(),
                status,
                2 + c % 10,
                "{}",
                now,
            )
            for k in range(4):
                left = None
                if k == 0 and rng.random() < 0.1:
                    left = _ts(AS_OF - dt.timedelta(days=rng.randint(1, 200)), 0, postgres)
                contacts.add(
                    c * 4 + k,
                    f"P{c:07d}-{k}",
                    c,
                    f"Person {c}-{k}",
                    t if k == 0 else f,
                    t if k == 1 else f,
                    left,
                    now,
                )
        cust.flush()
        contacts.flush()
        timings["customers+contacts"] = time.perf_counter() - started

        started = time.perf_counter()
        ev = _Sink(
            conn,
            postgres,
            "usage_events",
            ["customer_id", "contact_id", "event_name", "occurred_at", "quantity"],
        )
        rand = rng.random
        start_day = AS_OF - dt.timedelta(days=120)
        for _ in range(events):
            c = 1 + int(rand() * customers)
            ev.add(
                c,
                c * 4 + int(rand() * 4),
                FEATURES[int(rand() * 12)],
                _ts(start_day, int(rand() * 121 * 86400), postgres),
                1 + int(rand() * 5),
            )
        ev.flush()
        timings["events"] = time.perf_counter() - started

        started = time.perf_counter()
        tps = _Sink(
            conn, postgres, "cs_touchpoints", ["customer_id", "touchpoint_type", "occurred_at", "created_at"]
        )
        tickets = _Sink(
            conn,
            postgres,
            "support_tickets",
            [
                "external_id",
                "customer_id",
                "priority",
                "status",
                "opened_at",
                "closed_at",
                "escalated",
                "satisfaction",
                "created_at",
            ],
        )
        invoices = _Sink(
            conn,
            postgres,
            "invoices",
            [
                "external_id",
                "customer_id",
                "amount",
                "currency",
                "issued_on",
                "due_on",
                "paid_on",
                "created_at",
            ],
        )
        nps = _Sink(
            conn,
            postgres,
            "nps_responses",
            ["external_id", "customer_id", "score", "responded_at", "created_at"],
        )
        kinds = ["call", "meeting", "email_sent", "email_opened", "webinar", "qbr"]
        for c in range(1, customers + 1):
            for kind in kinds:
                tps.add(c, kind, _ts(AS_OF - dt.timedelta(days=rng.randint(0, 120)), 36000, postgres), now)
            for k in range(2):
                opened = AS_OF - dt.timedelta(days=rng.randint(1, 150))
                closed = _ts(opened + dt.timedelta(days=2), 0, postgres) if rng.random() < 0.9 else None
                tickets.add(
                    f"T{c}-{k}",
                    c,
                    "normal",
                    "closed" if closed else "open",
                    _ts(opened, 0, postgres),
                    closed,
                    t if rng.random() < 0.05 else f,
                    rng.randint(1, 5) if closed else None,
                    now,
                )
            for k in range(4):
                issued = AS_OF - dt.timedelta(days=30 + 90 * k)
                due = issued + dt.timedelta(days=30)
                paid = (due + dt.timedelta(days=rng.randint(-20, 20))).isoformat()
                invoices.add(f"I{c}-{k}", c, "2500.00", "USD", issued.isoformat(), due.isoformat(), paid, now)
            nps.add(
                f"N{c}",
                c,
                rng.randint(0, 10),
                _ts(AS_OF - dt.timedelta(days=rng.randint(1, 170)), 0, postgres),
                now,
            )
        for sink in (tps, tickets, invoices, nps):
            sink.flush()
        timings["other activity"] = time.perf_counter() - started
        raw.commit()
    finally:
        raw.close()
    with engine.begin() as c:
        if postgres:
            c.exec_driver_sql("ANALYZE")
        else:
            c.exec_driver_sql("ANALYZE")
    engine.dispose()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--url", required=True)
    args = parser.parse_args()
    timings = build_book(args.url, args.customers, args.events)
    for part, seconds in timings.items():
        print(f"{part}: {seconds:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
