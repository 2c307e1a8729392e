"""`cs playbooks evaluate`: fire every active playbook's automatic triggers
over the whole book, set-based (a fixed number of statements per playbook,
whatever the size of the book), then re-check the success of runs whose
judgement is still open.

Triggers (any one starts a run):
  health_below N     the current health score (an override in force wins)
                     is below N
  days_to_renewal N  the renewal date is within the next N days; once per
                     renewal: not if a run of it started on or after
                     renewal_date - N days
  segment NAME       a segment.entered event for that segment since the last
                     evaluation (the playbook's event cursor)
  event TYPE         a domain event of that type since the last evaluation
Only active customers; never a second active run of a playbook for a customer;
no new run within the playbook's cooldown_days after the last one ended.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.models import Customer, DomainEvent, Playbook, PlaybookRun, Segment
from cs_cli.domain import Actor, CustomerStatus, PlaybookEvaluation, Role
from cs_cli.services.access import customer_scope, require_role
from cs_cli.services.playbooks import runs as run_service
from cs_cli.services.playbooks.run_tasks import NewRun, create_tasks
from cs_cli.services.playbooks.trigger import insert_runs, scored_customers

SEGMENT_ENTERED = "segment.entered"


def evaluate(session: Session, actor: Actor, *, as_of: dt.date, now: dt.datetime) -> PlaybookEvaluation:
    """Start the runs (and tasks) that the automatic triggers call for, as of
    `as_of`; advance the event cursors; judge open run outcomes."""
    require_role(actor, Role.ADMIN, doing="evaluating playbook triggers")
    # The events to act on run up to the horizon, read before this
    # transaction writes anything (see dialect.event_horizon): max(id) could
    # pass an event of a transaction still open, and the cursor, moved past
    # it, would never come back for it.
    high = dialect.event_horizon(session)
    playbooks = session.scalars(
        sa.select(Playbook)
        .where(
            Playbook.is_active,
            sa.or_(
                Playbook.trigger_health_threshold.is_not(None),
                Playbook.trigger_days_to_renewal.is_not(None),
                Playbook.trigger_event.is_not(None),
                Playbook.trigger_segment_id.is_not(None),
            ),
        )
        .order_by(Playbook.id)
    ).all()
    segment_names = dict(session.execute(sa.select(Segment.id, Segment.name)).all())
    started: list[NewRun] = []
    by_playbook: dict[str, int] = {}
    candidates, score = scored_customers(as_of)
    # Active customers the actor may see, with their current score (an
    # override in force wins) as the baseline.
    base = candidates.where(Customer.status == CustomerStatus.ACTIVE, customer_scope(actor))
    for playbook in playbooks:
        before = len(started)
        if playbook.trigger_health_threshold is not None:
            threshold = playbook.trigger_health_threshold
            started += insert_runs(
                session,
                playbook,
                base.where(score < threshold),
                kind="health",
                reason=f"health below {threshold}",
                now=now,
            )
        if playbook.trigger_days_to_renewal is not None:
            started += _renewals(session, playbook, base, as_of=as_of, now=now)
        cursor = playbook.event_cursor or 0
        if playbook.trigger_segment_id is not None and high > cursor:
            segment_id = playbook.trigger_segment_id
            entered = _events(SEGMENT_ENTERED, cursor, high).where(
                DomainEvent.data["segment_id"].as_integer() == segment_id
            )
            started += insert_runs(
                session,
                playbook,
                base.where(Customer.id.in_(entered)),
                kind="segment",
                reason=f"entered segment {segment_names.get(segment_id, segment_id)}",
                now=now,
            )
        if playbook.trigger_event is not None and high > cursor:
            happened = _events(playbook.trigger_event, cursor, high)
            started += insert_runs(
                session,
                playbook,
                base.where(Customer.id.in_(happened)),
                kind="event",
                reason=f"event {playbook.trigger_event}",
                now=now,
            )
        if (playbook.trigger_segment_id is not None or playbook.trigger_event is not None) and high > cursor:
            playbook.event_cursor = high
        if len(started) > before:
            by_playbook[playbook.key] = len(started) - before
    tasks = create_tasks(session, actor, started, as_of=as_of, now=now)
    judged = run_service.judge_open(session, now=now)
    session.flush()
    return PlaybookEvaluation(as_of=as_of, runs_started=by_playbook, tasks_created=tasks, runs_judged=judged)


def _events(event_type: str, after: int, upto: int) -> sa.Select:
    return sa.select(DomainEvent.customer_id).where(
        DomainEvent.event_type == event_type,
        DomainEvent.id > after,
        DomainEvent.id <= upto,
        DomainEvent.customer_id.is_not(None),
    )


def _renewals(
    session: Session, playbook: Playbook, base: sa.Select, *, as_of: dt.date, now: dt.datetime
) -> list[NewRun]:
    days = playbook.trigger_days_to_renewal
    assert days is not None
    runs = PlaybookRun
    # Once per renewal: a run that started within this renewal's window
    # (even one that has ended) means this renewal was handled.
    this_cycle = sa.exists().where(
        runs.playbook_id == playbook.id,
        runs.customer_id == Customer.id,
        dialect.utc_day(session, runs.started_at) >= dialect.add_days(session, Customer.renewal_date, -days),
    )
    due = base.where(
        Customer.renewal_date >= as_of,
        Customer.renewal_date <= as_of + dt.timedelta(days=days),
        ~this_cycle,
    )
    return insert_runs(session, playbook, due, kind="renewal", reason=f"renewal within {days} days", now=now)
