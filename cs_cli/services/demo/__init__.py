"""The demo book of business: teams, customers, contacts and a history of usage,
support, billing, surveys, touchpoints and tasks, shaped like a real book.

Everything is a function of the seed and `as_of`: the same pair writes the same
rows (ids aside). About 70% of accounts trend healthy, 20% are at risk and 10%
have churned or are heading there, and their activity tells that story.

Modules, each named for what it owns; imports point one way, down this list:
words (word lists and fixed tables), dates, book (the plan: people and accounts),
writing (the batched writer, --reset, rows for people and accounts), timeline (what
every part of a customer's history shares), usage, tickets, invoices, nps,
touchpoints, tasks (one part of that history each), activity (the parts, in order),
segments (definitions over the written book), alerts (risk alerts for the accounts
in trouble), and this module, whose `load_demo` runs them all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import Customer, User
from cs_cli.domain import Actor, Role
from cs_cli.errors import BadInput
from cs_cli.services.access import require_role
from cs_cli.services.audit import audit
from cs_cli.services.demo.activity import Activity
from cs_cli.services.demo.alerts import write_alerts
from cs_cli.services.demo.book import AT_RISK, CHURN_BOUND, CHURNED, Book
from cs_cli.services.demo.segments import write_segments
from cs_cli.services.demo.words import DEMO_DOMAIN, FEATURES
from cs_cli.services.demo.writing import Writer, wipe, write_accounts, write_people
from cs_cli.services.text import analyze as text_analysis
from cs_cli.services.text.sentiment import analyser_for

__all__ = ["DEMO_DOMAIN", "FEATURES", "MAX_CUSTOMERS", "MAX_MONTHS", "DemoSummary", "Progress", "load_demo"]

MAX_CUSTOMERS = 200_000
MAX_MONTHS = 60


# (phase, done, total): called as the load advances; the CLI draws it.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DemoSummary:
    """What `load_demo` wrote."""

    counts: dict[str, int]  # table name -> rows written
    customers: int
    churned: int
    at_risk: int  # active accounts at risk, including those heading to churn
    renewing_within_90: int
    largest_at_risk: str | None  # external id of the at-risk account with the most ARR
    sample_csm: str | None  # login of that account's CSM
    deleted_rows: int
    seed: int
    months: int
    as_of: dt.date


def load_demo(
    session: Session,
    actor: Actor,
    *,
    customers: int = 200,
    months: int = 12,
    seed: int = 42,
    as_of: dt.date,
    reset: bool = False,
    progress: Progress | None = None,
) -> DemoSummary:
    """Write a demo book of business (admins only). Refuses when customers exist,
    unless `reset`, which first deletes every row but the acting user's
    and the audit trail's."""
    if not 1 <= customers <= MAX_CUSTOMERS:
        raise BadInput(f"--customers must be between 1 and {MAX_CUSTOMERS:,}, not {customers}")
    if not 1 <= months <= MAX_MONTHS:
        raise BadInput(f"--months must be between 1 and {MAX_MONTHS}, not {months}")
    require_role(actor, Role.ADMIN, doing="loading the demo")

    deleted = 0
    if reset:
        deleted = wipe(session, actor)
    else:
        existing = session.scalar(sa.select(sa.func.count()).select_from(Customer)) or 0
        if existing:
            noun = "customer" if existing == 1 else "customers"
            raise BadInput(
                f"the database already has {existing:,} {noun}; "
                "pass --reset to delete all data and load the demo instead"
            )

    taken = session.execute(sa.select(User.login, User.email)).all()
    book = Book(
        seed=seed,
        n=customers,
        months=months,
        as_of=as_of,
        taken_logins={login for login, _ in taken if login},
        taken_emails={email.lower() for _, email in taken},
    )
    book.plan()
    writer = Writer(session)
    user_ids = write_people(session, writer, book)
    customer_ids, contact_ids = write_accounts(session, writer, book, user_ids)

    total = len(book.customers)
    step = max(1, total // 200)
    for i, plan in enumerate(book.customers):
        Activity(book, plan, writer, user_ids, customer_ids[plan.external_id], contact_ids).run()
        if progress is not None and (i + 1 == total or (i + 1) % step == 0):
            progress("activity", i + 1, total)
    writer.flush_all()
    # Read the text as an import would have: the demo's own sentiment
    # (where it gives one) stays, everything else is scored and topics found.
    analyser = analyser_for()
    for kind in text_analysis.KINDS:
        text_analysis.analyze(session, actor, kind, analyser=analyser, everything=True)
    alerts = write_alerts(session, book, user_ids, customer_ids)
    moment = dt.datetime.combine(as_of, dt.time(12), tzinfo=dt.UTC)
    segments = write_segments(session, actor, as_of=as_of, now=moment)

    audit(
        session,
        actor,
        "demo.loaded",
        "demo",
        None,
        at=moment,
        details={
            "customers": customers,
            "months": months,
            "seed": seed,
            "reset": reset,
            "rows_deleted": deleted,
        },
    )
    at_risk = [c for c in book.customers if c.fate in (AT_RISK, CHURN_BOUND)]
    spotlight = max(at_risk, key=lambda c: (c.arr, c.external_id), default=None)
    return DemoSummary(
        counts={**writer.counts, "cs_segments": segments, "cs_alerts": alerts},
        customers=total,
        churned=sum(1 for c in book.customers if c.fate == CHURNED),
        at_risk=len(at_risk),
        renewing_within_90=sum(
            1 for c in book.customers if c.fate != CHURNED and (c.renewal_date - as_of).days <= 90
        ),
        largest_at_risk=spotlight.external_id if spotlight else None,
        sample_csm=spotlight.csm_login if spotlight else None,
        deleted_rows=deleted,
        seed=seed,
        months=months,
        as_of=as_of,
    )
