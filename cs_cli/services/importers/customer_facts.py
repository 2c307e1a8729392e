"""What a customers import does to the customers' history: each import is a
snapshot of the book taken at the import's moment (`cs import --as-of`, else
now), and the facts it changes get a new version in force from then.

A snapshot older than facts already recorded for a customer (monthly exports
imported newest first, or an old one found later) goes into the history at
its own moment and leaves the customer's current row alone: today's values
stay today's. Each batch costs a fixed number of statements.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import Customer, CustomerHistory
from cs_cli.enums import CustomerStatus
from cs_cli.services.facts import FACTS, record_facts

_CHUNK = 900


def newer_known(session: Session, keys: list[str], moment: dt.datetime) -> set[str]:
    """The external ids among `keys` with facts recorded as in force after `moment`."""
    c, h = Customer.__table__, CustomerHistory.__table__
    found: set[str] = set()
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        found.update(
            session.scalars(
                sa.select(c.c.external_id)
                .join(h, h.c.customer_id == c.c.id)
                .where(c.c.external_id.in_(chunk), h.c.effective_at > moment)
                .distinct()
            )
        )
    return found


def after_upsert(session: Session, keys: list[str], *, moment: dt.datetime, recorded_at: dt.datetime) -> None:
    """Customers written by the batch: a churned customer without a churn
    moment churned at the snapshot's, and a version for each whose facts
    changed."""
    c = Customer.__table__
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        session.execute(
            sa.update(c)
            .where(
                c.c.external_id.in_(chunk),
                c.c.status == CustomerStatus.CHURNED.value,
                c.c.churned_at.is_(None),
            )
            .values(churned_at=moment)
        )
        record_facts(session, c.c.external_id.in_(chunk), effective_at=moment, recorded_at=recorded_at)


def backdate(
    session: Session,
    rows: list[dict[str, Any]],
    columns: set[str],
    *,
    moment: dt.datetime,
    recorded_at: dt.datetime,
) -> int:
    """Put the snapshot of `rows` (customers with later facts known) into
    their history at `moment`: the version in force then (else the first),
    with the file's `columns` laid over it. Returns the versions added."""
    c, h = Customer.__table__, CustomerHistory.__table__
    by_key = {r["external_id"]: r for r in rows}
    ids = dict(
        session.execute(sa.select(c.c.external_id, c.c.id).where(c.c.external_id.in_(list(by_key)))).all()
    )
    versions: dict[int, list[Any]] = {}
    for version in session.execute(
        sa.select(h).where(h.c.customer_id.in_(list(ids.values()))).order_by(h.c.effective_at, h.c.id)
    ):
        versions.setdefault(version.customer_id, []).append(version)
    added = []
    for key, row in by_key.items():
        known = versions[ids[key]]
        in_force = [v for v in known if v.effective_at <= moment]
        base = (in_force[-1] if in_force else known[0])._mapping
        facts = {name: base[name] for name in FACTS}
        for name in FACTS:
            if name == "attributes" and "attributes" in columns:
                facts[name] = {**(base[name] or {}), **(row.get("attributes") or {})}
            elif name in columns:
                facts[name] = row.get(name)
        if facts["status"] == CustomerStatus.CHURNED and facts["churned_at"] is None:
            facts["churned_at"] = moment
        if any(_differs(facts[name], base[name]) for name in FACTS):
            added.append(
                {"customer_id": ids[key], "effective_at": moment, "recorded_at": recorded_at, **facts}
            )
    if added:
        session.execute(sa.insert(h), added)
    return len(added)


def _differs(ours: Any, theirs: Any) -> bool:
    plain = getattr(ours, "value", ours), getattr(theirs, "value", theirs)
    return plain[0] != plain[1]
