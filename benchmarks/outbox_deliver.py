"""Benchmark: `cs outbox deliver` sending 5,000 pending emails to a local SMTP server.

    python benchmarks/outbox_deliver.py
    python benchmarks/outbox_deliver.py --messages 20000 --deliverers 2

Creates a fresh Postgres database, 500 customers (time zones of their own)
with 10 contacts each, and puts N emails in the outbox (plain text and HTML
parts, one per contact, so the email cap never holds one back), due now.
A real SMTP server (aiosmtpd, in this process) receives them while `cs outbox
deliver` runs as its own process (start-up, settings, claim, quiet hours and
cap checks, SMTP, commit: everything a cron run does). Then it checks that
every message arrived exactly once and that every row is sent.

Target (journeys issue): at least 200 messages/s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from harness import fresh_database

from cs_cli.db.engine import transaction
from cs_cli.db.models import Contact, Customer, OutboxMessage
from cs_cli.domain import OutboxChannel, OutboxStatus
from cs_cli.services.outbox.enqueue import NewMessage, enqueue_many

# 15:00 UTC: outside the default quiet hours (20:00-08:00) in every zone used below.
AT = dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.UTC)
ZONES = ["Europe/Paris", "Europe/London", "America/New_York", "UTC", None]


class Inbox:
    def __init__(self) -> None:
        self.ids: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        for line in envelope.content.split(b"\r\n", 40):
            if line.lower().startswith(b"message-id:"):
                with self.lock:
                    self.ids[line.split(b":", 1)[1].strip().decode()] += 1
                break
        return "250 Message accepted for delivery"


def fill(url: str, messages: int) -> float:
    """Customers, contacts and `messages` pending emails; returns seconds."""
    started = time.perf_counter()
    engine = fresh_database(url)
    with transaction(engine) as session:
        customers = [
            Customer(external_id=f"C-{n:05d}", name=f"Customer {n}", timezone=ZONES[n % len(ZONES)])
            for n in range(500)
        ]
        session.add_all(customers)
        session.flush()
        contacts = [
            Contact(customer_id=customers[n % 500].id, name=f"Contact {n}", email=f"contact{n}@example.com")
            for n in range(messages)
        ]
        session.add_all(contacts)
        session.flush()
        text = "Hello,\n\n" + "Here is what your team did with the product this week. " * 30 + "\n"
        html = "<html><body><p>Hello,</p>" + "<p>Here is what your <b>team</b> did this week.</p>" * 60
        enqueue_many(
            session,
            [
                NewMessage(
                    OutboxChannel.EMAIL,
                    f"bench.{c.id}.weekly",
                    c.email,
                    f"Your week with the product, {c.name}",
                    {"text": text, "html": html + "</body></html>", "headers": {"X-Journey": "adoption"}},
                    customer_id=c.customer_id,
                    contact_id=c.id,
                )
                for c in contacts
            ],
            now=AT - dt.timedelta(minutes=5),
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=5_000)
    parser.add_argument("--deliverers", type=int, default=1, help="cs outbox deliver processes at once")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/cs_bench_outbox")
    args = parser.parse_args()

    from aiosmtpd.controller import Controller

    print(f"filling the outbox with {args.messages:,} emails ...", file=sys.stderr)
    filled = fill(args.pg_url, args.messages)
    print(f"filled in {filled:.1f} s", file=sys.stderr)

    inbox = Inbox()
    port = 20000 + os.getpid() % 20000
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    env = {
        **os.environ,
        "CS_DATABASE_URL": args.pg_url,
        "CS_USER": "bench",
        "CS_SMTP_HOST": "127.0.0.1",
        "CS_SMTP_PORT": str(port),
        "CS_SMTP_FROM": "Customer Success <cs@example.com>",
    }
    command = [sys.executable, "-m", "cs_cli", "outbox", "deliver", "--as-of", AT.isoformat()]
    try:
        started = time.perf_counter()
        processes = [
            subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for _ in range(args.deliverers)
        ]
        summaries = [p.communicate()[1].strip().splitlines() for p in processes]
        wall = time.perf_counter() - started
    finally:
        controller.stop()
    for process, lines in zip(processes, summaries, strict=True):
        if process.returncode != 0:
            raise SystemExit("\n".join(lines))

    from cs_cli.db.engine import make_engine

    engine = make_engine(args.pg_url)
    with transaction(engine) as session:
        import sqlalchemy as sa

        statuses = dict(
            session.execute(
                sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
            ).all()
        )
    engine.dispose()
    duplicates = sum(n - 1 for n in inbox.ids.values() if n > 1)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"\n{dt.date.today()} on {machine}: {args.messages:,} emails, {args.deliverers} deliverer(s)")
    print(f"summaries: {' / '.join(lines[0] for lines in summaries)}")
    print(
        f"wall {wall:.2f} s (start-up included): {args.messages / wall:,.0f} messages/s; "
        f"received {len(inbox.ids):,} distinct, {duplicates} duplicates; rows: "
        + ", ".join(f"{s.value if isinstance(s, OutboxStatus) else s} {n:,}" for s, n in statuses.items())
    )
    if len(inbox.ids) != args.messages or duplicates or statuses.get(OutboxStatus.SENT) != args.messages:
        raise SystemExit("not every message was delivered exactly once")


if __name__ == "__main__":
    main()
