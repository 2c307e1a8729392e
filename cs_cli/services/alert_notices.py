"""Who hears of a risk alert, by the notify preference of the customer's CSM:
immediate (one email per new alert), daily_digest (one email a day listing
the alerts of the day before, in their time zone) or none. Every email goes
through the outbox under a key that makes it once-only."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.models import Alert, Customer, User
from cs_cli.domain import NotifyPreference
from cs_cli.services.access import PLACEHOLDER_DOMAIN
from cs_cli.services.outbox.enqueue import NewMessage, enqueue_many
from cs_cli.services.outbox.rules import zone

# A digest lists this many alerts, then says how many more there are.
DIGEST_LIMIT = 100


def _reachable(preference: NotifyPreference) -> sa.ColumnElement[bool]:
    return sa.and_(
        User.is_active,
        User.notify_preference == preference,
        ~User.email.endswith(f"@{PLACEHOLDER_DOMAIN}", autoescape=True),
    )


def _line(row) -> str:
    return f"[{row.severity.value}] {row.name} ({row.external_id}): {row.title}"


def notify_new(session: Session, alert_ids: Sequence[int], *, now: dt.datetime) -> int:
    """Email each new alert to its customer's CSM when their preference is
    immediate (key alert:ID:USER). Returns the emails put in the outbox."""
    if not alert_ids:
        return 0
    new = dialect.scratch_table(
        session, "cs_notify_alerts", [sa.Column("alert_id", sa.Integer)], [(i,) for i in alert_ids]
    )
    rows = session.execute(
        sa.select(
            Alert.id,
            Alert.severity,
            Alert.title,
            Alert.reason,
            Customer.external_id,
            Customer.name,
            User.id.label("user_id"),
            User.email,
        )
        .join(new, new.c.alert_id == Alert.id)
        .join(Customer, Customer.id == Alert.customer_id)
        .join(User, User.id == Customer.csm_id)
        .where(_reachable(NotifyPreference.IMMEDIATE))
    )
    messages: list[NewMessage] = []
    for row in rows:
        text = (
            f"{_line(row)}\n\n{row.reason or ''}\n\n"
            f"See it with `cs alerts show {row.id}`; acknowledge it with `cs alerts ack {row.id}`.\n"
        )
        messages.append(
            NewMessage(
                channel="email",
                idempotency_key=f"alert:{row.id}:{row.user_id}",
                recipient=row.email,
                subject=f"[{row.severity.value}] {row.name}: {row.title}"[:500],
                payload={"text": text},
            )
        )
    return enqueue_many(session, messages, now=now)


def send_digests(session: Session, *, now: dt.datetime) -> int:
    """For each CSM whose preference is daily_digest: one email listing the
    alerts raised on their customers during the day before `now`, in the
    user's time zone (key alert-digest:USER:DAY); nothing on a day without
    alerts. One query per time zone in use. Returns the emails added."""
    users = session.execute(
        sa.select(User.id, User.email, User.timezone).where(_reachable(NotifyPreference.DAILY_DIGEST))
    ).all()
    by_zone: dict[str, list] = defaultdict(list)
    for user in users:
        by_zone[zone(user.timezone, "UTC").key].append(user)
    messages: list[NewMessage] = []
    for zone_name, members in by_zone.items():
        tz = zone(zone_name, "UTC")
        day = now.astimezone(tz).date() - dt.timedelta(days=1)
        start = dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(dt.UTC)
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz).astimezone(dt.UTC)
        emails = {u.id: u.email for u in members}
        listed: dict[int, list] = defaultdict(list)
        for start_at in range(0, len(members), 1000):
            ids = [u.id for u in members[start_at : start_at + 1000]]
            rows = session.execute(
                sa.select(
                    Alert.id,
                    Alert.severity,
                    Alert.title,
                    Customer.external_id,
                    Customer.name,
                    Customer.csm_id,
                )
                .join(Customer, Customer.id == Alert.customer_id)
                .where(Customer.csm_id.in_(ids), Alert.raised_at >= start, Alert.raised_at < end)
                .order_by(Customer.csm_id, Alert.severity.desc(), Alert.id)
            )
            for row in rows:
                listed[row.csm_id].append(row)
        for user_id, alerts in listed.items():
            shown = sorted(alerts, key=lambda r: (_RANK[r.severity], r.id))[:DIGEST_LIMIT]
            lines = [f"{_line(r)}  (cs alerts show {r.id})" for r in shown]
            if len(alerts) > len(shown):
                lines.append(f"... and {len(alerts) - len(shown)} more: cs alerts list --status open")
            count = len(alerts)
            messages.append(
                NewMessage(
                    channel="email",
                    idempotency_key=f"alert-digest:{user_id}:{day.isoformat()}",
                    recipient=emails[user_id],
                    subject=f"{count} risk alert{'s' if count != 1 else ''} on {day.isoformat()}",
                    payload={
                        "text": f"Risk alerts raised on {day.isoformat()}:\n\n" + "\n".join(lines) + "\n"
                    },
                )
            )
    return enqueue_many(session, messages, now=now)


_RANK = {"critical": 0, "warning": 1, "info": 2}
