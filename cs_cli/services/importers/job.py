"""One import in progress: how each column is read, the counts, the caches
of references already looked up, and how a row is converted, rejected and
written. `runner.import_file` plans it and drives it; the usage events'
fast path (events.py) drives it too, which is why it lives apart from both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.models import Team, User
from cs_cli.domain import Actor, SentimentSource
from cs_cli.errors import FileError
from cs_cli.services import events
from cs_cli.services.access import is_placeholder_email
from cs_cli.services.importers import customer_facts
from cs_cli.services.importers.entities import EntitySpec, Field
from cs_cli.services.importers.expressions import ExpressionError
from cs_cli.services.importers.implied import implied_events, prior_values
from cs_cli.services.importers.reading import SourceFormat
from cs_cli.services.importers.values import attribute
from cs_cli.services.text.reading import COLUMNS as TEXT_COLUMNS
from cs_cli.services.text.reading import read_record
from cs_cli.services.text.sentiment import Analyser, analyser_for

TEXT_ENTITIES = ("touchpoints", "tickets")

_FAILED = object()  # a value that could not be read: the row is rejected
# Keys looked up per statement when resolving references (well under every
# database's bound-parameter limit).
_LOOKUP_CHUNK = 900


@dataclass(frozen=True)
class Reject:
    line: int
    column: str | None
    reason: str
    record: Any


@dataclass
class Column:
    """How one field or attribute is read from a record."""

    name: str
    label: str  # the column as the file names it, for messages
    position: int  # 1-based position in the header
    get: Callable[[Any], Any]
    field: Field | None = None
    value_map: dict[str, Any] | None = None
    computed: bool = False  # from an expression of the map file, not read as it is


@dataclass
class Pending:
    line: int
    row: dict[str, Any]
    record: Any


@dataclass
class Counts:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    backdated: int = 0


@dataclass
class ImportJob:
    session: Session
    spec: EntitySpec
    path: Path
    fmt: SourceFormat
    columns: list[Column]
    attributes: list[Column]
    now: dt.datetime
    skip_invalid: bool
    on_reject: Callable[[Reject], None] | None
    actor: Actor = field(default_factory=Actor.system)
    recorded_at: dt.datetime | None = None
    counts: Counts = field(default_factory=Counts)
    ref_cache: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    seen_keys: dict[Any, int] = field(default_factory=dict)
    seen_logins: dict[str, int] = field(default_factory=dict)
    managers: list[tuple[int, str, str, str]] = field(default_factory=list)
    # The file's own column names, so that a rejected CSV row keeps them.
    header: list[str] = field(default_factory=list)
    # Reads the text of touchpoints and tickets (docs/text.md); the shipped
    # lexicon's when the caller gives none.
    analyser: Analyser | None = None

    # -- errors -------------------------------------------------------------

    def where(self, column: Column | None) -> str | int | None:
        if column is None:
            return None
        return column.position if self.fmt == SourceFormat.CSV else column.label

    def fail(self, line: int, column: Column | None, reason: str, record: Any) -> None:
        """Reject the row, or stop the import, as the caller asked."""
        if not self.skip_invalid:
            raise FileError(str(self.path), line, self.where(column), reason)
        self.counts.rejected += 1
        if self.on_reject is not None:
            if isinstance(record, list) and self.header:
                record = dict(zip(self.header, record, strict=False))
            self.on_reject(Reject(line, column.label if column else None, reason, record))

    # -- rows ---------------------------------------------------------------

    def convert(self, line: int, record: Any) -> dict[str, Any] | None:
        row: dict[str, Any] = {}
        for column in self.columns:
            raw = self.read(line, column, record)
            if raw is _FAILED:
                return None
            if _blank(raw):
                if column.field.required:
                    self.fail(line, column, f"{column.name}: a value is required", record)
                    return None
                row[column.name] = None
                continue
            try:
                row[column.name] = column.field.convert(raw)
            except ValueError as exc:
                self.fail(line, column, f"{column.name}: {exc}", record)
                return None
        if self.attributes or (self.spec.extra_to_attributes and self.fmt == SourceFormat.JSONL):
            attrs = {}
            for column in self.attributes:
                raw = self.read(line, column, record)
                if raw is _FAILED:
                    return None
                # Empty cells are nulls, and a null attribute is no attribute.
                if _blank(raw):
                    continue
                try:
                    attrs[column.name] = attribute(raw)
                except ValueError as exc:
                    self.fail(line, column, f"{column.name}: {exc}", record)
                    return None
            row["attributes"] = attrs
        key = self.spec.key
        if key is not None:
            value = row.get(key)
            first = self.seen_keys.get(value)
            if first is not None:
                self.fail(
                    line, self.column(key), f"duplicate {key} {value!r} (first on line {first})", record
                )
                return None
            self.seen_keys[value] = line
        return row

    def read(self, line: int, column: Column, record: Any) -> Any:
        """The column's value in the record, its value map applied; _FAILED
        (the row rejected) when a computed column cannot be computed."""
        try:
            raw = column.get(record)
        except ExpressionError as exc:
            self.fail(line, column, f"{column.label}: {exc}", record)
            return _FAILED
        if raw is not None and column.value_map is not None:
            raw = column.value_map.get(raw if isinstance(raw, str) else str(raw), raw)
        return raw

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    # -- references -----------------------------------------------------------

    def resolve(self, batch: list[Pending]) -> list[Pending]:
        """Replace natural keys (external ids, emails) by database ids."""
        for column in self.columns:
            ref = column.field.ref
            if ref is None:
                continue
            cache = self.ref_cache.setdefault((ref.model.__tablename__, ref.key), {})
            wanted = {p.row[column.name] for p in batch if p.row.get(column.name) is not None} - cache.keys()
            self._lookup(ref.model, ref.key, wanted, cache)
            kept = []
            for pending in batch:
                value = pending.row.pop(column.name)
                if value is None:
                    pending.row[ref.column] = None
                elif value in cache:
                    pending.row[ref.column] = cache[value]
                else:
                    self.fail(pending.line, column, f"unknown {ref.what} {value!r}", pending.record)
                    continue
                kept.append(pending)
            batch = kept
        return batch

    def _lookup(self, model: Any, key: str, wanted: set[str], cache: dict[str, int | None]) -> None:
        key_column = getattr(model, key)
        ordered = sorted(wanted)
        for start in range(0, len(ordered), _LOOKUP_CHUNK):
            chunk = ordered[start : start + _LOOKUP_CHUNK]
            for natural, row_id in self.session.execute(
                sa.select(key_column, model.id).where(key_column.in_(chunk))
            ):
                cache[natural] = row_id

    # -- writing ------------------------------------------------------------

    def flush(self, batch: list[Pending]) -> None:
        if self.spec.name == "users":
            batch = self._prepare_users(batch)
        batch = self.resolve(batch)
        if not batch:
            return
        table = self.spec.model.__table__
        rows = [self._insert_values(p.row) for p in batch]
        update = [c for c in rows[0] if c in self.updatable]
        if self.spec.name in TEXT_ENTITIES:
            rows = [self._read_text(r) for r in rows]
            # Who set a sentiment is written on insert only: an export of
            # cs's own readings imported back changes nothing.
            update += [c for c in TEXT_COLUMNS if c not in update and c != "sentiment_source"]
        key = self.spec.key
        if self.spec.name == "customers":
            rows = self._backdate(rows)
            if not rows:
                return
        keys = [r[key] for r in rows]
        existing = self._existing(table, key, keys)
        prior = prior_values(self.session, self.spec.name, table, key, keys)
        changed = dialect.upsert(
            self.session,
            table,
            rows,
            key=key,
            update=update,
            merge_json=("attributes",) if "attributes" in update else (),
            touch={"updated_at": self.now} if "updated_at" in table.c else None,
        )
        self.counts.created += len(changed - existing)
        self.counts.updated += len(changed & existing)
        self.counts.unchanged += len(keys) - len(changed)
        if self.spec.name == "customers":
            customer_facts.after_upsert(self.session, keys, moment=self.now, recorded_at=self.recorded_at)
        implied = implied_events(self.session, self.spec.name, table, key, rows, prior, changed, now=self.now)
        events.record_rows(self.session, self.actor, implied)

    def _read_text(self, row: dict[str, Any]) -> dict[str, Any]:
        """The row with its sentiment and key topics; what the file gives wins."""
        label, score = row.get("sentiment_label"), row.get("sentiment_score")
        given = label is not None or score is not None
        values = read_record(
            self.analyser or analyser_for(),
            row.get("subject"),
            row.get("description"),
            label=label,
            score=score,
            source=SentimentSource.GIVEN if given else None,
        )
        if row.get("key_topics") is not None:
            values["key_topics"] = row["key_topics"]
        return row | values

    def _backdate(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Customers whose facts are known from after this import's moment
        go into their history only; the others are written as usual."""
        later = customer_facts.newer_known(self.session, [r["external_id"] for r in rows], self.now)
        if not later:
            return rows
        older = [r for r in rows if r["external_id"] in later]
        self.counts.backdated += customer_facts.backdate(
            self.session, older, self.updatable, moment=self.now, recorded_at=self.recorded_at
        )
        self.counts.unchanged += len(older)
        return [r for r in rows if r["external_id"] not in later]

    @cached_property
    def updatable(self) -> set[str]:
        """Columns a re-import may change: those the file actually has."""
        names = {c.field.column for c in self.columns} - {self.spec.key}
        names.discard("team")
        names.discard("manager_email")
        if self.spec.name == "users" and self.column("team") is not None:
            names.add("team_id")
        if self.attributes or (self.spec.extra_to_attributes and self.fmt == SourceFormat.JSONL):
            names.add("attributes")
        return names

    def _insert_values(self, row: dict[str, Any]) -> dict[str, Any]:
        values = dict(row)
        if self.spec.name == "customers" and not values.get("name"):
            values["name"] = values["external_id"]
        if self.spec.name == "users" and not values.get("name"):
            values["name"] = values.get("login") or values["email"].split("@", 1)[0]
        # Columns without a value in this file fall back to model defaults on insert.
        return {k: v for k, v in values.items() if v is not None or k in self.updatable}

    def _existing(self, table: sa.Table, key: str, keys: list[Any]) -> set[Any]:
        found: set[Any] = set()
        for start in range(0, len(keys), _LOOKUP_CHUNK):
            chunk = keys[start : start + _LOOKUP_CHUNK]
            found.update(self.session.scalars(sa.select(table.c[key]).where(table.c[key].in_(chunk))))
        return found

    # -- users: teams by name, managers after the whole file ------------------

    def _prepare_users(self, batch: list[Pending]) -> list[Pending]:
        teams = self.ref_cache.setdefault(("teams", "name"), {})
        wanted = {p.row["team"] for p in batch if p.row.get("team")} - teams.keys()
        self._lookup(Team, "name", wanted, teams)
        for name in sorted(wanted - teams.keys()):
            teams[name] = self.session.execute(
                sa.insert(Team).values(name=name, created_at=self.now).returning(Team.id)
            ).scalar_one()
        batch = self._claim_logins(batch)
        for pending in batch:
            team = pending.row.pop("team", None)
            if self.column("team") is not None:
                pending.row["team_id"] = teams[team] if team else None
            manager = pending.row.pop("manager_email", None)
            if manager:
                column = self.column("manager_email")
                self.managers.append((pending.line, pending.row["email"], manager, column.label))
        return batch

    def _claim_logins(self, batch: list[Pending]) -> list[Pending]:
        """Logins are unique: reject a login that another user has (or that
        appeared earlier in the file), except the first admin's placeholder."""
        column = self.column("login")
        if column is None:
            return batch
        kept, by_login = [], {}
        for pending in batch:
            login = pending.row.get("login")
            if login is None:
                kept.append(pending)
                continue
            first = self.seen_logins.setdefault(login, pending.line)
            if first != pending.line:
                self.fail(
                    pending.line, column, f"duplicate login {login!r} (first on line {first})", pending.record
                )
                continue
            by_login[login] = pending
            kept.append(pending)
        if not by_login:
            return kept
        users = User.__table__
        taken = self.session.execute(
            sa.select(users.c.id, users.c.login, users.c.email).where(users.c.login.in_(list(by_login)))
        ).all()
        rejected = set()
        for user_id, login, email in taken:
            pending = by_login[login]
            if email == pending.row["email"]:
                continue
            if is_placeholder_email(email):
                self.session.execute(
                    sa.update(users).where(users.c.id == user_id).values(email=pending.row["email"])
                )
                continue
            self.fail(pending.line, column, f"login {login!r} already belongs to {email}", pending.record)
            rejected.add(id(pending))
        return [p for p in kept if id(p) not in rejected]

    def link_managers(self) -> None:
        if not self.managers:
            return
        users = self.ref_cache.setdefault(("api_users", "email"), {})
        self._lookup(User, "email", {m for _, _, m, _ in self.managers} - users.keys(), users)
        updates = []
        for line, email, manager, _label in self.managers:
            if manager not in users:
                self.fail(line, self.column("manager_email"), f"unknown manager {manager!r}", None)
                continue
            updates.append({"e": email, "m": users[manager]})
        if updates:
            users_table = User.__table__
            self.session.connection().execute(
                sa.update(users_table)
                .where(
                    users_table.c.email == sa.bindparam("e"),
                    users_table.c.manager_id.is_distinct_from(sa.bindparam("m")),
                )
                .values(manager_id=sa.bindparam("m")),
                updates,
            )


def _blank(raw: Any) -> bool:
    """An empty cell: nothing, or only spaces (exports pad missing numbers)."""
    return raw is None or (isinstance(raw, str) and not raw.strip())
