"""What the tick does before it advances anyone: enroll the customers the
journeys' triggers name, wake enrollments whose awaited thing may have
happened, and sweep goals and exit criteria over enrollments that sleep.

Event and segment_entry triggers read the domain event log with a durable
cursor per journey (cs_event_cursors, consumer `journey:KEY`), up to the
event horizon, so each event enrolls at most once and a replay enrolls
nobody twice. Scheduled triggers are evaluated once per day (or per week or
month for `every`), remembered in a cursor too. The triggers of all
journeys take turns (a transaction lock), so two ticks never both read the
same events.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.models import (
    Customer,
    DomainEvent,
    EventCursor,
    Journey,
    JourneyEnrollment,
    JourneyStep,
)
from cs_cli.domain import Actor, CustomerStatus, EnrollmentStatus, JourneyTriggerType
from cs_cli.services.journeys.batch import LIVE_COLUMNS, Batch, check_criteria, lock_lives, write
from cs_cli.services.journeys.cursors import consumer, cursor
from cs_cli.services.journeys.enroll import capacity_left, insert_enrollments
from cs_cli.services.journeys.program import Programs

WAKE = "journeys:wake"
# Whoever enrolls takes this lock, so capacity counts hold and two ticks
# never read the same events at once.
ENROLLING = "journeys.enroll"
SWEEP = "journeys:criteria"
# Events that may let a waiting step go on besides those a wait names.
_WAKING = ("task.completed", "task.cancelled", "touchpoint.logged")
_SWEEP_EVERY = dt.timedelta(hours=1)
_enrollments = JourneyEnrollment.__table__


def run_triggers(session: Session, actor: Actor, *, now: dt.datetime) -> int:
    """Enroll whom the active journeys' triggers name; returns how many."""
    journeys = session.scalars(
        sa.select(Journey)
        .where(Journey.is_active, Journey.trigger_type != JourneyTriggerType.MANUAL)
        .order_by(Journey.id)
    ).all()
    if not journeys:
        return 0
    horizon = dialect.event_horizon(session)
    dialect.one_at_a_time(session, ENROLLING)
    enrolled = 0
    for journey in journeys:
        if journey.trigger_type == JourneyTriggerType.SCHEDULED:
            enrolled += _scheduled(session, actor, journey, now=now)
        else:
            enrolled += _from_events(session, actor, journey, horizon, now=now)
    return enrolled


def _rules_condition(session: Session, journey: Journey, today: dt.date) -> sa.ColumnElement[bool] | None:
    rules = (journey.trigger_config or {}).get("rules")
    if not rules:
        return None
    from cs_cli.rules import compile_rule, parse_document

    compiled = compile_rule(parse_document(rules), dialect=dialect.name(session), as_of=today)
    return Customer.id.in_(compiled.customer_ids())


def _from_events(session: Session, actor: Actor, journey: Journey, horizon: int, *, now: dt.datetime) -> int:
    config = journey.trigger_config or {}
    mark = cursor(session, consumer(journey.key), now=now)
    if mark.position >= horizon:
        return 0
    if journey.trigger_type == JourneyTriggerType.SEGMENT_ENTRY:
        event_type, segment_id = "segment.entered", config.get("segment_id")
    else:
        event_type, segment_id = config.get("event"), None
    rows = session.execute(
        sa.select(DomainEvent.id, DomainEvent.customer_id, DomainEvent.data)
        .where(
            DomainEvent.event_type == event_type,
            DomainEvent.id > mark.position,
            DomainEvent.id <= horizon,
            DomainEvent.customer_id.is_not(None),
        )
        .order_by(DomainEvent.id)
    ).all()
    first_event: dict[int, int] = {}
    for event_id, customer_id, data in rows:
        if segment_id is not None and (data or {}).get("segment_id") != segment_id:
            continue
        first_event.setdefault(customer_id, event_id)
    position, added = horizon, 0
    if first_event:
        conditions = [Customer.id.in_(list(first_event)), Customer.status == CustomerStatus.ACTIVE]
        rules = _rules_condition(session, journey, now.date())
        if rules is not None:
            conditions.append(rules)
        takers = sorted(
            session.scalars(sa.select(Customer.id).where(*conditions)), key=lambda c: first_event[c]
        )
        room = capacity_left(session, journey)
        if room is not None and len(takers) > room:
            # Full: the rest wait for a later tick, the cursor stops before them.
            position = first_event[takers[room]] - 1
            takers = takers[:room]
        if takers:
            candidates = sa.select(Customer.id.label("customer_id")).where(Customer.id.in_(takers))
            added = len(
                insert_enrollments(
                    session, actor, journey, candidates, now=now, source=f"trigger:{event_type}"
                )
            )
    _moved(mark, position, added, now)
    return added


def _moved(mark: EventCursor, position: int, acted: int, now: dt.datetime) -> None:
    mark.position = max(mark.position, position)
    mark.updated_at = now
    if acted:
        mark.last_acted_at = now
        mark.acted_count = (mark.acted_count or 0) + acted


def _period_start(journey: Journey, today: dt.date) -> dt.date:
    every = (journey.trigger_config or {}).get("every")
    if every == "weekly":
        return today - dt.timedelta(days=today.weekday())
    if every == "monthly":
        return today.replace(day=1)
    return today


def _scheduled(session: Session, actor: Actor, journey: Journey, *, now: dt.datetime) -> int:
    """Evaluate a scheduled trigger once per period (a day, or the week or
    month of `every`); the cursor keeps the period's first day as an ordinal."""
    today = now.date()
    period = _period_start(journey, today)
    mark = cursor(session, consumer(journey.key), now=now, start=0)
    if mark.position >= period.toordinal():
        return 0
    config = journey.trigger_config or {}
    mine = sa.and_(JourneyEnrollment.journey_id == journey.id, JourneyEnrollment.customer_id == Customer.id)
    conditions: list[Any] = []
    if "days_before_renewal" in config:
        window = today + dt.timedelta(days=int(config["days_before_renewal"]))
        conditions += [
            Customer.status == CustomerStatus.ACTIVE,
            Customer.renewal_date >= today,
            Customer.renewal_date <= window,
        ]
        # Once per renewal date: not enrolled since this renewal came within the window.
        since = dialect.add_days(session, Customer.renewal_date, -int(config["days_before_renewal"]))
        conditions.append(~sa.exists().where(mine, sa.func.date(JourneyEnrollment.enrolled_at) >= since))
    elif "days_after_churn" in config:
        after = dt.timedelta(days=int(config["days_after_churn"]))
        conditions += [
            Customer.status == CustomerStatus.CHURNED,
            Customer.churned_at <= sa.literal(now - after, type_=Customer.__table__.c.churned_at.type),
            # Once per churn: not enrolled since the customer churned.
            ~sa.exists().where(mine, JourneyEnrollment.enrolled_at >= Customer.churned_at),
        ]
    else:
        start = dt.datetime.combine(period, dt.time(), tzinfo=dt.UTC)
        conditions += [
            Customer.status == CustomerStatus.ACTIVE,
            ~sa.exists().where(
                mine,
                JourneyEnrollment.enrolled_at >= sa.literal(start, type_=_enrollments.c.enrolled_at.type),
            ),
        ]
    rules = _rules_condition(session, journey, today)
    if rules is not None:
        conditions.append(rules)
    candidates = sa.select(Customer.id.label("customer_id")).where(*conditions)
    room = capacity_left(session, journey)
    added = len(
        insert_enrollments(
            session, actor, journey, candidates, now=now, source="trigger:scheduled", limit=room
        )
    )
    if room is None or added < room:
        # Everyone due was taken: this period is done. A full journey tries again next tick.
        _moved(mark, period.toordinal(), added, now)
    elif added:
        _moved(mark, mark.position, added, now)
    return added


def waited_events(session: Session) -> list[str]:
    """The event types some active journey's wait step waits for, plus those
    that end a task or touchpoint wait."""
    named = session.scalars(
        sa.select(JourneyStep.wait_until_event)
        .distinct()
        .join(Journey, Journey.id == JourneyStep.journey_id)
        .where(JourneyStep.wait_until_event.is_not(None))
    ).all()
    return sorted(set(_WAKING) | set(named))


def wake(session: Session, *, now: dt.datetime) -> int:
    """Make due now the sleeping enrollments of customers for whom a waking
    event came since the last tick (their step then looks again, and sleeps
    on if it was not what it waits for). Returns how many."""
    horizon = dialect.event_horizon(session)
    mark = cursor(session, WAKE, now=now)
    if mark.position >= horizon:
        return 0
    customers = (
        sa.select(DomainEvent.customer_id)
        .where(
            DomainEvent.id > mark.position,
            DomainEvent.id <= horizon,
            DomainEvent.event_type.in_(waited_events(session)),
            DomainEvent.customer_id.is_not(None),
        )
        .distinct()
    )
    woken = session.execute(
        sa.update(_enrollments)
        .where(
            _enrollments.c.status == EnrollmentStatus.ACTIVE.value,
            _enrollments.c.next_run_at > now,
            _enrollments.c.customer_id.in_(customers),
        )
        .values(next_run_at=now)
    ).rowcount
    _moved(mark, horizon, woken or 0, now)
    return woken or 0


def sweep_criteria(session: Session, actor: Actor, *, now: dt.datetime) -> int:
    """At most once an hour, check goals and exit criteria of the sleeping
    enrollments of journeys that have them (the tick checks those it
    advances every time), and end those that met them. Returns how many ended.

    Where the criteria have rules, only enrollments of customers the rules
    match are read (one query per journey): the sweep costs what it finds,
    not the size of the journey."""
    mark = cursor(session, SWEEP, now=now, start=0)
    hour = int(now.timestamp() // _SWEEP_EVERY.total_seconds())
    if mark.position >= hour:
        return 0
    _moved(mark, hour, 0, now)
    programs = Programs(session)
    e = _enrollments
    ended = 0
    touched = []
    for journey in session.scalars(sa.select(Journey).where(Journey.goal.is_not(None))).all():
        program = programs.get(journey.id, journey.version)
        narrowing = [_narrowing(session, c, now) for c in (program.goal, program.exit_when) if c is not None]
        if any(n is None for n in narrowing):
            candidates = sa.true()  # a criterion without rules: every sleeping enrollment may meet it
        else:
            candidates = sa.or_(*narrowing)
        last = 0
        while True:
            stmt = (
                sa.select(*LIVE_COLUMNS)
                .where(
                    e.c.journey_id == journey.id,
                    e.c.status == EnrollmentStatus.ACTIVE.value,
                    e.c.next_run_at > now,  # the due ones are checked as they are advanced
                    e.c.id > last,
                    candidates,
                )
                .order_by(e.c.id)
                .limit(2000)
            )
            lives = lock_lives(session, stmt)
            if not lives:
                break
            last = lives[-1].id
            batch = Batch(session, actor, now, programs)
            check_criteria(batch, lives)
            if batch.ended:
                write(batch, batch.ended)
                ended += len(batch.ended)
                touched.append(journey.id)
    if touched:
        from cs_cli.services.journeys.metrics import refresh_journeys

        refresh_journeys(session, sorted(set(touched)), now=now)
    return ended


def _narrowing(session: Session, criteria: Any, now: dt.datetime) -> sa.ColumnElement[bool] | None:
    """A condition on enrollments that every enrollment meeting `criteria`
    satisfies (its customer matches the rules), or None when the criteria
    have no rules to narrow by."""
    if criteria.rules is None:
        return None
    from cs_cli.rules import compile_rule, parse_document

    rule = compile_rule(parse_document(criteria.rules), dialect=dialect.name(session), as_of=now.date())
    return _enrollments.c.customer_id.in_(rule.customer_ids())
