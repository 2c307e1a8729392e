"""The domain events imported rows imply: a new customer, one that churned, a
champion who left, a ticket that was escalated. Worked out per batch from the
rows and what the database held just before the batch was written, so a
re-import of the same file implies nothing new."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

# The columns whose earlier values decide whether a row says something new.
WATCHED: dict[str, tuple[str, ...]] = {
    "customers": ("status",),
    "contacts": ("is_champion", "left_at"),
    "tickets": ("escalated",),
}

# (event type, customer id, when, data)
Implied = tuple[str, int, dt.datetime, dict[str, Any]]


def prior_values(
    session: Session, entity: str, table: sa.Table, key: str, keys: list[Any]
) -> dict[Any, dict[str, Any]]:
    """The watched columns of the rows that already exist, by key."""
    columns = WATCHED.get(entity)
    if not columns or not keys:
        return {}
    found: dict[Any, dict[str, Any]] = {}
    for start in range(0, len(keys), 900):
        chunk = keys[start : start + 900]
        stmt = sa.select(table.c[key], *(table.c[c] for c in columns)).where(table.c[key].in_(chunk))
        for row in session.execute(stmt):
            found[row[0]] = dict(zip(columns, row[1:], strict=True))
    return found


def implied_events(
    session: Session,
    entity: str,
    table: sa.Table,
    key: str,
    rows: list[dict[str, Any]],
    prior: dict[Any, dict[str, Any]],
    changed: set[Any],
    *,
    now: dt.datetime,
) -> list[Implied]:
    """The events of the rows that were inserted or changed in this batch."""
    if entity not in WATCHED:
        return []
    written = [r for r in rows if r[key] in changed]
    if entity == "customers":
        return _customers(session, table, written, prior, now)
    found: list[Implied] = []
    for row in written:
        before = prior.get(row[key])
        if entity == "contacts" and _champion_left(row, before):
            data = {"contact": row.get("external_id"), "name": row.get("name"), "email": row.get("email")}
            found.append(("contact.champion_left", row["customer_id"], row["left_at"], data))
        if entity == "tickets" and row.get("escalated") and (before is None or not before["escalated"]):
            when = row.get("escalated_at") or row.get("opened_at") or now
            data = {"ticket": row.get("external_id"), "priority": _text(row.get("priority"))}
            found.append(("ticket.escalated", row["customer_id"], when, data))
    return found


def _champion_left(row: dict[str, Any], before: dict[str, Any] | None) -> bool:
    """A champion with a leaving date that was not there (or not a champion's) before."""
    if not (row.get("is_champion") and row.get("left_at")):
        return False
    return before is None or before["left_at"] is None or not before["is_champion"]


def _customers(
    session: Session,
    table: sa.Table,
    written: list[dict[str, Any]],
    prior: dict[Any, dict[str, Any]],
    now: dt.datetime,
) -> list[Implied]:
    created = [r for r in written if r["external_id"] not in prior]
    churned = [
        r
        for r in written
        if _text(r.get("status")) == "churned"
        and (r["external_id"] not in prior or _text(prior[r["external_id"]]["status"]) != "churned")
    ]
    wanted = [r["external_id"] for r in created + churned]
    if not wanted:
        return []
    ids: dict[str, int] = {}
    for start in range(0, len(wanted), 900):
        chunk = wanted[start : start + 900]
        stmt = sa.select(table.c.external_id, table.c.id).where(table.c.external_id.in_(chunk))
        ids.update((external_id, row_id) for external_id, row_id in session.execute(stmt))
    found: list[Implied] = [
        (
            "customer.created",
            ids[r["external_id"]],
            now,
            {"external_id": r["external_id"], "name": r.get("name")},
        )
        for r in created
    ]
    found += [
        (
            "customer.churned",
            ids[r["external_id"]],
            r.get("churned_at") or now,
            {"external_id": r["external_id"]},
        )
        for r in churned
    ]
    return found


def _text(value: Any) -> str | None:
    return None if value is None else str(getattr(value, "value", value))
