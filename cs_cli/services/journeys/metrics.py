"""A journey's metrics, recounted from its enrollments in one grouped query
whenever enrollments end: total_completed, avg_completion_days (of the
completed ones) and success_rate (succeeded among the ended ones that have a
verdict: an enrollment of a journey without a goal that runs out of steps
neither succeeded nor failed, and is left out).
total_enrolled is counted as customers enroll; steps count their
executions as the tick records them.

Each tick batch that ends enrollments adds one to its journeys'
metrics_pending, in the batch's transaction; a recount sets it back to zero
unless another batch added to it meanwhile. So a tick killed between a batch
and its final recount leaves the journey pending, and the next tick (which
recounts every pending journey) puts its metrics right."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.models import Journey, JourneyEnrollment
from cs_cli.domain import EnrollmentStatus


def pending_journeys(session: Session) -> set[int]:
    """Journeys with ended enrollments their metrics have not counted yet."""
    return set(session.scalars(sa.select(Journey.id).where(Journey.metrics_pending > 0)))


def refresh_journeys(session: Session, journey_ids: list[int], *, now: dt.datetime) -> None:
    if not journey_ids:
        return
    # Read before the recount: a batch committed after this read is not
    # counted for sure, so its mark must stay (see the module docstring).
    seen = dict(
        session.execute(
            sa.select(Journey.id, Journey.metrics_pending).where(Journey.id.in_(journey_ids))
        ).all()
    )
    e = JourneyEnrollment
    completed = e.status == EnrollmentStatus.COMPLETED
    judged = sa.and_(e.status != EnrollmentStatus.ACTIVE, e.success.is_not(None))
    days = dialect.days_between(session, e.enrolled_at, e.completed_at)
    rows = session.execute(
        sa.select(
            e.journey_id,
            sa.func.count().filter(completed),
            sa.func.avg(sa.case((completed, days))),
            sa.func.count().filter(judged),
            sa.func.count().filter(sa.and_(judged, e.success.is_(True))),
        )
        .where(e.journey_id.in_(journey_ids))
        .group_by(e.journey_id)
    ).all()
    for journey_id, n_completed, avg_days, n_judged, n_success in rows:
        session.execute(
            sa.update(Journey)
            .where(Journey.id == journey_id)
            .values(
                total_completed=n_completed,
                avg_completion_days=round(float(avg_days), 2) if avg_days is not None else None,
                success_rate=round(n_success / n_judged, 4) if n_judged else None,
                metrics_pending=sa.case(
                    (Journey.metrics_pending == seen.get(journey_id, 0), 0), else_=Journey.metrics_pending
                ),
                updated_at=now,
            )
        )
