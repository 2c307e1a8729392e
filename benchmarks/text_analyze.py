"""Benchmark: `cs touchpoints analyze` over a large book: sentiment and key
topics of N stored touchpoints, read and written back in batches, on one
core (the target: 5,000 touchpoints a second or more).

    python benchmarks/text_analyze.py --url sqlite:///cs_text_bench.db [--touchpoints 1000000]
    python benchmarks/text_analyze.py --url postgresql+psycopg://postgres@127.0.0.1/cs_text_bench

The database at --url is rebuilt: 1,000 customers and N touchpoints whose
subjects and notes are drawn from customer-success phrases (one in 50
empty, one in 50 in German), none read yet. Then the same service the
command calls reads them all; the time is the analysis alone (the write of
the book is not counted), and the share spent in Python reading the text
against the database's reads and writes is reported.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time

from harness import fresh_database
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.models import Customer, Touchpoint
from cs_cli.domain import Actor
from cs_cli.services.text import analyze as analyzing
from cs_cli.services.text.sentiment import analyser_for

SUBJECTS = [
    "Monthly check-in",
    "QBR",
    "Renewal call",
    "Escalation: SSO outage",
    "Onboarding session",
    "Pricing discussion",
    "Support follow-up",
    "Roadmap preview",
    "Training",
    "Executive business review",
    "Integration issue",
    "Expansion opportunity",
    "Usage review",
    "Billing question",
    "Check-in",
]
NOTES = [
    "They love the new dashboard and want to roll it out to more teams.",
    "Renewal at risk: budget cuts and a new CFO reviewing every tool.",
    "Customer is frustrated with the export bug; asked us to escalate.",
    "Walked through the admin settings and the API rate limits.",
    "Great adoption since the training; plan to add seats next quarter.",
    "Not happy with response times from support this month.",
    "Sync with Salesforce failing again, sales team blocked.",
    "Shared the roadmap deck; questions about SSO and SCIM.",
    "Champion left the company; no response from the new admin.",
    "Pilot was a success and procurement approved the expansion.",
    "They are evaluating alternatives because of pricing.",
    "Reviewed the usage report; adoption is steady across teams.",
]
GERMAN = "Der Kunde ist nicht zufrieden mit der neuen Version und will den Vertrag kündigen."


def build(url: str, touchpoints: int, seed: int = 7) -> None:
    engine = fresh_database(url)
    rng = random.Random(seed)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with Session(engine) as session, session.begin():
        dialect.append_rows(
            session,
            Customer.__table__,
            ["id", "external_id", "name", "status", "attributes", "created_at", "updated_at"],
            [
                (
                    i,
                    f"C-{i:05d}",
                    f"Customer {i}",
                    "active",
                    "{}",
                    start,
                    start,
                )
                for i in range(1, 1001)
            ],
        )
    columns = [
        "id",
        "external_id",
        "customer_id",
        "touchpoint_type",
        "subject",
        "description",
        "occurred_at",
        "created_at",
    ]
    batch: list[tuple] = []
    written = 0
    with Session(engine) as session, session.begin():
        for i in range(1, touchpoints + 1):
            draw = rng.random()
            if draw < 0.02:
                subject, notes = "", None
            elif draw < 0.04:
                subject, notes = "Anruf", GERMAN
            else:
                subject = rng.choice(SUBJECTS)
                notes = " ".join(rng.sample(NOTES, rng.randint(1, 3)))
            moment = start + dt.timedelta(minutes=i)
            batch.append((i, f"B-{i}", rng.randint(1, 1000), "call", subject or None, notes, moment, moment))
            if len(batch) == 50_000:
                written += dialect.append_rows(session, Touchpoint.__table__, columns, batch)
                batch = []
        written += dialect.append_rows(session, Touchpoint.__table__, columns, batch)
    engine.dispose()
    print(f"wrote {written:,} touchpoints", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--touchpoints", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=10_000)
    args = parser.parse_args()
    build(args.url, args.touchpoints)
    from cs_cli.db.engine import make_engine

    engine = make_engine(args.url)
    analyser = analyser_for()
    reading = 0.0
    original = analyzing.read_record

    def timed(*a, **k):
        nonlocal reading
        t = time.perf_counter()
        try:
            return original(*a, **k)
        finally:
            reading += time.perf_counter() - t

    analyzing.read_record = timed
    started, cpu = time.perf_counter(), time.process_time()
    with Session(engine) as session, session.begin():
        result = analyzing.analyze(
            session, Actor.system(), "touchpoints", analyser=analyser, batch_size=args.batch_size
        )
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    # Columns: dialect, rows, wall s, rows/s by the wall clock, CPU s of this
    # process, rows per CPU second, s reading text, s else (database, batching),
    # rows scored, rows left without a score.
    print(
        f"| {engine.dialect.name} | {result.read:,} | {elapsed:.1f} | {result.read / elapsed:,.0f} "
        f"| {cpu:.1f} | {result.read / cpu:,.0f} | {reading:.1f} | {elapsed - reading:.1f} "
        f"| {result.scored:,} | {result.unscored:,} |"
    )


if __name__ == "__main__":
    main()
