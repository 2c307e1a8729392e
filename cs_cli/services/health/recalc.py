"""`recalc`: score the book for a day, in SQL.

A fixed number of statements, whatever the size of the book: the scores are
computed by one INSERT ... SELECT into a scratch table (the measure
aggregates, band scores, components, multipliers and status all in SQL, see
scoring_sql.py), from which one statement each writes the history rows, the
status-drop events and the current scores. Nothing per customer crosses to
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
from cs_cli.db.base import JSONType
from cs_cli.db.models import Customer, DomainEvent, HealthScore, HealthScoreHistory, ScorecardVersion
from cs_cli.domain import Actor, HealthStatus
from cs_cli.enums import JUDGED_STATUSES
from cs_cli.errors import BadInput
from cs_cli.services.access import customer_scope
from cs_cli.services.audit import audit
from cs_cli.services.facts import customers_as_of, day_end, fact_versions, facts_as_of
from cs_cli.services.health.measures import feature_count, measure_query
from cs_cli.services.health.scoring_sql import scored_select
from cs_cli.services.health.usage import UsageRange, usage_range
from cs_cli.specs.scorecard import Component, LoadedScorecard, Scorecard, ScorecardPlan

COMPONENT_COLUMNS = {
    "adoption": "product_adoption_score",
    "engagement": "engagement_score",
    "relationship": "relationship_score",
    "financial": "financial_score",
    "support": "support_score",
}
_RANK = {HealthStatus.HEALTHY.value: 3, HealthStatus.AT_RISK.value: 2, HealthStatus.CRITICAL.value: 1}


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


def _scratch() -> sa.Table:
    """The scores of the day, before they are written where they belong:
    the columns of scoring_sql.scored_select, which creates the table."""
    return sa.Table(
        "cs_scored",
        sa.MetaData(),
        sa.Column("customer_id", sa.Integer, primary_key=True),
        sa.Column("overall_score", sa.Integer),
        sa.Column("health_status", sa.String(20)),
        *(sa.Column(f"component_{c.value}", sa.Integer) for c in Component),
        sa.Column("days_to_renewal", sa.Integer),
        sa.Column("days_since_last_login", sa.Integer),
        sa.Column("score_change_30d", sa.Integer),
        sa.Column("score_trend", sa.String(20)),
        sa.Column("measures", JSONType),
        prefixes=["TEMPORARY"],
    )


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


class Carried:
    """The current scores as a run of days moves them forward, in a scratch
    table rebuilt each day from the last one and the day's scores, instead
    of cs_health_scores updated every day: a run is one transaction, and
    every update would leave a dead version of the row behind that nothing
    can reclaim until it commits (a year of days, 365 versions of each row,
    and every later statement reading through them). Status drops and
    threshold crossings compare each day with the carried scores, exactly as
    with the table; `write` puts the run's latest scores in it at the end."""

    # Columns named alike in cs_health_scores and the carried table.
    PLAIN = (
        "days_to_renewal",
        "days_since_last_login",
        "score_change_30d",
        "score_trend",
        "as_of",
        "scorecard_version",
    )
    COLUMNS = (
        "customer_id",
        "overall_score",
        "health_status",
        *(f"component_{c.value}" for c in Component),
        *PLAIN,
    )

    def __init__(self, session: Session, now: dt.datetime) -> None:
        self.now = now
        self.turn = 0
        h = HealthScore.__table__
        components = {f"component_{name}": h.c[column] for name, column in COMPONENT_COLUMNS.items()}
        source = {
            **{name: h.c[name] for name in ("customer_id", "overall_score", "health_status")},
            **components,
            **{name: h.c[name] for name in self.PLAIN},
            "fresh": sa.literal(False),
        }
        self.table = self._make(session, sa.select(*(v.label(k) for k, v in source.items())))

    def _make(self, session: Session, select: sa.Select) -> sa.Table:
        self.turn += 1
        return dialect.temp_table_from(session, f"cs_carried_{self.turn % 2}", select, key="customer_id")

    def advance(
        self, session: Session, scratch: sa.Table, scorecard: LoadedScorecard, as_of: dt.date
    ) -> None:
        """The day's scores replace the carried ones they are not older than."""
        old = self.table
        day = {
            **{name: scratch.c[name] for name in self.COLUMNS if name not in ("as_of", "scorecard_version")},
            "as_of": sa.literal(as_of, sa.Date),
            "scorecard_version": sa.literal(scorecard.version),
            "fresh": sa.literal(True),
        }
        # Outer joins on the customer, not NOT IN (subquery): a subquery of
        # a whole book's ids that does not fit in work_mem is run once per
        # row, and a day at 100,000 customers took minutes.
        takes = sa.or_(old.c.customer_id.is_(None), old.c.as_of.is_(None), old.c.as_of <= as_of)
        kept_day = (
            sa.select(*(v.label(k) for k, v in day.items()))
            .select_from(scratch.outerjoin(old, old.c.customer_id == scratch.c.customer_id))
            .where(takes)
        )
        kept_old = (
            sa.select(*(old.c[name] for name in (*self.COLUMNS, "fresh")))
            .select_from(old.outerjoin(scratch, scratch.c.customer_id == old.c.customer_id))
            .where(sa.or_(scratch.c.customer_id.is_(None), old.c.as_of > as_of))
        )
        self.table = self._make(session, kept_day.union_all(kept_old))
        old.drop(session.connection())

    def write(self, session: Session) -> None:
        """Move cs_health_scores forward to the run's latest scores."""
        try:
            fresh = self.table
            values = {name: fresh.c[name] for name in self.COLUMNS}
            table = HealthScore.__table__
            columns = {
                **{name: values[name] for name in ("customer_id", "overall_score", "health_status")},
                **{column: values[f"component_{name}"] for name, column in COMPONENT_COLUMNS.items()},
                **{name: values[name] for name in self.PLAIN},
                "calculated_at": sa.literal(self.now, table.c.calculated_at.type),
                "created_at": sa.literal(self.now, table.c.created_at.type),
            }
            insert = dialect.insert_for(session, table).from_select(
                list(columns), sa.select(*columns.values()).where(fresh.c.fresh)
            )
            update = {k: insert.excluded[k] for k in columns if k not in ("customer_id", "created_at")}
            newer = sa.or_(table.c.as_of.is_(None), table.c.as_of <= insert.excluded.as_of)
            session.execute(
                insert.on_conflict_do_update(index_elements=["customer_id"], set_=update, where=newer)
            )
        finally:
            self.table.drop(session.connection(), checkfirst=True)


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

                counts, dropped, fell_below = _write_scores(
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


def _write_scores(
    session: Session,
    actor: Actor,
    scorecard: LoadedScorecard,
    select: sa.Select,
    *,
    as_of: dt.date,
    now: dt.datetime,
    carried: Carried | None = None,
    stage: Callable[[float, str], None] | None = None,
) -> tuple[Counter[str], int, int]:
    """Writes the scores; returns them by status, and how many customers
    dropped a status and fell below a threshold (each one an event). With
    `carried`, the current scores are moved there, not in the table.
    `stage(share, next)`: this share of the day's work is done, `next` begins."""
    stage = stage or (lambda share, next_: None)
    connection = session.connection()
    scratch = _scratch()
    scratch.drop(connection, checkfirst=True)
    stage(0.0, "scoring")
    dialect.create_temp_table_as(session, scratch.name, select)
    dialect.for_key_lookups(session)
    # The shares are what each stage took of a day on a large book (benchmarks/RESULTS.md).
    stage(0.55, "writing history")
    try:
        counts = Counter(
            dict(
                session.execute(
                    sa.select(scratch.c.health_status, sa.func.count()).group_by(scratch.c.health_status)
                ).all()
            )
        )
        _history(session, scratch, scorecard, as_of=as_of, now=now)
        stage(0.3, "status events")
        current = HealthScore.__table__ if carried is None else carried.table
        dropped = _drop_events(session, scratch, actor, current, as_of=as_of, now=now)
        fell_below = _threshold_events(session, scratch, scorecard, actor, current, as_of=as_of, now=now)
        stage(0.05, "current scores")
        if carried is None:
            _current(session, scratch, scorecard, as_of=as_of, now=now)
        else:
            carried.advance(session, scratch, scorecard, as_of)
    finally:
        scratch.drop(connection)
    return counts, dropped, fell_below


def _components(scratch: sa.Table) -> dict[str, sa.ColumnElement]:
    return {column: scratch.c[f"component_{name}"] for name, column in COMPONENT_COLUMNS.items()}


def _history(
    session: Session, scratch: sa.Table, scorecard: LoadedScorecard, *, as_of: dt.date, now: dt.datetime
):
    table = HealthScoreHistory.__table__
    values = {
        "customer_id": scratch.c.customer_id,
        "as_of": sa.literal(as_of, sa.Date),
        "overall_score": scratch.c.overall_score,
        "health_status": scratch.c.health_status,
        **_components(scratch),
        "scorecard_version": sa.literal(scorecard.version),
        "measures": scratch.c.measures,
        "calculated_at": sa.literal(now, table.c.calculated_at.type),
        "created_at": sa.literal(now, table.c.created_at.type),
    }
    insert = dialect.insert_for(session, table).from_select(
        list(values), sa.select(*values.values()).where(sa.true())
    )
    update = {k: insert.excluded[k] for k in values if k not in ("customer_id", "as_of", "created_at")}
    session.execute(insert.on_conflict_do_update(index_elements=["customer_id", "as_of"], set_=update))


def _drop_events(
    session: Session, scratch: sa.Table, actor: Actor, current: sa.Table, *, as_of: dt.date, now: dt.datetime
) -> int:
    """health.status_dropped for each customer whose status fell (healthy to
    at risk or critical, at risk to critical) since its current score."""

    def rank(column):
        return sa.case(*((column == status, r) for status, r in _RANK.items()), else_=0)

    fell = sa.and_(
        rank(scratch.c.health_status) > 0, rank(scratch.c.health_status) < rank(current.c.health_status)
    )
    data = {
        "from": current.c.health_status,
        "to": scratch.c.health_status,
        "score": scratch.c.overall_score,
        "as_of": sa.literal(as_of.isoformat()),
    }
    return _score_events(
        session, scratch, current, "health.status_dropped", fell, data, actor, as_of=as_of, now=now
    )


def _threshold_events(
    session: Session,
    scratch: sa.Table,
    scorecard: LoadedScorecard,
    actor: Actor,
    current: sa.Table,
    *,
    as_of: dt.date,
    now: dt.datetime,
) -> int:
    """health.below_threshold for each customer whose score fell below one of
    the scorecard's below_thresholds since its current score (one event per
    threshold crossed), whatever its status did: a score sliding from 55 to
    45 stays critical but crosses 50. One statement per threshold."""
    written = 0
    for threshold in scorecard.card.below_thresholds:
        judged = [s.value for s in JUDGED_STATUSES]
        crossed = sa.and_(
            scratch.c.health_status.in_(judged),
            current.c.health_status.in_(judged),
            scratch.c.overall_score < threshold,
            current.c.overall_score >= threshold,
        )
        data = {
            "threshold": sa.literal(threshold),
            "score": scratch.c.overall_score,
            "previous_score": current.c.overall_score,
            "status": scratch.c.health_status,
            "as_of": sa.literal(as_of.isoformat()),
        }
        written += _score_events(
            session, scratch, current, "health.below_threshold", crossed, data, actor, as_of=as_of, now=now
        )
    return written


def _score_events(
    session: Session,
    scratch: sa.Table,
    current: sa.Table,
    event_type: str,
    condition: sa.ColumnElement[bool],
    data: dict[str, sa.ColumnElement],
    actor: Actor,
    *,
    as_of: dt.date,
    now: dt.datetime,
) -> int:
    """Writes `event_type` for each scored customer meeting `condition`
    against its current score (a customer scored for the first time has none,
    and a backfill of an older day compares with nothing). Returns how many."""
    dialect.before_writing_events(session)
    events = DomainEvent.__table__
    moment = day_end(as_of) - dt.timedelta(microseconds=1)
    values = {
        "event_type": sa.literal(event_type),
        "customer_id": scratch.c.customer_id,
        "occurred_at": sa.literal(moment, events.c.occurred_at.type),
        "data": dialect.json_object(session, data),
        "actor_name": sa.literal(actor.name),
        "created_at": sa.literal(now, events.c.created_at.type),
    }
    source = (
        sa.select(*values.values())
        .select_from(scratch.join(current, current.c.customer_id == scratch.c.customer_id))
        .where(sa.or_(current.c.as_of.is_(None), current.c.as_of <= as_of), condition)
    )
    # RETURNING, not rowcount: drivers report -1 for INSERT ... SELECT.
    inserted = session.execute(sa.insert(events).from_select(list(values), source).returning(events.c.id))
    return len(inserted.all())


def _current(
    session: Session, scratch: sa.Table, scorecard: LoadedScorecard, *, as_of: dt.date, now: dt.datetime
):
    table = HealthScore.__table__
    values = {
        "customer_id": scratch.c.customer_id,
        "overall_score": scratch.c.overall_score,
        "health_status": scratch.c.health_status,
        **_components(scratch),
        "days_since_last_login": scratch.c.days_since_last_login,
        "days_to_renewal": scratch.c.days_to_renewal,
        "score_trend": scratch.c.score_trend,
        "score_change_30d": scratch.c.score_change_30d,
        "calculated_at": sa.literal(now, table.c.calculated_at.type),
        "created_at": sa.literal(now, table.c.created_at.type),
        "as_of": sa.literal(as_of, sa.Date),
        "scorecard_version": sa.literal(scorecard.version),
    }
    insert = dialect.insert_for(session, table).from_select(
        list(values), sa.select(*values.values()).where(sa.true())
    )
    update = {k: insert.excluded[k] for k in values if k not in ("customer_id", "created_at")}
    # A backfill of an older day leaves the current score alone.
    newer = sa.or_(table.c.as_of.is_(None), table.c.as_of <= insert.excluded.as_of)
    session.execute(insert.on_conflict_do_update(index_elements=["customer_id"], set_=update, where=newer))


def status_counts(results: Sequence[DayResult]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for r in results:
        total.update(r.by_status)
    return {s.value: total.get(s.value, 0) for s in HealthStatus}
