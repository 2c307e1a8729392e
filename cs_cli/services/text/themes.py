"""Book-wide themes: the key topics of touchpoints and support tickets over a
period, with their volume, mean sentiment, and whether they rise or fall
against the period just before of the same length (`cs touchpoints topics`).

One grouped query over the two tables' topic lists, unnested in SQL
(json_each on SQLite, jsonb_array_elements_text on Postgres)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.base import UTCDateTime
from cs_cli.db.models import Customer, CustomerSegment, SupportTicket, Touchpoint
from cs_cli.domain import Actor, Theme, Themes
from cs_cli.errors import BadInput
from cs_cli.services.access import customer_scope
from cs_cli.services.segments.definitions import find_segment
from cs_cli.services.text.sentiment import NEGATIVE_FROM

DEFAULT_DAYS = 30
MAX_DAYS = 3_660
# A theme rises (or falls) when it is mentioned at least this share more
# (or less) than in the period before, and by at least MIN_CHANGE mentions:
# 1 -> 2 is noise, not a trend.
RISE = 1.25
FALL = 0.8
MIN_CHANGE = 2


def period(start: dt.date | None, end: dt.date | None, as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The days asked for: up to `end` (default as_of), from `start`
    (default DEFAULT_DAYS days back)."""
    end = end or as_of
    start = start or end - dt.timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise BadInput(f"--from {start} is after --to {end}")
    if (end - start).days + 1 > MAX_DAYS:
        raise BadInput(f"a period is at most {MAX_DAYS:,} days")
    return start, end


def trend(mentions: int, previous: int) -> str:
    if mentions and not previous:
        return "new"
    if previous and not mentions:
        return "gone"
    if mentions >= previous * RISE and mentions - previous >= MIN_CHANGE:
        return "rising"
    if mentions <= previous * FALL and previous - mentions >= MIN_CHANGE:
        return "falling"
    return "steady"


def _moment(day: dt.date) -> sa.BindParameter:
    return sa.bindparam(None, dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC), type_=UTCDateTime())


def book_themes(
    session: Session,
    actor: Actor,
    *,
    start: dt.date,
    end: dt.date,
    segment: str | None = None,
) -> Themes:
    """The topics of the actor's customers' touchpoints and tickets from
    `start` to `end` (days, inclusive), most mentioned first."""
    days = (end - start).days + 1
    previous_start = start - dt.timedelta(days=days)
    conditions = [customer_scope(actor)]
    if segment:
        found = find_segment(session, segment)
        members = sa.select(CustomerSegment.customer_id).where(
            CustomerSegment.segment_id == found.id, CustomerSegment.exited_at.is_(None)
        )
        conditions.append(Customer.id.in_(members))
    themes = _themes(session, conditions, previous_start, start, end)
    return Themes(start=start, end=end, previous_start=previous_start, segment=segment, themes=themes)


CUSTOMER_DAYS = 90
CUSTOMER_TOPICS = 6


def customer_topics(session: Session, customer_id: int, *, as_of: dt.date) -> list[Theme]:
    """One customer's most mentioned topics of the last CUSTOMER_DAYS days
    (the caller has checked the actor may see the customer), for the 360."""
    start = as_of - dt.timedelta(days=CUSTOMER_DAYS - 1)
    previous_start = start - dt.timedelta(days=CUSTOMER_DAYS)
    themes = _themes(session, [Customer.id == customer_id], previous_start, start, as_of)
    return [t for t in themes if t.mentions][:CUSTOMER_TOPICS]


def _themes(
    session: Session, conditions: list, previous_start: dt.date, start: dt.date, end: dt.date
) -> list[Theme]:
    low, split, high = _moment(previous_start), _moment(start), _moment(end + dt.timedelta(days=1))
    parts = []
    for model, at in ((Touchpoint, Touchpoint.occurred_at), (SupportTicket, SupportTicket.opened_at)):
        parts.append(
            sa.select(
                model.customer_id.label("customer_id"),
                at.label("at"),
                model.key_topics.label("key_topics"),
                model.sentiment_score.label("score"),
            )
            .join(Customer, Customer.id == model.customer_id)
            .where(at >= low, at < high, model.key_topics.is_not(None), *conditions)
        )
    texts = sa.union_all(*parts).subquery("texts")
    if dialect.is_postgres(session):
        element = sa.func.jsonb_array_elements_text(texts.c.key_topics).table_valued("value").alias("topic")
    else:
        element = sa.func.json_each(texts.c.key_topics).table_valued("value").alias("topic")
    now = texts.c.at >= split
    topic = element.c.value
    stmt = (
        sa.select(
            topic.label("topic"),
            sa.func.count(sa.case((now, 1))).label("mentions"),
            sa.func.count(sa.distinct(sa.case((now, texts.c.customer_id)))).label("customers"),
            sa.func.avg(sa.case((now, texts.c.score))).label("mean"),
            sa.func.count(sa.case((sa.and_(now, texts.c.score <= NEGATIVE_FROM), 1))).label("negative"),
            sa.func.count(sa.case((sa.not_(now), 1))).label("previous"),
        )
        .select_from(texts)
        .join(element, sa.true())
        .group_by(topic)
    )
    themes = [
        Theme(
            topic=str(r.topic),
            mentions=r.mentions,
            customers=r.customers,
            mean_sentiment=round(float(r.mean), 3) if r.mean is not None else None,
            negative=r.negative,
            previous=r.previous,
            trend=trend(r.mentions, r.previous),
        )
        for r in session.execute(stmt)
    ]
    themes.sort(key=lambda t: (-t.mentions, -t.previous, t.topic))
    return themes
