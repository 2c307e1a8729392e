"""Delivery: claim the messages that are due, batch by batch, apply the rules
(quiet hours, the email cap), send each through its channel and record what
came of it.

Sends leave the machine, so unlike other services this one owns its
transactions: each batch is claimed, sent and recorded in one transaction
that is committed as soon as the batch is sent. On Postgres the claim locks
the batch's rows and skips rows other deliverers hold (FOR UPDATE SKIP
LOCKED), so several `cs outbox deliver` share the work and none sends what
another is sending; a deliverer killed mid-batch loses its locks with its
connection, and the next one sends the batch again (at-least-once: the
idempotency key travels in the Message-ID and Webhook-Id headers so that
receivers can drop the duplicate). On SQLite a batch holds the write lock,
so deliverers take turns.

Within a batch, messages are sent `connections` at a time from a thread pool
(an SMTP connection per thread): a send mostly waits on the other side, and
a mail relay a few milliseconds away would otherwise set the pace alone.
Everything else (claim, rules, outcomes, the record) stays on the calling
thread, in the batch's order.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from cs_cli.channels import Channel, Envelope, Outcome, one_line
from cs_cli.db import dialect
from cs_cli.db.engine import transaction
from cs_cli.db.models import Contact, Customer, OutboxMessage
from cs_cli.domain import DeliveryReport, OutboxChannel, OutboxStatus
from cs_cli.services.outbox.rules import DeliveryRules, RetryPolicy, cap_frees_at, quiet_until, zone

DUE = (OutboxStatus.PENDING, OutboxStatus.FAILED, OutboxStatus.HELD)
# Channels that reach a person: quiet hours apply to them.
TO_PEOPLE = (OutboxChannel.EMAIL, OutboxChannel.IN_APP)
# Advisory lock class ("oc") of the email cap: one lock per recipient, so two
# deliverers never both see room under a recipient's cap.
_CAP_LOCK = 28515
_SENT_EMAIL = "status = 'sent' AND channel = 'email'"  # the cap index's predicate, word for word

_table = OutboxMessage.__table__
# How long a message held for missing configuration waits before it is
# looked at again: the cadence of the delivering cron job.
CONFIG_RECHECK = dt.timedelta(minutes=5)


def deliver(
    engine: Engine,
    channels: Mapping[OutboxChannel, Channel],
    *,
    rules: DeliveryRules,
    policy: RetryPolicy,
    now: dt.datetime,
    clock: Callable[[], dt.datetime] | None = None,
    limit: int | None = None,
    batch: int = 100,
    connections: int = 1,
    rng: random.Random | None = None,
) -> DeliveryReport:
    """Send the messages due at `now` (pending, failed or held, next attempt
    at or before `now`), at most `limit`: sent (sent_at), failed (last_error,
    next attempt after a backoff), dead (after the last attempt, or at once
    for what no retry can help) or held (quiet hours, email cap: next attempt
    when they end). `clock` stamps sends (default: `now`); `connections`
    messages are sent at once; `rng` draws the jitter (seed it for tests)."""
    clock = clock or (lambda: now)
    rng = rng or random.Random()
    counts: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    done = 0
    with ThreadPoolExecutor(max_workers=connections, thread_name_prefix="cs-send") as pool:
        while limit is None or done < limit:
            size = batch if limit is None else min(batch, limit - done)
            with transaction(engine) as session:
                claimed = _claim(session, now, size)
                if not claimed:
                    break
                results = _work(session, claimed, channels, rules, policy, clock, rng, pool)
                _record(session, results)
            for result in results:
                counts[result["b_status"].value] += 1
                if result["b_status"] in (OutboxStatus.FAILED, OutboxStatus.DEAD) and result["reason"]:
                    reasons[result["reason"]] += 1
            done += len(claimed)
            if len(claimed) < size:
                break
    return DeliveryReport(
        sent=counts["sent"],
        failed=counts["failed"],
        held=counts["held"],
        dead=counts["dead"],
        reasons=dict(reasons.most_common()),
    )


def _claim(session: Session, now: dt.datetime, size: int) -> list[Any]:
    t = _table
    stmt = (
        sa.select(
            t.c.id,
            t.c.channel,
            t.c.idempotency_key,
            t.c.recipient,
            t.c.subject,
            t.c.payload,
            t.c.customer_id,
            t.c.contact_id,
            t.c.attempts,
            t.c.last_error,
        )
        .where(t.c.status.in_(DUE), t.c.next_attempt_at <= now)
        .limit(size)
    )
    return list(session.execute(dialect.claim(session, stmt, t)).all())


def _work(
    session: Session,
    claimed: list[Any],
    channels: Mapping[OutboxChannel, Channel],
    rules: DeliveryRules,
    policy: RetryPolicy,
    clock: Callable[[], dt.datetime],
    rng: random.Random,
    pool: ThreadPoolExecutor,
) -> list[dict[str, Any]]:
    zones = _zones(session, claimed, rules)
    recent = _recent_sends(session, claimed, rules, clock())
    results: list[dict[str, Any] | None] = []
    sends: list[tuple[int, Any, dt.datetime]] = []
    for row in claimed:
        at = clock()
        held = _hold(row, rules, zones, recent, at)
        if held is not None:
            until, why = held
            results.append(_result(row, OutboxStatus.HELD, row.attempts, until, row.last_error, why, None))
            continue
        if row.channel == OutboxChannel.EMAIL:
            # Counted against the cap before it goes: a second email to the
            # same person in this batch is held as if this one were sent
            # (at worst a message waits for nothing when this send fails).
            recent[row.recipient].insert(0, at)
        sends.append((len(results), row, at))
        results.append(None)
    outcomes = pool.map(lambda send: _send(channels.get(send[1].channel), send[1], send[2]), sends)
    for (index, row, at), outcome in zip(sends, outcomes, strict=True):
        results[index] = _after(row, outcome, at, policy, rng)
    return [r for r in results if r is not None]


def _after(
    row: Any, outcome: Outcome, at: dt.datetime, policy: RetryPolicy, rng: random.Random
) -> dict[str, Any]:
    """What a send came to: sent, failed with its next attempt, or dead."""
    if outcome.kind == "held":
        # Waiting for cs's own configuration is not an attempt: looked at
        # again on a later run (cron's), never given up on.
        return _result(
            row, OutboxStatus.HELD, row.attempts, at + CONFIG_RECHECK, row.last_error, outcome.reason, None
        )
    attempts = row.attempts + 1
    if outcome.kind == "sent":
        return _result(row, OutboxStatus.SENT, attempts, None, row.last_error, None, at)
    if outcome.kind == "retry" and attempts < policy.max_attempts:
        wait = policy.delay(attempts, rng)
        if outcome.retry_after is not None:
            wait = max(wait, dt.timedelta(seconds=outcome.retry_after))
        return _result(row, OutboxStatus.FAILED, attempts, at + wait, outcome.reason, None, None)
    reason = outcome.reason or "failed"
    if outcome.kind == "retry":
        reason = f"{reason} (gave up after {attempts} attempts)"
    return _result(row, OutboxStatus.DEAD, attempts, None, reason, None, None)


def _send(channel: Channel | None, row: Any, at: dt.datetime) -> Outcome:
    if channel is None:
        return Outcome.held(f"no {row.channel.value} channel in this delivery run")
    envelope = Envelope(
        id=row.id,
        key=row.idempotency_key,
        recipient=row.recipient,
        subject=row.subject,
        payload=row.payload or {},
        customer_id=row.customer_id,
        contact_id=row.contact_id,
    )
    try:
        return channel.send(envelope, at)
    except Exception as exc:  # a bug in one message must not stop the others
        return Outcome.retry(f"unexpected {type(exc).__name__}: {one_line(exc)}")


def _hold(
    row: Any,
    rules: DeliveryRules,
    zones: Mapping[str, Any],
    recent: Mapping[str, list[dt.datetime]],
    at: dt.datetime,
) -> tuple[dt.datetime, str] | None:
    """(until when, why) when the rules hold this message back now."""
    if row.channel in TO_PEOPLE and rules.quiet_hours is not None:
        name = zones["contact"].get(row.contact_id) or zones["customer"].get(row.customer_id)
        tz = zone(name, rules.default_timezone)
        until = quiet_until(rules.quiet_hours, tz, at)
        if until is not None:
            local = until.astimezone(tz)
            return until, f"quiet hours {rules.quiet_text} {tz.key}: until {local:%Y-%m-%d %H:%M} local"
    if _capped(row) and rules.email_cap > 0:
        frees = cap_frees_at(recent[row.recipient], rules.email_cap, rules.email_cap_period)
        if frees is not None:
            period = _span(rules.email_cap_period)
            return frees, (
                f"email cap: {rules.email_cap} sent to this recipient within {period}; "
                f"until {frees:%Y-%m-%d %H:%M} UTC"
            )
    return None


def _capped(row: Any) -> bool:
    """The email cap protects customers' contacts from automated mail;
    mail to the team's own people (alerts, reminders, a CSM's copy) is not capped."""
    return row.channel == OutboxChannel.EMAIL and row.contact_id is not None


def _zones(session: Session, claimed: list[Any], rules: DeliveryRules) -> dict[str, dict[int, str | None]]:
    """Time zones of the contacts and customers of messages to people."""
    zones: dict[str, dict[int, str | None]] = {"contact": {}, "customer": {}}
    if rules.quiet_hours is None:
        return zones
    people = [r for r in claimed if r.channel in TO_PEOPLE]
    contact_ids = {r.contact_id for r in people if r.contact_id is not None}
    customer_ids = {r.customer_id for r in people if r.customer_id is not None}
    if contact_ids:
        zones["contact"] = dict(
            session.execute(sa.select(Contact.id, Contact.timezone).where(Contact.id.in_(contact_ids))).all()
        )
    if customer_ids:
        zones["customer"] = dict(
            session.execute(
                sa.select(Customer.id, Customer.timezone).where(Customer.id.in_(customer_ids))
            ).all()
        )
    return zones


def _recent_sends(
    session: Session, claimed: list[Any], rules: DeliveryRules, at: dt.datetime
) -> defaultdict[str, list[dt.datetime]]:
    """Each email recipient's sends within the cap period, newest first (at
    most the cap's number of them). On Postgres, first takes each recipient's
    lock until the batch is committed, in one order, so that deliverers
    running at once count each other's sends."""
    recent: defaultdict[str, list[dt.datetime]] = defaultdict(list)
    recipients = sorted({r.recipient for r in claimed if _capped(r)})
    if rules.email_cap <= 0 or not recipients:
        return recent
    if dialect.is_postgres(session):
        session.execute(
            sa.text(
                "SELECT pg_advisory_xact_lock(:lock_class, h) FROM "
                "(SELECT DISTINCT hashtext(r) AS h FROM unnest(CAST(:recipients AS text[])) AS u(r)) AS s "
                "ORDER BY h"
            ),
            {"lock_class": _CAP_LOCK, "recipients": recipients},
        )
    t = _table
    ranked = (
        sa.select(
            t.c.recipient,
            t.c.sent_at,
            sa.func.row_number().over(partition_by=t.c.recipient, order_by=t.c.sent_at.desc()).label("n"),
        )
        .where(sa.text(_SENT_EMAIL), t.c.recipient.in_(recipients), t.c.sent_at > at - rules.email_cap_period)
        .subquery()
    )
    rows = session.execute(
        sa.select(ranked.c.recipient, ranked.c.sent_at)
        .where(ranked.c.n <= rules.email_cap)
        .order_by(ranked.c.recipient, ranked.c.sent_at.desc())
    ).all()
    for recipient, sent_at in rows:
        recent[recipient].append(sent_at)
    return recent


def _result(
    row: Any,
    status: OutboxStatus,
    attempts: int,
    next_attempt_at: dt.datetime | None,
    last_error: str | None,
    held_reason: str | None,
    sent_at: dt.datetime | None,
) -> dict[str, Any]:
    return {
        "b_id": row.id,
        "b_status": status,
        "b_attempts": attempts,
        "b_next": next_attempt_at,
        "b_error": last_error,
        "b_held": held_reason,
        "b_sent": sent_at,
        "reason": last_error if status in (OutboxStatus.FAILED, OutboxStatus.DEAD) else None,
    }


def _record(session: Session, results: list[dict[str, Any]]) -> None:
    t = _table
    stmt = (
        sa.update(t)
        .where(t.c.id == sa.bindparam("b_id"))
        .values(
            status=sa.bindparam("b_status"),
            attempts=sa.bindparam("b_attempts"),
            next_attempt_at=sa.bindparam("b_next"),
            last_error=sa.bindparam("b_error"),
            held_reason=sa.bindparam("b_held"),
            sent_at=sa.bindparam("b_sent"),
        )
    )
    session.execute(stmt, [{k: v for k, v in r.items() if k != "reason"} for r in results])


def _span(period: dt.timedelta) -> str:
    seconds = int(period.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
