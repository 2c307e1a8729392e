"""`cs touchpoints analyze`: read the text of stored touchpoints and support
tickets and write their sentiment and key topics, batch by batch: one
SELECT and one set-based UPDATE per batch, never a query per row."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.models import SupportTicket, Touchpoint
from cs_cli.domain import Actor, AnalyzeCount, Role, SentimentSource
from cs_cli.services.access import require_role
from cs_cli.services.text.reading import COLUMNS, read_record
from cs_cli.services.text.sentiment import Analyser

KINDS = {"touchpoints": Touchpoint, "tickets": SupportTicket}


def pending_count(session: Session, kind: str, *, everything: bool) -> int:
    """How many rows of `kind` an analysis would read."""
    model = KINDS[kind]
    stmt = sa.select(sa.func.count()).select_from(model)
    if not everything:
        stmt = stmt.where(model.key_topics.is_(None))
    return session.scalar(stmt) or 0


def analyze(
    session: Session,
    actor: Actor,
    kind: str,
    *,
    analyser: Analyser,
    everything: bool = False,
    overwrite: bool = False,
    batch_size: int = 10_000,
    progress: Callable[[int], None] | None = None,
) -> AnalyzeCount:
    """Write sentiment and key topics of every row of `kind` not read yet
    (the sentiment of all rows with `everything`: key topics, once read,
    stay); a given label stays unless `overwrite`."""
    require_role(actor, Role.ADMIN, doing="analysing the whole book's text")
    model = KINDS[kind]
    table = model.__table__
    description = table.c.description
    query = sa.select(
        table.c.id,
        table.c.subject,
        description,
        table.c.sentiment_score,
        table.c.sentiment_label,
        table.c.sentiment_source,
        table.c.key_topics,
    ).order_by(table.c.id)
    if not everything:
        query = query.where(table.c.key_topics.is_(None))
    counts = dict.fromkeys(("read", "scored", "kept", "unscored", "with_topics"), 0)
    last = None
    while True:
        # Keyset paging by id: each batch is one indexed range read, and rows
        # written in an earlier batch are not read again.
        stmt = query.limit(batch_size) if last is None else query.where(table.c.id > last).limit(batch_size)
        batch = session.execute(stmt).all()
        if not batch:
            break
        rows = []
        for row_id, subject, notes, score, label, source, topics in batch:
            values = read_record(
                analyser,
                subject,
                notes,
                label=label,
                score=score,
                source=source,
                overwrite=overwrite,
                topics=topics,
            )
            values["id"] = row_id
            rows.append(values)
            if values["sentiment_source"] == SentimentSource.CS:
                counts["scored"] += 1
            elif values["sentiment_source"] == SentimentSource.GIVEN:
                counts["kept"] += 1
            if values["sentiment_score"] is None and values["sentiment_label"] is None:
                counts["unscored"] += 1
            if values["key_topics"]:
                counts["with_topics"] += 1
        dialect.update_by_id(session, table, COLUMNS, rows)
        counts["read"] += len(batch)
        last = batch[-1][0]
        if progress:
            progress(len(batch))
    return AnalyzeCount(kind=kind, **counts)
