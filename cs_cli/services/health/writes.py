"""Writing a day's scores where they belong, from the scratch table the
scoring statement fills: the history rows, the status-drop and threshold
events, and the current scores (or, over a run of days, the carried ones).
One statement each, whatever the size of the book."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.base import FloatArray, JSONType
from cs_cli.db.models import DomainEvent, HealthScore, HealthScoreHistory
from cs_cli.domain import Actor, HealthStatus
from cs_cli.enums import JUDGED_STATUSES
from cs_cli.services.facts import day_end
from cs_cli.specs.scorecard import Component, LoadedScorecard

COMPONENT_COLUMNS = {
    "adoption": "product_adoption_score",
    "engagement": "engagement_score",
    "relationship": "relationship_score",
    "financial": "financial_score",
    "support": "support_score",
}
_RANK = {HealthStatus.HEALTHY.value: 3, HealthStatus.AT_RISK.value: 2, HealthStatus.CRITICAL.value: 1}


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
        sa.Column("raw_values", FloatArray),
        sa.Column("signal_values", FloatArray),
        sa.Column("measures", JSONType),
        prefixes=["TEMPORARY"],
    )


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


def write_scores(
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
        "raw_values": scratch.c.raw_values,
        "signal_values": scratch.c.signal_values,
        "measures": scratch.c.measures,
        "calculated_at": sa.literal(now, table.c.calculated_at.type),
        "created_at": sa.literal(now, table.c.created_at.type),
    }
    insert = dialect.insert_for(session, table).from_select(
        list(values), sa.select(*values.values()).where(sa.true())
    )
    # A day history has no row of yet (every day of a backfill) takes a plain
    # insert: checking each row for a conflict cost a third of the write.
    # Runs of recalc take turns (one at a time), so none appears meanwhile.
    if session.scalar(sa.select(sa.exists().where(table.c.as_of == as_of))):
        update = {k: insert.excluded[k] for k in values if k not in ("customer_id", "as_of", "created_at")}
        insert = insert.on_conflict_do_update(index_elements=["customer_id", "as_of"], set_=update)
    session.execute(insert)


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
