"""Do suggested segments recover the demo book's planted groups?

    python benchmarks/segments_suggest_quality.py [--customers 200] [--seed 42]

Loads the demo (`cs demo`: its accounts are planted healthy, at risk or
heading to churn, and some healthy ones expand) into a fresh SQLite file,
runs `suggest` as `cs segments suggest` does (the demo loaded and
scored by `cs demo`), and prints the adjusted Rand
index between the planted groups of the active accounts and (a) the
clusters, (b) the segments accepted from them once refreshed (a customer in
several takes the first, one in none is a group of its own). The planted
groups are read back from the demo's own plan (same seed), never from the
database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa
from sklearn.metrics import adjusted_rand_score
from sqlalchemy.orm import Session

from cs_cli.db.engine import make_engine
from cs_cli.db.models import Customer, CustomerSegment, Segment, User
from cs_cli.domain import Actor, Role
from cs_cli.services.demo.book import CHURNED, HEALTHY, Book
from cs_cli.services.segments.refresh import refresh
from cs_cli.services.segments.suggest import accept, suggest_with_members

AS_OF = dt.date(2026, 12, 6)


def planted(customers: int, seed: int, months: int) -> dict[str, str]:
    """External id -> planted group of each active account (churned ones left out)."""
    book = Book(seed=seed, n=customers, months=months, as_of=AS_OF, taken_logins=set(), taken_emails=set())
    book.plan()
    groups = {}
    for c in book.customers:
        if c.fate == CHURNED:
            continue
        groups[c.external_id] = "expanding" if c.fate == HEALTHY and c.expansion_day is not None else c.fate
    return groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--months", type=int, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'demo.db'}"
        # As a user loads it: `cs demo` writes the book and scores its health.
        subprocess.run(
            [
                sys.executable,
                "-m",
                "cs_cli",
                "demo",
                "--as-of",
                AS_OF.isoformat(),
                "--customers",
                str(args.customers),
                "--months",
                str(args.months),
                "--seed",
                str(args.seed),
            ],
            env={**os.environ, "CS_DATABASE_URL": url, "CS_USER": "bench"},
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        engine = make_engine(url)
        with Session(engine) as session:
            user_id = session.scalar(sa.select(User.id).where(User.login == "bench"))
            actor = Actor(name="bench", role=Role.ADMIN, user_id=user_id)
            truth = planted(args.customers, args.seed, args.months)
            three = {e: ("healthy" if g == "expanding" else g) for e, g in truth.items()}
            two = {e: ("healthy" if g in ("healthy", "expanding") else "troubled") for e, g in truth.items()}
            print(f"demo: {args.customers} customers, seed {args.seed}; {len(truth)} active")
            for k, focus in ((None, None), (None, "churn"), (3, None), (4, None), (3, "churn")):
                found, members = suggest_with_members(session, actor, k=k, focus=focus, as_of=AS_OF)
                ids = sorted(members)
                got = [members[e] for e in ids]
                scores = [adjusted_rand_score([g[e] for e in ids], got) for g in (two, three, truth)]
                confidence = sum(s.confidence for s in found.suggestions) / len(found.suggestions)
                rule_scores = _accepted(session, actor, found, k, focus, (two, three, truth))
                print(
                    f"--k {k or 'auto'} --focus {focus or '-'}: k={found.k}; ARI clusters "
                    + " / ".join(f"{s:.2f}" for s in scores)
                    + "; ARI refreshed segments "
                    + " / ".join(f"{s:.2f}" for s in rule_scores)
                    + f" (2 / 3 / 4 groups); mean confidence {confidence:.2f}"
                )
                session.rollback()


def _accepted(session, actor, found, k, focus, truths) -> list[float]:
    now = dt.datetime.combine(AS_OF, dt.time(12), tzinfo=dt.UTC)
    names = []
    for s in found.suggestions:
        name = f"suggested {s.number}"
        accept(session, actor, s.number, name=name, k=k, focus=focus, as_of=AS_OF, now=now)
        names.append(name)
    refresh(session, actor, names, as_of=AS_OF, now=now)
    first: dict[str, int] = {}
    for ext, seg in session.execute(
        sa.select(Customer.external_id, Segment.name)
        .join(CustomerSegment, CustomerSegment.customer_id == Customer.id)
        .join(Segment, Segment.id == CustomerSegment.segment_id)
        .where(CustomerSegment.exited_at.is_(None), Segment.name.in_(names))
        .order_by(Segment.name)
    ):
        first.setdefault(ext, names.index(seg) + 1)
    ids = sorted(truths[0])
    got = [first.get(e, 0) for e in ids]
    return [adjusted_rand_score([t[e] for e in ids], got) for t in truths]


if __name__ == "__main__":
    main()
