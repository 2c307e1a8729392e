"""Putting messages in the outbox: validated, once per idempotency key."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.models import OutboxMessage
from cs_cli.domain import Enqueued, OutboxChannel, OutboxStatus
from cs_cli.domain.outbound import url_problem
from cs_cli.errors import BadInput

# Printable ASCII without spaces: the key goes into a header as it is.
_KEY = re.compile(r"[\x21-\x7e]{1,200}")
_ADDRESS = re.compile(r"[^@\s<>,;\"()\[\]\\]+@[^@\s<>,;\"()\[\]\\]+\.[^@\s<>,;\"()\[\]\\]+")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}")
_PAYLOAD_KEYS = {
    OutboxChannel.EMAIL: ({"text"}, {"text", "html", "headers", "from"}),
    OutboxChannel.WEBHOOK: ({"url", "body"}, {"url", "body", "headers", "timeout"}),
    OutboxChannel.IN_APP: ({"message"}, None),  # any other keys travel with the message
}


@dataclass(frozen=True)
class NewMessage:
    """A message to put in the outbox (see `enqueue` for the payloads)."""

    channel: OutboxChannel
    idempotency_key: str
    recipient: str
    subject: str | None
    payload: dict[str, Any]
    customer_id: int | None = None
    contact_id: int | None = None


def enqueue(
    session: Session,
    *,
    channel: OutboxChannel,
    idempotency_key: str,
    recipient: str,
    subject: str | None,
    payload: dict[str, Any],
    customer_id: int | None = None,
    contact_id: int | None = None,
    now: dt.datetime,
) -> Enqueued:
    """Put one message in the outbox, due now; a message already there under
    the same idempotency key is left as it is and returned (created=False).

    Payloads: email {"text", "html"?, "headers"?, "from"?}; webhook {"url",
    "body" (any JSON), "headers"?}; in_app {"message", ...} (the whole payload
    is posted to the in-app endpoint). Raises BadInput for what could never
    be sent."""
    message = NewMessage(channel, idempotency_key, recipient, subject, payload, customer_id, contact_id)
    row = _row(message, now)
    table = OutboxMessage.__table__
    new_id = session.scalar(dialect.insert_ignoring(session, table).values(**row).returning(table.c.id))
    if new_id is not None:
        return Enqueued(new_id, row["idempotency_key"], OutboxStatus.PENDING, created=True)
    existing = session.execute(
        sa.select(table.c.id, table.c.status).where(table.c.idempotency_key == row["idempotency_key"])
    ).one()
    return Enqueued(existing.id, row["idempotency_key"], OutboxStatus(existing.status), created=False)


def enqueue_many(session: Session, messages: Sequence[NewMessage], *, now: dt.datetime) -> int:
    """Put many messages in the outbox at once (copied to a scratch table,
    then one INSERT ... SELECT); keys already there are skipped. Returns how
    many were added."""
    return enqueue_rows(session, [_row(m, now) for m in messages])


def enqueue_rows(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """enqueue_many for messages already checked by `prepare`."""
    if not rows:
        return 0
    table = OutboxMessage.__table__
    columns = list(rows[0])
    staged = dialect.scratch_table(
        session,
        "cs_new_outbox",
        [sa.Column(c, _SCRATCH_TYPES.get(c, table.c[c].type)) for c in columns],
        [tuple(r[c] for c in columns) for r in rows],
    )
    # WHERE true: SQLite would read ON CONFLICT as a join's ON.
    stmt = (
        dialect.insert_ignoring(session, table)
        .from_select(columns, sa.select(*(staged.c[c] for c in columns)).where(sa.true()))
        .returning(table.c.id)
    )
    return len(session.execute(stmt).all())


# Enum columns go through the scratch table as their text.
_SCRATCH_TYPES = {"channel": sa.String(20), "status": sa.String(20)}


def prepare(message: NewMessage, now: dt.datetime) -> dict[str, Any]:
    """The message checked and made the row `enqueue_rows` writes; BadInput
    if it could never be sent (what enqueue would refuse)."""
    return _row(message, now)


def _row(m: NewMessage, now: dt.datetime) -> dict[str, Any]:
    channel = OutboxChannel(m.channel)
    key = m.idempotency_key
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise BadInput(f"idempotency key {str(key)[:60]!r}: 1-200 printable ASCII characters without spaces")
    what = f"outbox {channel.value} message {key}"
    payload = m.payload
    if not isinstance(payload, dict):
        raise BadInput(f"{what}: the payload must be a mapping")
    required, allowed = _PAYLOAD_KEYS[channel]
    missing = sorted(required - set(payload))
    if missing:
        raise BadInput(f"{what}: the payload lacks {', '.join(missing)}")
    if allowed is not None and set(payload) - allowed:
        unknown = sorted(set(payload) - allowed)
        raise BadInput(f"{what}: unknown payload key {unknown[0]!r} (known: {', '.join(sorted(allowed))})")
    recipient = (m.recipient or "").strip()
    subject = m.subject
    if channel == OutboxChannel.EMAIL:
        recipient = recipient.lower()
        _check_email(what, recipient, subject, payload)
    elif channel == OutboxChannel.WEBHOOK:
        url = payload["url"]
        if not isinstance(url, str) or len(url) > 2000 or (problem := url_problem(url)):
            why = "longer than 2000 characters" if isinstance(url, str) and len(url) > 2000 else problem
            raise BadInput(f"{what}: 'url' must be an http:// or https:// URL ({why or 'not text'})")
        timeout = payload.get("timeout")
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 60
        ):
            raise BadInput(f"{what}: 'timeout' must be a number of seconds, more than 0 and at most 60")
        recipient = recipient or url
    elif not recipient:
        raise BadInput(f"{what}: no recipient")
    _check_headers(what, payload.get("headers"))
    if subject is not None and (not isinstance(subject, str) or len(subject) > 500):
        raise BadInput(f"{what}: the subject must be text of at most 500 characters")
    if len(recipient) > 500:
        raise BadInput(f"{what}: the recipient is longer than 500 characters")
    try:
        text = json.dumps(payload, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise BadInput(f"{what}: the payload is not JSON: {exc}") from None
    if "\\u0000" in text or "\x00" in recipient or (subject and "\x00" in subject):
        raise BadInput(f"{what}: NUL characters cannot be stored")
    return {
        "channel": channel,
        "idempotency_key": key,
        "status": OutboxStatus.PENDING,
        "recipient": recipient,
        "subject": subject,
        "payload": payload,
        "customer_id": m.customer_id,
        "contact_id": m.contact_id,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def _check_email(what: str, recipient: str, subject: str | None, payload: dict[str, Any]) -> None:
    if not _ADDRESS.fullmatch(recipient) or len(recipient) > 320:
        raise BadInput(f"{what}: {recipient!r} is not an email address")
    if not subject or not isinstance(subject, str):
        raise BadInput(f"{what}: an email needs a subject")
    if "\r" in subject or "\n" in subject:
        raise BadInput(f"{what}: the subject has a line break")
    for part in ("text", "html", "from"):
        if part in payload and payload[part] is not None and not isinstance(payload[part], str):
            raise BadInput(f"{what}: '{part}' must be text")
    if not (payload.get("text") or "").strip():
        raise BadInput(f"{what}: the plain-text part is empty")
    sender = payload.get("from")
    if sender and ("\r" in sender or "\n" in sender or "@" not in sender):
        raise BadInput(f"{what}: 'from' must be an email address")


def _check_headers(what: str, headers: Any) -> None:
    if headers is None:
        return
    if not isinstance(headers, dict):
        raise BadInput(f"{what}: 'headers' must be a mapping of names to text")
    for name, value in headers.items():
        if not _HEADER_NAME.fullmatch(str(name)):
            raise BadInput(f"{what}: {str(name)[:60]!r} is not a header name")
        if not isinstance(value, str | int) or "\r" in str(value) or "\n" in str(value):
            raise BadInput(f"{what}: header {name} must be one line of text")
