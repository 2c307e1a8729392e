"""Retention: delete the platform's own bookkeeping once it has served.

Only operational rows go: outbox messages long sent (or dead), domain events
that every consumer of the log has read, finished job runs. Customer data
(touchpoints, health history, tasks, journeys) and the audit log are kept;
the plan's retention periods for them are minimums, not deadlines.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import DomainEvent, EventCursor, JobRun, OutboxMessage, Playbook
from cs_cli.domain import Actor, JobStatus, OutboxStatus, Role
from cs_cli.services.access import require_role

KINDS = ("outbox", "events", "job_runs")


@dataclass(frozen=True)
class Cutoffs:
    """Rows older than these go; None keeps that kind for ever."""

    outbox: dt.datetime | None
    events: dt.datetime | None
    job_runs: dt.datetime | None

    @classmethod
    def of(
        cls,
        now: dt.datetime,
        *,
        outbox: dt.timedelta | None,
        events: dt.timedelta | None,
        job_runs: dt.timedelta | None,
        email_cap_period: dt.timedelta,
    ) -> Cutoffs:
        # The email cap counts the sends of its period: never delete those.
        kept = None if outbox is None else max(outbox, email_cap_period)
        return cls(
            outbox=None if kept is None else now - kept,
            events=None if events is None else now - events,
            job_runs=None if job_runs is None else now - job_runs,
        )


def purge(session: Session, actor: Actor, kind: str, cutoffs: Cutoffs, *, limit: int) -> int:
    """Delete at most `limit` rows of `kind` past their cutoff, oldest first;
    returns how many. Call again until it returns less than `limit`."""
    require_role(actor, Role.ADMIN, doing="deleting old rows")
    cutoff = getattr(cutoffs, kind)
    if cutoff is None:
        return 0
    if kind == "outbox":
        table, key = OutboxMessage, OutboxMessage.id
        old = sa.select(key).where(
            OutboxMessage.status.in_([OutboxStatus.SENT, OutboxStatus.DEAD]),
            sa.func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at) < cutoff,
        )
    elif kind == "events":
        table, key = DomainEvent, DomainEvent.id
        old = sa.select(key).where(DomainEvent.created_at < cutoff)
        horizon = read_by_all(session, live_since=cutoff)
        if horizon is not None:
            old = old.where(DomainEvent.id <= horizon)
    elif kind == "job_runs":
        table, key = JobRun, JobRun.id
        old = sa.select(key).where(JobRun.started_at < cutoff, JobRun.status != JobStatus.RUNNING)
    else:
        raise ValueError(kind)
    # Through a subquery: neither dialect takes DELETE ... LIMIT everywhere.
    batch = old.order_by(key).limit(limit).scalar_subquery()
    result = session.execute(
        sa.delete(table).where(key.in_(batch)).execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def read_by_all(session: Session, *, live_since: dt.datetime | None = None) -> int | None:
    """The last event id every consumer of the log has read: event cursors
    (journeys, automation rules) and the playbooks that trigger on events or
    segments. None when nothing reads the log. A cursor that has not moved
    since `live_since` belongs to a consumer that is gone (a deactivated
    journey, a renamed or removed rule: each live one moves at every run),
    and holds nothing back."""
    live = sa.true() if live_since is None else EventCursor.updated_at >= live_since
    cursors = sa.select(sa.func.min(EventCursor.position)).where(live).scalar_subquery()
    playbooks = (
        sa.select(sa.func.min(sa.func.coalesce(Playbook.event_cursor, 0)))
        .where(
            Playbook.is_active,
            sa.or_(Playbook.trigger_event.is_not(None), Playbook.trigger_segment_id.is_not(None)),
        )
        .scalar_subquery()
    )
    low = session.execute(sa.select(cursors, playbooks)).one()
    positions = [p for p in low if p is not None]
    return min(positions) if positions else None
