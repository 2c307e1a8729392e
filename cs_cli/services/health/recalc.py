"""`recalc`: score the book for a day, in SQL.

A fixed number of statements, whatever the size of the book: the scores are
computed by one INSERT ... SELECT into a scratch table (the measure
aggregates, band scores, components, multipliers and status all in SQL, see
scoring_sql.py), from which one statement each writes the history rows, the
status-drop events and the current scores (writes.py). Nothing per customer crosses to
Python, so memory does not grow with the book.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.models import Customer, HealthScoreHistory, ScorecardVersion
from cs_cli.domain import Actor, HealthStatus
from cs_cli.errors import BadInput
from cs_cli.services.access import customer_scope
from cs_cli.services.audit import audit
from cs_cli.services.facts import customers_as_of, fact_versions, facts_as_of
from cs_cli.services.health.measures import feature_count, measure_query
from cs_cli.services.health.scoring_sql import scored_select
from cs_cli.services.health.usage import UsageRange, usage_range
from cs_cli.services.health.writes import Carried, write_scores
from cs_cli.specs.scorecard import LoadedScorecard, Scorecard, ScorecardPlan


@dataclass(frozen=True)
class DayResult:
    """What one as-of day's recalculation did."""

    as_of: dt.date
    scored: int
    by_status: dict[str, int]
    without_data: int
    dropped: int
    # Customers whose score fell below one of the scorecard's below_thresholds.
    fell_below: int = 0
    # Per customer (dry runs only): external id -> (score, status).
    preview: dict[str, tuple[int, str]] = field(default_factory=dict)
    # Customers not yet customers on the day (their contract starts later,
    # or cs first heard of them later): not scored.
    not_yet: int = 0


def target_ids(session: Session, actor: Actor, customers: Sequence[str] | None = None) -> list[int]:
    """The ids to score: those named (by external id), else every customer in scope."""
    stmt = sa.select(Customer.id, Customer.external_id).where(customer_scope(actor)).order_by(Customer.id)
    if customers:
        found = {
            ext: cid for cid, ext in session.execute(stmt.where(Customer.external_id.in_(list(customers))))
        }
        unknown = [c for c in customers if c not in found]
        if unknown:
            raise BadInput(
                f"no customer {unknown[0]!r}" + (" that you can see" if actor.role != "admin" else "")
            )
        return sorted(found.values())
    return list(session.scalars(sa.select(Customer.id).where(customer_scope(actor)).order_by(Customer.id)))


# The 30-day change compares with the latest score from 30 days before,
# looking back at most this many days more (weekly history has one there; an
# older score says nothing of the last 30 days, and reading it would mean
# reading all of history every day).
PREVIOUS_SLACK_DAYS = 6


def _previous(day: dt.date) -> sa.Subquery:
    """Each customer's latest history score on or before `day`, at most
    PREVIOUS_SLACK_DAYS before it. One pass over those days' rows, ranked:
    a self-join on the latest day would be planned from statistics taken
    before a backfill wrote those rows (none, in the same transaction), and
    a nested loop over what it thinks is one row takes minutes."""
    h = HealthScoreHistory
    within = sa.and_(h.as_of <= day, h.as_of >= day - dt.timedelta(days=PREVIOUS_SLACK_DAYS))
    ranked = (
        sa.select(
            h.customer_id,
            h.overall_score,
            sa.func.row_number().over(partition_by=h.customer_id, order_by=h.as_of.desc()).label("pick"),
        )
        .where(within)
        .subquery("ranked")
    )
    return (
        sa.select(ranked.c.customer_id, ranked.c.overall_score).where(ranked.c.pick == 1).subquery("previous")
    )


@dataclass(frozen=True)
class ScorecardGroup:
    """The customers one scorecard scores: a condition on customers, and how
    many of the targets it holds."""

    scorecard: LoadedScorecard
    only: sa.ColumnElement[bool] | None
    count: int
    rule: str | None = None


def scorecard_groups(
    session: Session,
    actor: Actor,
    plan: ScorecardPlan,
    ids: list[int],
    *,
    as_of: dt.date,
    named: bool = False,
) -> list[ScorecardGroup]:
    """Split the targets between the plan's scorecards: the first rule a
    customer matches (on `as_of`) picks its scorecard, else the default. One
    query whatever the size of the book."""
    if not plan.assigned:
        return [ScorecardGroup(plan.default, None, len(ids))]
    from cs_cli.rules.compile import compile_rules

    # The rules read the customers' facts of that day.
    then = customers_as_of(session, as_of)
    source, conditions = compile_rules(
        [a.node for a in plan.assigned], dialect=dialect.name(session), as_of=as_of, customers=then
    )
    customers = Customer.__table__
    choice = sa.case(*((c, i) for i, c in enumerate(conditions)), else_=-1)
    targets = customer_scope(actor)
    if named:
        targets = sa.and_(targets, Customer.id.in_(ids))
    source = customers.join(source, then.c.id == customers.c.id)
    # The picks are fixed before anything is scored: scoring one group
    # writes health scores, which a later group's rule may read.
    picks = _picks()
    connection = session.connection()
    picks.drop(connection, checkfirst=True)
    picks.create(connection)
    session.execute(
        sa.insert(picks).from_select(
            ["customer_id", "pick"], sa.select(customers.c.id, choice).select_from(source).where(targets)
        )
    )
    counts: Counter[int] = Counter(
        dict(session.execute(sa.select(picks.c.pick, sa.func.count()).group_by(picks.c.pick)).all())
    )
    groups = []
    for i, scorecard, name in [
        *((i, a.scorecard, a.name) for i, a in enumerate(plan.assigned)),
        (-1, plan.default, None),
    ]:
        if counts[i]:
            members = sa.select(picks.c.customer_id).where(picks.c.pick == i)
            groups.append(ScorecardGroup(scorecard, Customer.id.in_(members), counts[i], name))
    return groups


def recalc_days(
    session: Session,
    actor: Actor,
    plan: ScorecardPlan,
    ids: list[int],
    *,
    days: Sequence[dt.date],
    now: dt.datetime,
    named: bool = False,
    dry_run: bool = False,
    progress: Callable[..., None] | None = None,
) -> list[DayResult]:
    """Score `ids` as of each of `days`, each customer by the scorecard the
    plan assigns it that day (see recalc_day); one result per day and scorecard."""
    results: list[DayResult] = []
    if not days:
        return results
    cards = [plan.default.card, *(a.scorecard.card for a in plan.assigned)]
    # The usage events of all the days are read once (see usage.py); over
    # several days the current scores are carried in a scratch table and
    # written once at the end (see Carried).
    # (Not when a scorecard is assigned by a rule on health fields: each
    # day's assignment must read the day before's scores from the table.)
    from cs_cli.rules.parse import reads_health

    carried = None
    if len(days) > 1 and not dry_run and not any(reads_health(a.node) for a in plan.assigned):
        carried = Carried(session, now)
    # Over several days the facts' versions are ranked once (see fact_versions).
    versions = fact_versions(session) if len(days) > 1 else nullcontext()
    with usage_range(session, cards, days) as usage, versions:
        for day in days:
            for group in scorecard_groups(session, actor, plan, ids, as_of=day, named=named):
                results.append(
                    recalc_day(
                        session,
                        actor,
                        group.scorecard,
                        ids,
                        as_of=day,
                        now=now,
                        named=named,
                        only=group.only,
                        count=group.count,
                        dry_run=dry_run,
                        progress=progress,
                        usage=usage,
                        carried=carried,
                    )
                )
        if carried is not None:
            carried.write(session)
    if not dry_run:
        counts = status_counts(results)
        audit(
            session,
            actor,
            "health.recalculated",
            "health",
            None,
            at=now,
            details={
                "from": days[0].isoformat(),
                "to": days[-1].isoformat(),
                "days": len(days),
                "customers": len(ids) if named else None,
                "scored": sum(r.scored for r in results),
                "by_status": counts,
            },
        )
    return results


def _picks() -> sa.Table:
    """Which scorecard each customer of this recalculation gets."""
    return sa.Table(
        "cs_scorecard_picks",
        sa.MetaData(),
        sa.Column("customer_id", sa.Integer, primary_key=True),
        sa.Column("pick", sa.Integer),
        prefixes=["TEMPORARY"],
    )


def remember_scorecard(session: Session, scorecard: LoadedScorecard, now: dt.datetime) -> None:
    """Keep the scorecard's text under its version (once)."""
    table = ScorecardVersion.__table__
    stmt = dialect.insert_ignoring(session, table).values(
        version=scorecard.version, name=scorecard.card.name, content=scorecard.text, created_at=now
    )
    session.execute(stmt)


def recalc_day(
    session: Session,
    actor: Actor,
    scorecard: LoadedScorecard,
    ids: list[int],
    *,
    as_of: dt.date,
    now: dt.datetime,
    named: bool = False,
    only: sa.ColumnElement[bool] | None = None,
    count: int | None = None,
    dry_run: bool = False,
    progress: Callable[..., None] | None = None,
    usage: UsageRange | None = None,
    carried: Carried | None = None,
) -> DayResult:
    """Score `ids` as of the end of `as_of`: write one history row per customer
    for that day (replacing a previous one), move the current score forward
    when this day is not older than it, and record status drops as events.
    With `only` (a scorecard's share of the book), just those `count` of them;
    `usage`: the usage of a run of days (see usage.py), else read for this day."""
    card = scorecard.card
    dialect.for_whole_table_reads(session)
    if not dry_run:
        # One recalculation writes at a time: a day with no history yet is
        # written without conflict checks (see writes._history).
        dialect.one_at_a_time(session, "health.recalc")
    by_status: Counter[str] = Counter()
    without = dropped = fell_below = scored = not_yet = 0
    preview: dict[str, tuple[int, str]] = {}
    if ids:
        # One pass for the whole book: each source table is read once, and
        # the scores stay on the server until they are written.
        condition = customer_scope(actor)
        if named:
            condition = sa.and_(condition, Customer.id.in_(ids))
        if only is not None:
            condition = sa.and_(condition, only)
        with day_scores(session, card, condition, as_of=as_of, usage=usage) as (select, not_yet):
            if dry_run:
                names = dict(
                    session.execute(sa.select(Customer.id, Customer.external_id).where(condition)).all()
                )
                rows = session.execute(select).all()
                preview = {names[row.customer_id]: (row.overall_score, row.health_status) for row in rows}
                counts = Counter(row.health_status for row in rows)
            else:
                targets = len(ids) if count is None else count

                shares = [0.0]  # the share of the day reported so far

                def stage(share: float, next_: str) -> None:
                    # Whole units, and they add up to `targets` by the end.
                    if progress:
                        before = round(shares[0] * targets)
                        shares[0] += share
                        progress(round(shares[0] * targets) - before, f"{as_of}: {next_}")

                counts, dropped, fell_below = write_scores(
                    session, actor, scorecard, select, as_of=as_of, now=now, carried=carried, stage=stage
                )
                stage(0.1, "done")
        by_status.update(counts)
        scored = sum(counts.values())
        targets = len(ids) if count is None else count
        without = targets - scored - not_yet
        if progress and dry_run:
            progress(targets)
    if not dry_run and scored:
        remember_scorecard(session, scorecard, now)
    return DayResult(
        as_of=as_of,
        scored=scored,
        by_status=dict(by_status),
        without_data=without,
        dropped=dropped,
        fell_below=fell_below,
        preview=preview,
        not_yet=not_yet,
    )


@contextmanager
def day_scores(
    session: Session,
    card: Scorecard,
    condition: sa.ColumnElement[bool],
    *,
    as_of: dt.date,
    flat: bool = False,
    usage: UsageRange | None = None,
) -> Iterator[tuple[sa.Select, int]]:
    """The SELECT of the scores of the customers matching `condition` (on the
    customers table) as of `as_of`, one row per customer with data (see
    scoring_sql.scored_select), and how many of them were not yet customers.
    Valid inside the block: the day's facts live in a scratch table, and the
    usage in `usage` (read for this day alone when not given)."""
    with ExitStack() as stack:
        dialect.for_whole_table_reads(session)
        if usage is None:
            usage = stack.enter_context(usage_range(session, [card], [as_of]))
        usage.advance(session, as_of)
        facts = _facts(session, as_of)
        stack.callback(lambda: facts.drop(session.connection()))
        features = feature_count(session, card, as_of, facts, usage)
        not_yet = (
            session.scalar(
                sa.select(sa.func.count())
                .select_from(Customer.__table__.join(facts, facts.c.customer_id == Customer.id))
                .where(condition, sa.not_(facts.c.is_customer))
            )
            or 0
        )
        mq = measure_query(session, card, condition, as_of=as_of, features=features, facts=facts, usage=usage)
        previous = _previous(as_of - dt.timedelta(days=30))
        yield scored_select(session, card, mq, previous, flat=flat), not_yet


def score_day(
    session: Session,
    actor: Actor,
    card: Scorecard,
    *,
    as_of: dt.date,
    customers: Sequence[int] | None = None,
    flat: bool = False,
    usage: UsageRange | None = None,
) -> list[sa.Row]:
    """The scores of the customers the actor may see (or of `customers`, by
    id) as of `as_of`, computed and returned, nothing written (`flat`: raw
    measures in columns raw_NAME, see scoring_sql.scored_select)."""
    condition = customer_scope(actor)
    if customers is not None:
        condition = sa.and_(condition, Customer.id.in_(list(customers)))
    dialect.for_whole_table_reads(session)
    with day_scores(session, card, condition, as_of=as_of, flat=flat, usage=usage) as (select, _):
        # Core rows (see history.stored_day).
        return session.connection().execute(select).all()


def _facts(session: Session, as_of: dt.date) -> sa.Table:
    """The customers' facts on `as_of`, computed once into a scratch table
    (several statements of the day read them)."""
    table = dialect.temp_table_from(session, "cs_facts", sa.select(facts_as_of(session, as_of)))
    dialect.analyze(session, table)
    return table


def status_counts(results: Sequence[DayResult]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for r in results:
        total.update(r.by_status)
    return {s.value: total.get(s.value, 0) for s in HealthStatus}
