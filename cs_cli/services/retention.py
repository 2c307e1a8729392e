"""Retention: delete rows once they are past their period.

The platform's own bookkeeping (outbox messages long sent or dead, domain
events every consumer of the log has read, finished job runs), and customer
data past the plan's periods (section 9.3): touchpoints after 7 years,
daily health scores after 3, closed tasks and ended journey enrollments
(with their step runs) after 2. Each period is a setting; `off` keeps a kind
for ever. The audit log is never deleted; each batch deleted is an entry in
it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import (
    CSTask,
    DomainEvent,
    EventCursor,
    HealthScoreHistory,
    JobRun,
    JourneyEnrollment,
    OutboxMessage,
    Playbook,
    Touchpoint,
)
from cs_cli.domain import Actor, EnrollmentStatus, JobStatus, OutboxStatus, Role, TaskStatus
from cs_cli.services.access import require_role
from cs_cli.services.audit import audit

KINDS = ("outbox", "events", "job_runs", "touchpoints", "health_history", "tasks", "journeys")


@dataclass(frozen=True)
class Cutoffs:
    """Rows older than these go; None keeps that kind for ever."""

    outbox: dt.datetime | None
    events: dt.datetime | None
    job_runs: dt.datetime | None
    touchpoints: dt.datetime | None = None
    health_history: dt.datetime | None = None
    tasks: dt.datetime | None = None
    journeys: dt.datetime | None = None

    @classmethod
    def of(
        cls,
        now: dt.datetime,
        *,
        outbox: dt.timedelta | None,
        events: dt.timedelta | None,
        job_runs: dt.timedelta | None,
        email_cap_period: dt.timedelta,
        touchpoints: dt.timedelta | None = None,
        health_history: dt.timedelta | None = None,
        tasks: dt.timedelta | None = None,
        journeys: dt.timedelta | None = None,
    ) -> Cutoffs:
        # The email cap counts the sends of its period: never delete those.
        kept = None if outbox is None else max(outbox, email_cap_period)

        def before(span: dt.timedelta | None) -> dt.datetime | None:
            return None if span is None else now - span

        return cls(
            outbox=before(kept),
            events=before(events),
            job_runs=before(job_runs),
            touchpoints=before(touchpoints),
            health_history=before(health_history),
            tasks=before(tasks),
            journeys=before(journeys),
        )

    @classmethod
    def from_settings(cls, now: dt.datetime, settings) -> Cutoffs:
        return cls.of(
            now,
            outbox=settings.retention_outbox,
            events=settings.retention_events,
            job_runs=settings.retention_job_runs,
            email_cap_period=settings.email_cap_period,
            touchpoints=settings.retention_touchpoints,
            health_history=settings.retention_health_history,
            tasks=settings.retention_tasks,
            journeys=settings.retention_journeys,
        )


def purge(
    session: Session, actor: Actor, kind: str, cutoffs: Cutoffs, *, limit: int, now: dt.datetime | None = None
) -> int:
    """Delete at most `limit` rows of `kind` past their cutoff, oldest first;
    returns how many. Call again until it returns less than `limit`. Customer
    data deleted is an audit entry (kind, count, cutoff)."""
    require_role(actor, Role.ADMIN, doing="deleting old rows")
    found = _old(session, kind, cutoffs)
    if found is None:
        return 0
    table, key, old = found
    # Through a subquery: neither dialect takes DELETE ... LIMIT everywhere.
    batch = old.order_by(key).limit(limit).scalar_subquery()
    result = session.execute(
        sa.delete(table).where(key.in_(batch)).execution_options(synchronize_session=False)
    )
    deleted = result.rowcount or 0
    if deleted and kind in CUSTOMER_DATA:
        cutoff = getattr(cutoffs, kind)
        details = {"kind": kind, "deleted": deleted, "older_than": cutoff.isoformat()}
        audit(session, actor, "retention.deleted", kind, None, at=now or cutoff, details=details)
    return deleted


# Kinds whose deletion the audit trail records (the rest is bookkeeping).
CUSTOMER_DATA = ("touchpoints", "health_history", "tasks", "journeys")


def preview(session: Session, actor: Actor, cutoffs: Cutoffs) -> list[tuple[str, dt.datetime | None, int]]:
    """What a retention run would delete now: (kind, cutoff, rows) per kind."""
    require_role(actor, Role.ADMIN, doing="deleting old rows")
    out = []
    for kind in KINDS:
        found = _old(session, kind, cutoffs)
        count = 0
        if found is not None:
            count = session.scalar(sa.select(sa.func.count()).select_from(found[2].subquery())) or 0
        out.append((kind, getattr(cutoffs, kind), int(count)))
    return out


def _old(session: Session, kind: str, cutoffs: Cutoffs):
    """(table, key, SELECT of the keys past the cutoff) of a kind; None when
    the kind is kept for ever."""
    cutoff = getattr(cutoffs, kind)
    if cutoff is None:
        return None
    if kind == "outbox":
        key = OutboxMessage.id
        return (
            OutboxMessage,
            key,
            sa.select(key).where(
                OutboxMessage.status.in_([OutboxStatus.SENT, OutboxStatus.DEAD]),
                sa.func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at) < cutoff,
            ),
        )
    if kind == "events":
        old = sa.select(DomainEvent.id).where(DomainEvent.created_at < cutoff)
        horizon = read_by_all(session, live_since=cutoff)
        if horizon is not None:
            old = old.where(DomainEvent.id <= horizon)
        return DomainEvent, DomainEvent.id, old
    if kind == "job_runs":
        key = JobRun.id
        return (
            JobRun,
            key,
            sa.select(key).where(JobRun.started_at < cutoff, JobRun.status != JobStatus.RUNNING),
        )
    if kind == "touchpoints":
        key = Touchpoint.id
        return Touchpoint, key, sa.select(key).where(Touchpoint.occurred_at < cutoff)
    if kind == "health_history":
        key = HealthScoreHistory.id
        return HealthScoreHistory, key, sa.select(key).where(HealthScoreHistory.as_of < cutoff.date())
    if kind == "tasks":
        key = CSTask.id
        return (
            CSTask,
            key,
            sa.select(key).where(
                CSTask.status.in_([TaskStatus.COMPLETED, TaskStatus.CANCELLED]),
                sa.func.coalesce(CSTask.completed_at, CSTask.updated_at) < cutoff,
            ),
        )
    if kind == "journeys":
        key = JourneyEnrollment.id
        return (
            JourneyEnrollment,
            key,
            sa.select(key).where(
                JourneyEnrollment.status != EnrollmentStatus.ACTIVE,
                sa.func.coalesce(JourneyEnrollment.completed_at, JourneyEnrollment.updated_at) < cutoff,
            ),
        )
    raise ValueError(kind)


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
