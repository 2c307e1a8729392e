"""A customer's facts as they stood on a day: ARR, plan, seats, renewal date,
status, CSM and attributes as recorded in customer_history, so anything
computed "as of D" reads what was true at the end of D, not today's values.

The version in force on D is the latest whose effective_at falls before the
end of D. A customer whose first recorded facts came later (a contract that
started before the first import) takes its first version: the earliest
facts known. A customer with no history at all (rows written straight to
the table) is its current row.

A customer exists on D from its contract_start, else from its first recorded
facts; it has churned on D when the facts in force say so and churned_at,
when known, is not after D.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.base import UTCDateTime
from cs_cli.db.models import Customer, CustomerHistory
from cs_cli.enums import CustomerStatus

# The columns a version keeps (everything an import may change that a
# score, a rule or a model reads).
FACTS = (
    "arr",
    "plan",
    "seats",
    "industry",
    "region",
    "contract_start",
    "renewal_date",
    "status",
    "churned_at",
    "csm_id",
    "attributes",
)


def day_end(as_of: dt.date) -> dt.datetime:
    """The end of a day, UTC (exclusive): what is known "as of" the day."""
    return dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def facts_as_of(session: Session, as_of: dt.date) -> sa.Subquery:
    """One row per customer: `customer_id`, the FACTS in force at the end of
    `as_of`, and `is_customer` (a customer by then), `churned` (churned by then),
    `started_on` (the day it became a customer, when known) and
    `tenure_days` (days a customer, the as-of day included; NULL when the
    start is unknown). One pass over the history, whatever the book's size."""
    c = Customer.__table__
    end = sa.literal(day_end(as_of), UTCDateTime())
    v = _version(session, end)
    has_version = v.c.customer_id.is_not(None)

    def fact(name: str) -> sa.ColumnElement[Any]:
        return sa.case((has_version, v.c[name]), else_=c.c[name]).label(name)

    facts = {name: fact(name) for name in FACTS}
    # A renewal date recorded after the day is today's next renewal, not the
    # one then in force: a book imported once carries each customer's next
    # renewal, and read as of a year ago every renewing customer would seem
    # far from renewal and every churned one close to it. More than a year
    # ahead, it is taken back by whole years (of 365 days) to the first one
    # after the day. A date known by the end of the day stands (multi-year
    # contracts).
    renewal = sa.case((has_version, v.c.renewal_date), else_=c.c.renewal_date)
    ahead = dialect.days_until(session, renewal, as_of)
    known_then = sa.and_(has_version, v.c.recorded_at < end)
    facts["renewal_date"] = sa.case(
        (
            sa.and_(sa.not_(known_then), ahead > 365),
            sa.type_coerce(
                dialect.add_days(session, sa.literal(as_of, sa.Date), (ahead - 1) % 365 + 1), sa.Date
            ),
        ),
        else_=renewal,
    ).label("renewal_date")
    contract_start = sa.case((has_version, v.c.contract_start), else_=c.c.contract_start)
    first_day = sa.case((has_version, dialect.utc_day(session, v.c.first_at)))
    started_on = sa.func.coalesce(contract_start, first_day)
    day = sa.literal(as_of, sa.Date)
    exists = sa.case(
        (contract_start.is_not(None), contract_start <= day),
        (has_version, v.c.first_at < end),
        else_=sa.true(),
    )
    status = sa.case((has_version, v.c.status), else_=c.c.status)
    churned_at = sa.case((has_version, v.c.churned_at), else_=c.c.churned_at)
    churned = sa.and_(status == CustomerStatus.CHURNED.value, sa.or_(churned_at.is_(None), churned_at < end))
    tenure = dialect.days_until(session, started_on, as_of)
    return (
        sa.select(
            c.c.id.label("customer_id"),
            *facts.values(),
            exists.label("is_customer"),
            churned.label("churned"),
            started_on.label("started_on"),
            (sa.literal(1) - tenure).label("tenure_days"),
        )
        .select_from(c.outerjoin(v, v.c.customer_id == c.c.id))
        .subquery("facts")
    )


# The session.info key of the versions' validity ranges (see fact_versions).
_VERSIONS = "cs_fact_versions"


def _version(session: Session, end: sa.ColumnElement) -> sa.Subquery:
    """Each customer's version of its facts in force at `end`: the latest
    before it (of two at the same moment, the one recorded last); with none
    in force, the first version. Columns: customer_id, effective_at,
    recorded_at, the FACTS and first_at (its first version's moment)."""
    ranges = session.info.get(_VERSIONS)
    if ranges is not None:
        r = ranges.c
        in_force = sa.and_(r.effective_at < end, sa.or_(r.next_at.is_(None), r.next_at >= end))
        first_later = sa.and_(r.is_first, r.effective_at >= end)
        columns = [r.customer_id, r.effective_at, r.recorded_at, *(r[name] for name in FACTS), r.first_at]
        return sa.select(*columns).where(sa.or_(in_force, first_later)).subquery("version")
    h = CustomerHistory.__table__
    in_force = h.c.effective_at < end
    order = (
        sa.case((in_force, 0), else_=1),
        sa.case((in_force, h.c.effective_at)).desc(),
        h.c.effective_at,
        sa.case((in_force, h.c.id), else_=-h.c.id).desc(),
    )
    ranked = sa.select(
        h.c.customer_id,
        h.c.effective_at,
        h.c.recorded_at,
        *(h.c[name] for name in FACTS),
        sa.func.row_number().over(partition_by=h.c.customer_id, order_by=order).label("pick"),
        sa.func.min(h.c.effective_at).over(partition_by=h.c.customer_id).label("first_at"),
    ).subquery("ranked")
    return sa.select(ranked).where(ranked.c.pick == 1).subquery("version")


@contextmanager
def fact_versions(session: Session) -> Iterator[None]:
    """Inside the block, facts_as_of reads each version's validity range
    (from its moment to the next version's) from a scratch table made once,
    instead of ranking the whole history again for every day: work over
    many days (a backfill, a report's months) pays for the ranking once.
    The customers' history must not change inside the block."""
    if session.info.get(_VERSIONS) is not None:
        yield  # an enclosing block's table serves
        return
    h = CustomerHistory.__table__
    order = (h.c.effective_at, h.c.id)
    ranges = sa.select(
        h.c.customer_id,
        h.c.effective_at,
        h.c.recorded_at,
        *(h.c[name] for name in FACTS),
        # The next version by moment (of two at the same moment, the one
        # recorded later is next): this one is in force until then.
        sa.func.lead(h.c.effective_at).over(partition_by=h.c.customer_id, order_by=order).label("next_at"),
        (sa.func.row_number().over(partition_by=h.c.customer_id, order_by=order) == 1).label("is_first"),
        sa.func.min(h.c.effective_at).over(partition_by=h.c.customer_id).label("first_at"),
    )
    table = dialect.temp_table_from(session, "cs_fact_versions", ranges)
    dialect.analyze(session, table)
    session.info[_VERSIONS] = table
    try:
        yield
    finally:
        session.info.pop(_VERSIONS, None)
        table.drop(session.connection(), checkfirst=True)


P = ParamSpec("P")
R = TypeVar("R")


def over_many_days(fn: Callable[P, R]) -> Callable[P, R]:
    """Run `fn(session, ...)` inside fact_versions: for work that reads the
    facts of many days (reports, training, backtests)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        session = args[0]
        assert isinstance(session, Session)
        with fact_versions(session):
            return fn(*args, **kwargs)

    return wrapper


def customers_as_of(session: Session, as_of: dt.date) -> sa.Subquery:
    """The customers table as it stood on `as_of`: its columns, with the
    facts in force then, for a rule evaluated on a past day (the rule
    compiler reads it in place of the table)."""
    c = Customer.__table__
    f = facts_as_of(session, as_of)
    columns = [f.c[col.name] if col.name in FACTS else col for col in c.columns]
    return sa.select(*columns).select_from(c.join(f, f.c.customer_id == c.c.id)).subquery("customers_then")


def record_facts(
    session: Session,
    customers: sa.ColumnElement[bool],
    *,
    effective_at: dt.datetime | sa.ColumnElement[Any],
    recorded_at: dt.datetime,
) -> None:
    """Add a version for each customer matching `customers` (a condition on
    the customers table) whose facts differ from its latest version (or that
    has none): its current facts, in force from `effective_at` (a moment, or
    a column of the customers table). One statement, whatever the number."""
    h = CustomerHistory.__table__
    c = Customer.__table__
    latest = (
        sa.select(
            h,
            sa.func.row_number()
            .over(partition_by=h.c.customer_id, order_by=(h.c.effective_at.desc(), h.c.id.desc()))
            .label("pick"),
        )
        .where(h.c.customer_id.in_(sa.select(c.c.id).where(customers)))
        .subquery("latest")
    )
    differs = [
        _json_differs(session, c.c[name], latest.c[name])
        if name == "attributes"
        else c.c[name].is_distinct_from(latest.c[name])
        for name in FACTS
    ]
    if not isinstance(effective_at, sa.ColumnElement):
        effective_at = sa.literal(effective_at, UTCDateTime())
    values = {
        "customer_id": c.c.id,
        "effective_at": effective_at,
        "recorded_at": sa.literal(recorded_at, UTCDateTime()),
        **{name: c.c[name] for name in FACTS},
    }
    source = (
        sa.select(*values.values())
        .select_from(c.outerjoin(latest, sa.and_(latest.c.customer_id == c.c.id, latest.c.pick == 1)))
        .where(customers, sa.or_(latest.c.customer_id.is_(None), *differs))
        .order_by(c.c.id)
    )
    session.execute(sa.insert(h).from_select(list(values), source))


def _json_differs(session: Session, ours: Any, theirs: Any) -> sa.ColumnElement[bool]:
    if dialect.is_postgres(session):
        return ours.is_distinct_from(theirs)
    # SQLite keeps JSON as text: compare the minified forms, not the spelling.
    return sa.func.json(ours).is_distinct_from(sa.func.json(theirs))
