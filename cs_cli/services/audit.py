"""The audit trail: who changed or read what, kept for compliance (plan 9.2).

Entries are only ever added. Each one carries a number (`seq`, no gaps) and
a SHA-256 hash of its content and of the previous entry's hash: a chain.
Changing, inserting or deleting an entry with SQL breaks the chain at that
point, and `verify` names it. On PostgreSQL a trigger also refuses UPDATE,
DELETE and TRUNCATE of the log (migration 0011); the chain is what catches
someone who can get round the trigger (a superuser, the owner of an SQLite
file).

Writers of the chain take turns: each transaction that adds entries locks
the one row of cs_audit_head (the last number and hash) until it commits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.models import AuditEntry, AuditHead
from cs_cli.domain import Actor

# The hash before the first entry.
GENESIS = "0" * 64
# The command line being run, set once by the command-line face, so each
# entry says what made it.
COMMAND: ContextVar[str | None] = ContextVar("cs_command", default=None)
# Columns an entry's hash covers, in this order (with the previous hash).
HASHED = (
    "seq",
    "occurred_at",
    "actor_user_id",
    "actor_name",
    "action",
    "entity_type",
    "entity_id",
    "customer_id",
    "details",
    "command",
)


def audit(
    session: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: int | str | None,
    *,
    at: dt.datetime,
    customer_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Record one change (or read) made by `actor`."""
    audit_many(session, actor, [(action, entity_type, entity_id, customer_id, details)], at=at)


def record_read(
    session: Session,
    actor: Actor,
    what: str,
    *,
    customer_id: int | None = None,
    entity_type: str = "customer",
    entity_id: int | str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Record that `actor` read customer data (`read.WHAT`): one entry a
    command, not a row."""
    from cs_cli.db.base import utcnow

    ident = entity_id if entity_id is not None else customer_id
    audit(
        session,
        actor,
        f"read.{what}",
        entity_type,
        ident,
        at=utcnow(),
        customer_id=customer_id,
        details=details,
    )


def audit_many(
    session: Session,
    actor: Actor,
    entries: Iterable[tuple[str, str, int | str | None, int | None, dict[str, Any] | None]],
    *,
    at: dt.datetime,
) -> int:
    """Record several entries (action, entity type, entity id, customer id,
    details) at once: one statement for all of them. Returns how many."""
    pending = list(entries)
    if not pending:
        return 0
    seq, last = _take_head(session)
    rows = []
    for action, entity_type, entity_id, customer_id, details in pending:
        seq += 1
        row = {
            "seq": seq,
            "occurred_at": at,
            "actor_user_id": actor.user_id,
            "actor_name": actor.name,
            "action": action,
            "entity_type": entity_type,
            "entity_id": None if entity_id is None else str(entity_id),
            "customer_id": customer_id,
            # As the database will give it back: JSON types only.
            "details": None if details is None else json.loads(json.dumps(details, default=str)),
            "command": _command(),
            "impersonated_by": actor.impersonated_by,
            "prev_hash": last,
        }
        row["hash"] = last = entry_hash(row)
        rows.append(row)
    session.execute(sa.insert(AuditEntry.__table__), rows)
    session.execute(sa.update(AuditHead.__table__).where(AuditHead.id == 1).values(seq=seq, last_hash=last))
    return len(rows)


def _take_head(session: Session) -> tuple[int, str]:
    """Lock the chain's head for this transaction; its last number and hash.
    An UPDATE, not a SELECT: it takes the row lock on PostgreSQL (waiting for
    another writer to commit, then reading what it wrote) and the write
    lock on SQLite."""
    head = AuditHead.__table__
    take = (
        sa.update(head).where(head.c.id == 1).values(seq=head.c.seq).returning(head.c.seq, head.c.last_hash)
    )
    row = session.execute(take).first()
    if row is None:  # a database emptied by hand: the chain starts again
        session.execute(
            dialect.insert_for(session, head)
            .values(id=1, seq=0, last_hash=GENESIS)
            .on_conflict_do_nothing(index_elements=["id"])
        )
        row = session.execute(take).one()
    return int(row[0]), str(row[1])


def _command() -> str | None:
    command = COMMAND.get()
    return None if command is None else command[:500]


def entry_hash(row: dict[str, Any]) -> str:
    """SHA-256 of an entry's previous hash and content, in a canonical form
    (sorted keys, UTC times to the microsecond), so the same entry read back
    from either database hashes the same."""
    content = [row["prev_hash"], *(_canonical(name, row[name]) for name in HASHED)]
    # Added later: covered when present, so entries made before it hash
    # as they did.
    if row.get("impersonated_by") is not None:
        content.append({"impersonated_by": row["impersonated_by"]})
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(name: str, value: Any) -> Any:
    if name == "occurred_at" and isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if name in ("seq", "actor_user_id", "customer_id") and value is not None:
        return int(value)
    return value


@dataclass(frozen=True)
class ChainBreak:
    """Where the chain first fails: the entry (by number) and what is wrong."""

    seq: int | None
    entry_id: int | None
    problem: str


def verify(session: Session, batch: int = 5_000) -> tuple[int, ChainBreak | None]:
    """Walk the chain in order: how many entries hold, and the first break
    (an entry whose content no longer gives its hash: edited; a number
    missing: deleted; a previous hash that is not the one before: inserted
    or reordered; entries without a number, or a head that is not the last
    entry: added or cut off behind cs's back). Reads in batches."""
    checked = 0
    expected_seq, previous = 1, GENESIS
    for row in _entries(session, batch):
        if row["seq"] is None:
            return checked, ChainBreak(None, row["id"], "an entry outside the chain (no number): inserted")
        if row["seq"] != expected_seq:
            what = "deleted" if row["seq"] > expected_seq else "out of order"
            missing = (
                f"entries {expected_seq} to {row['seq'] - 1} missing" if row["seq"] > expected_seq else ""
            )
            return checked, ChainBreak(row["seq"], row["id"], f"{missing or 'number out of order'}: {what}")
        if row["prev_hash"] != previous:
            return checked, ChainBreak(row["seq"], row["id"], "does not follow the entry before it: inserted")
        if entry_hash(row) != row["hash"]:
            return checked, ChainBreak(row["seq"], row["id"], "its content does not match its hash: edited")
        previous = row["hash"]
        expected_seq += 1
        checked += 1
    head = session.execute(sa.select(AuditHead.seq, AuditHead.last_hash).where(AuditHead.id == 1)).first()
    if head is not None and (int(head.seq), head.last_hash) != (expected_seq - 1, previous):
        return checked, ChainBreak(
            int(head.seq),
            None,
            f"the chain ends at entry {expected_seq - 1}, its head says {head.seq}: deleted",
        )
    return checked, None


def _entries(session: Session, batch: int) -> Iterator[dict[str, Any]]:
    """Every entry, in chain order (entries without a number last), in batches."""
    table = AuditEntry.__table__
    columns = [
        table.c.id,
        table.c.prev_hash,
        table.c.hash,
        table.c.impersonated_by,
        *(table.c[name] for name in HASHED),
    ]
    last_seq = 0
    while True:
        rows = session.execute(
            sa.select(*columns).where(table.c.seq > last_seq).order_by(table.c.seq).limit(batch)
        ).all()
        for row in rows:
            yield row._asdict()
        if len(rows) < batch:
            break
        last_seq = rows[-1].seq
    for row in session.execute(sa.select(*columns).where(table.c.seq.is_(None)).order_by(table.c.id)):
        yield row._asdict()
