"""`cs automation run`: apply the rules to the domain event log.

Each rule keeps a durable cursor (cs_event_cursors, consumer
"automation:<rule>"): the id of the last event it has read. A run reads the
event horizon first (dialect.event_horizon: no event below it can still
appear), locks the rules' cursors (a second run at the same moment waits,
then finds nothing left), and for each rule reads its events after the
cursor up to the horizon in batches, acting on each batch with a fixed
number of statements and moving the cursor in the same transaction. So each
event is acted on once per rule, and a replay acts on nothing twice; the
one-open-alert and one-active-run indexes and the outbox's idempotency keys
guard the effects as well.

The daily renewal scan (scan_renewals) records customer.renewal_within once
per customer and renewal date; `run_job` runs it, in its own transaction,
before the rules, so the renewal rule acts on it in the same run.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.models import Customer, DomainEvent, EventCursor
from cs_cli.domain import Actor, AutomationRun, CustomerStatus, Role, RuleOutcome
from cs_cli.services import events
from cs_cli.services.access import require_role
from cs_cli.services.automation import actions
from cs_cli.services.automation.config import check_rules, cursor_name, enabled
from cs_cli.specs.automation import LoadedRules, Rule

RENEWAL_EVENT = "customer.renewal_within"


def run_automation(
    session: Session,
    actor: Actor,
    rules: LoadedRules,
    *,
    as_of: dt.date,
    now: dt.datetime,
    batch_size: int = 10_000,
) -> AutomationRun:
    """Act on the events each enabled rule has not read yet, up to the event
    horizon, and move the rules' cursors there (admins and cron)."""
    require_role(actor, Role.ADMIN, doing="running automation")
    # Before anything is written in this transaction (see event_horizon).
    horizon = dialect.event_horizon(session)
    playbooks = check_rules(session, rules)
    active = enabled(rules)
    cursors = _claim(session, [r.name for r in active], now)
    outcomes = []
    for rule in active:
        max_age = rule.max_event_age_days or rules.spec.max_event_age_days
        outcomes.append(
            _run_rule(
                session,
                actor,
                rules,
                rule,
                cursors[rule.name],
                horizon,
                playbooks=playbooks,
                oldest=now - dt.timedelta(days=max_age),
                as_of=as_of,
                now=now,
                batch_size=batch_size,
            )
        )
    session.flush()
    return AutomationRun(horizon=horizon, renewal_events=0, rules=outcomes)


def run_job(
    engine: sa.Engine, actor: Actor, rules: LoadedRules, *, as_of: dt.date, now: dt.datetime
) -> AutomationRun:
    """The whole job for cron: the renewal scan, committed, then the rules
    (each in its own transaction)."""
    from cs_cli.db.engine import transaction

    with transaction(engine) as session:
        found = scan_renewals(session, actor, days=rules.spec.renewal_within_days, as_of=as_of, now=now)
    with transaction(engine) as session:
        result = run_automation(session, actor, rules, as_of=as_of, now=now)
    return AutomationRun(horizon=result.horizon, renewal_events=found, rules=result.rules)


def scan_renewals(session: Session, actor: Actor, *, days: int, as_of: dt.date, now: dt.datetime) -> int:
    """Record customer.renewal_within (data: renewal_date, days_to_renewal)
    for each active customer whose renewal date is within `days` of `as_of`,
    once per customer and renewal date (0 days: nothing). Returns how many."""
    require_role(actor, Role.ADMIN, doing="scanning renewals")
    if days <= 0:
        return 0
    e = DomainEvent
    renewal_text = sa.cast(Customer.renewal_date, sa.String)
    recorded = sa.exists().where(
        e.event_type == RENEWAL_EVENT,
        e.customer_id == Customer.id,
        e.data["renewal_date"].as_string() == renewal_text,
    )
    data = dialect.json_object(
        session,
        {
            "renewal_date": renewal_text,
            "days_to_renewal": dialect.days_until(session, Customer.renewal_date, as_of),
        },
    )
    source = sa.select(Customer.id, data).where(
        Customer.status == CustomerStatus.ACTIVE,
        Customer.renewal_date >= as_of,
        Customer.renewal_date <= as_of + dt.timedelta(days=days),
        ~recorded,
    )
    return events.record_from_select(session, actor, RENEWAL_EVENT, source, occurred_at=now) or 0


def _claim(session: Session, names: list[str], now: dt.datetime) -> dict[str, EventCursor]:
    """The rules' cursors, created at the start of the log when new, and
    locked until the transaction ends (Postgres; SQLite has one writer)."""
    if not names:
        return {}
    table = EventCursor.__table__
    session.execute(
        dialect.insert_ignoring(session, table),
        [{"consumer": cursor_name(n), "position": 0, "updated_at": now, "acted_count": 0} for n in names],
    )
    rows = session.scalars(
        sa.select(EventCursor)
        .where(EventCursor.consumer.in_([cursor_name(n) for n in names]))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    by_consumer = {c.consumer: c for c in rows}
    return {n: by_consumer[cursor_name(n)] for n in names}


def _next_stop(session: Session, rule: Rule, after: int, horizon: int, batch_size: int) -> int:
    """The id of the batch_size-th event of the rule's types after `after`
    (the horizon when fewer are left): batches follow the rule's events,
    however sparse they are in the log."""
    e = DomainEvent
    stop = session.scalar(
        sa.select(e.id)
        .where(e.event_type.in_(rule.events), e.id > after, e.id <= horizon)
        .order_by(e.id)
        .offset(batch_size - 1)
        .limit(1)
    )
    return horizon if stop is None else stop


def _run_rule(
    session: Session,
    actor: Actor,
    rules: LoadedRules,
    rule: Rule,
    cursor: EventCursor,
    horizon: int,
    *,
    playbooks,
    oldest: dt.datetime,
    as_of: dt.date,
    now: dt.datetime,
    batch_size: int,
) -> RuleOutcome:
    totals = {"events": 0, "acted": 0, "alerts": 0, "runs": 0, "tasks": 0, "messages": 0}
    position = cursor.position
    while position < horizon:
        stop = _next_stop(session, rule, position, horizon, batch_size)
        batch = actions.Batch(rule=rule, after=position, upto=stop, oldest=oldest)
        done = actions.apply(session, actor, rules, batch, playbooks=playbooks, as_of=as_of, now=now)
        for key, value in done.items():
            totals[key] += value
        position = stop
        cursor.position = stop
        cursor.updated_at = now
        if done["acted"]:
            cursor.acted_count += done["acted"]
            cursor.last_acted_at = now
    session.flush()
    return RuleOutcome(rule=rule.name, **totals)
