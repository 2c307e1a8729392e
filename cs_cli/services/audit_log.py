"""Reading the audit trail: a filtered listing (newest first), one entry,
and every entry oldest first for an export. Admins only: the trail names
every customer and every person's work."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TextIO

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.base import UTCDateTime
from cs_cli.db.models import AuditEntry, Customer
from cs_cli.domain import Actor, AuditRow, Role
from cs_cli.errors import NotFound, NotPermitted
from cs_cli.services.facts import day_end, day_start


@dataclass(frozen=True)
class AuditFilter:
    since: dt.date | None = None
    until: dt.date | None = None
    actor: str | None = None  # a name or email, as recorded
    action: str | None = None  # exact, or a prefix ending in '.' ("task.")
    entity: str | None = None  # a type, or type:id
    customer: str | None = None  # external id


def check_reader(actor: Actor) -> None:
    if actor.role != Role.ADMIN:
        raise NotPermitted("the audit trail is for admins")


def _conditions(session: Session, filters: AuditFilter) -> list[sa.ColumnElement[bool]]:
    a = AuditEntry
    out: list[sa.ColumnElement[bool]] = []
    if filters.since:
        out.append(a.occurred_at >= sa.literal(day_start(filters.since), UTCDateTime()))
    if filters.until:
        out.append(a.occurred_at < sa.literal(day_end(filters.until), UTCDateTime()))
    if filters.actor:
        out.append(sa.func.lower(a.actor_name) == filters.actor.lower())
    if filters.action:
        if filters.action.endswith("."):
            out.append(a.action.startswith(filters.action, autoescape=True))
        else:
            out.append(a.action == filters.action)
    if filters.entity:
        kind, _, ident = filters.entity.partition(":")
        out.append(a.entity_type == kind)
        if ident:
            out.append(a.entity_id == ident)
    if filters.customer:
        found = session.scalar(sa.select(Customer.id).where(Customer.external_id == filters.customer))
        if found is None:
            raise NotFound(f"no customer {filters.customer!r}")
        out.append(a.customer_id == found)
    return out


def _select() -> sa.Select:
    a = AuditEntry
    return sa.select(
        a.seq,
        a.occurred_at,
        a.actor_name,
        a.action,
        a.entity_type,
        a.entity_id,
        Customer.external_id,
        a.customer_id,
        a.details,
        a.command,
        a.hash,
        a.prev_hash,
    ).outerjoin(Customer, Customer.id == a.customer_id)


def _row(r) -> AuditRow:
    return AuditRow(*r)


def entries(
    session: Session, actor: Actor, filters: AuditFilter, *, limit: int | None, offset: int = 0
) -> tuple[list[AuditRow], int]:
    """The entries of the filters, newest first, and how many there are."""
    check_reader(actor)
    where = _conditions(session, filters)
    total = session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(*where)) or 0
    stmt = _select().where(*where).order_by(AuditEntry.seq.desc().nulls_last(), AuditEntry.id.desc())
    stmt = stmt.offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [_row(r) for r in session.execute(stmt)], int(total)


def entry(session: Session, actor: Actor, seq: int) -> AuditRow:
    check_reader(actor)
    row = session.execute(_select().where(AuditEntry.seq == seq)).first()
    if row is None:
        raise NotFound(f"no audit entry {seq}")
    return _row(row)


def every_entry(
    session: Session, actor: Actor, filters: AuditFilter, batch: int = 5_000
) -> Iterator[AuditRow]:
    """The entries of the filters, oldest first, read in batches (the whole
    trail never sits in memory)."""
    check_reader(actor)
    where = _conditions(session, filters)
    last = 0
    while True:
        rows = session.execute(
            _select().where(*where, AuditEntry.seq > last).order_by(AuditEntry.seq).limit(batch)
        ).all()
        yield from (_row(r) for r in rows)
        if len(rows) < batch:
            return
        last = rows[-1].seq


EXPORT_FIELDS = (
    "seq",
    "occurred_at",
    "actor",
    "action",
    "entity_type",
    "entity_id",
    "customer",
    "customer_id",
    "details",
    "command",
    "prev_hash",
    "hash",
)


def write_export(out: TextIO, rows: Iterable[AuditRow], fmt: str) -> int:
    """Write entries to `out` as JSON lines or CSV (details as JSON text);
    returns how many."""
    count = 0
    writer = None
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(EXPORT_FIELDS)
    for row in rows:
        record = {name: getattr(row, name) for name in EXPORT_FIELDS}
        record["occurred_at"] = row.occurred_at.isoformat()
        if writer is None:
            out.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        else:
            details = None if row.details is None else json.dumps(row.details, ensure_ascii=False)
            writer.writerow(["" if v is None else v for v in {**record, "details": details}.values()])
        count += 1
    return count
