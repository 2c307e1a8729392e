"""`import_file`: read one file, validate every row, resolve references and
write in batches inside the caller's transaction.

Without `skip_invalid` the first bad row raises a FileError (file:line:column)
and, since nothing is committed here, nothing from the file is written. With
it, good rows are written and each rejected row goes to the `on_reject` sink.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from operator import itemgetter
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.models import ImportRun, Team, User
from cs_cli.domain import Actor, Role
from cs_cli.errors import BadInput, FileError
from cs_cli.services import events
from cs_cli.services.access import is_placeholder_email, require_role
from cs_cli.services.importers import customer_facts
from cs_cli.services.importers.entities import ENTITIES, EntitySpec, Field
from cs_cli.services.importers.events import load_events
from cs_cli.services.importers.expressions import Expression, ExpressionError
from cs_cli.services.importers.implied import implied_events, prior_values
from cs_cli.services.importers.mapping import ImportMap
from cs_cli.services.importers.reading import SourceFormat, detect_format, file_sha256, open_source
from cs_cli.services.importers.values import attribute

# Keys looked up per statement when resolving references (well under every
# database's bound-parameter limit).
_LOOKUP_CHUNK = 900


@dataclass(frozen=True)
class Reject:
    line: int
    column: str | None
    reason: str
    record: Any


@dataclass(frozen=True)
class ImportResult:
    entity: str
    file: str
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    # Customers whose snapshot went into their history only (later facts
    # were known already): versions added.
    backdated: int = 0
    already_imported_at: dt.datetime | None = None
    warnings: tuple[str, ...] = ()

    @property
    def written(self) -> int:
        return self.created + self.updated


@dataclass
class _Column:
    """How one field or attribute is read from a record."""

    name: str
    label: str  # the column as the file names it, for messages
    position: int  # 1-based position in the header
    get: Callable[[Any], Any]
    field: Field | None = None
    value_map: dict[str, Any] | None = None
    computed: bool = False  # from an expression of the map file, not read as it is


@dataclass
class _Pending:
    line: int
    row: dict[str, Any]
    record: Any


@dataclass
class _Counts:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    backdated: int = 0


@dataclass
class _Import:
    session: Session
    spec: EntitySpec
    path: Path
    fmt: SourceFormat
    columns: list[_Column]
    attributes: list[_Column]
    now: dt.datetime
    skip_invalid: bool
    on_reject: Callable[[Reject], None] | None
    actor: Actor = field(default_factory=Actor.system)
    recorded_at: dt.datetime | None = None
    counts: _Counts = field(default_factory=_Counts)
    ref_cache: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    seen_keys: dict[Any, int] = field(default_factory=dict)
    seen_logins: dict[str, int] = field(default_factory=dict)
    managers: list[tuple[int, str, str, str]] = field(default_factory=list)
    # The file's own column names, so that a rejected CSV row keeps them.
    header: list[str] = field(default_factory=list)

    # -- errors -------------------------------------------------------------

    def where(self, column: _Column | None) -> str | int | None:
        if column is None:
            return None
        return column.position if self.fmt == SourceFormat.CSV else column.label

    def fail(self, line: int, column: _Column | None, reason: str, record: Any) -> None:
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
            try:
                raw = column.get(record)
            except ExpressionError as exc:
                self.fail(line, column, f"{column.label}: {exc}", record)
                return None
            if raw is not None and column.value_map is not None:
                raw = column.value_map.get(raw if isinstance(raw, str) else str(raw), raw)
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
                try:
                    raw = column.get(record)
                except ExpressionError as exc:
                    self.fail(line, column, f"{column.label}: {exc}", record)
                    return None
                if raw is not None and column.value_map is not None:
                    raw = column.value_map.get(raw if isinstance(raw, str) else str(raw), raw)
                # Empty cells are nulls, and a null attribute is no attribute.
                if not _blank(raw):
                    attrs[column.name] = attribute(raw)
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

    def column(self, name: str) -> _Column | None:
        return next((c for c in self.columns if c.name == name), None)

    # -- references -----------------------------------------------------------

    def resolve(self, batch: list[_Pending]) -> list[_Pending]:
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

    def flush(self, batch: list[_Pending]) -> None:
        if self.spec.name == "users":
            batch = self._prepare_users(batch)
        batch = self.resolve(batch)
        if not batch:
            return
        table = self.spec.model.__table__
        rows = [self._insert_values(p.row) for p in batch]
        update = [c for c in rows[0] if c in self.updatable]
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

    def _prepare_users(self, batch: list[_Pending]) -> list[_Pending]:
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

    def _claim_logins(self, batch: list[_Pending]) -> list[_Pending]:
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


def _computing(expression: Expression, header: list[str], fmt: SourceFormat) -> Callable[[Any], Any]:
    """A getter that computes the expression over one record."""
    if fmt == SourceFormat.CSV:
        index = {name: i for i, name in enumerate(header)}
        return lambda record: expression.evaluate(lambda name: record[index[name]])
    return lambda record: expression.evaluate(record.get)


def _plan(spec: EntitySpec, header: list[str], mapping: ImportMap, fmt: SourceFormat, path: Path):
    """Decide, once per file, which column feeds which field."""
    columns: list[_Column] = []
    attributes: list[_Column] = []
    ignored: list[str] = []
    by_field: dict[str, _Column] = {}
    computed = {spec.aliases.get(name, name): name for name in mapping.computed}
    for index, source in enumerate(header):
        target = mapping.target(source)
        if target is None:
            continue
        target = spec.aliases.get(target, target)
        if target in computed:
            continue  # the computed field takes this column's place
        getter = itemgetter(index) if fmt == SourceFormat.CSV else (lambda r, k=source: r.get(k))
        where = index + 1 if fmt == SourceFormat.CSV else source
        field_spec = spec.field(target)
        if field_spec is not None:
            if target in by_field:
                other = by_field[target].label
                raise FileError(str(path), 1, where, f"columns '{other}' and '{source}' both feed '{target}'")
            column = _Column(target, source, index + 1, getter, field_spec, mapping.value_map(target))
            by_field[target] = column
            columns.append(column)
        elif spec.extra_to_attributes:
            attributes.append(_Column(target, source, index + 1, getter, None, mapping.value_map(target)))
        else:
            ignored.append(source)
    for target, name in computed.items():
        expression = mapping.computed[name]
        map_file, line = mapping.computed_at.get(name, (str(path), None))
        unknown = [c for c in expression.columns if c not in header]
        if unknown:
            raise FileError(
                map_file,
                line,
                None,
                f"computed.{name}: the file {path.name} has no column '{unknown[0]}'"
                f" (it has: {', '.join(header)})",
            )
        getter = _computing(expression, header, fmt)
        field_spec = spec.field(target)
        # Errors point at the first column the expression reads.
        first = header.index(expression.columns[0]) + 1 if expression.columns else 1
        column = _Column(target, f"{name} (computed)", first, getter, field_spec, None, computed=True)
        if field_spec is not None:
            by_field[target] = column
            columns.append(column)
        elif spec.extra_to_attributes:
            attributes.append(column)
        else:
            raise FileError(map_file, line, None, f"computed.{name}: {spec.name} have no field '{name}'")
    missing = [f.name for f in spec.fields if f.required and f.name not in by_field]
    if missing:
        raise FileError(
            str(path),
            1,
            None,
            f"missing required column{'s' if len(missing) > 1 else ''} {', '.join(repr(m) for m in missing)}"
            + (" (rename yours with --map)" if header else ""),
        )
    warnings = []
    if ignored:
        warnings.append(f"ignored columns that {spec.name} do not have: {', '.join(ignored)}")
    return columns, attributes, warnings


def import_file(
    session: Session,
    actor: Actor,
    entity: str,
    path: Path,
    *,
    now: dt.datetime,
    fmt: SourceFormat | None = None,
    mapping: ImportMap | None = None,
    skip_invalid: bool = False,
    on_reject: Callable[[Reject], None] | None = None,
    batch_size: int = 10_000,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
    recorded_at: dt.datetime | None = None,
) -> ImportResult:
    """Validate and write one file of `entity` rows; upsert by natural key,
    or append (events). Writes nothing when a row is bad, unless skip_invalid.
    Customer facts take effect at `now` (the snapshot's moment) and are
    recorded at `recorded_at` (default: `now`)."""
    require_role(actor, Role.ADMIN, doing="importing")
    spec = ENTITIES.get(entity)
    if spec is None:
        raise BadInput(f"cannot import '{entity}' (choose from: {', '.join(ENTITIES)})")
    fmt = detect_format(path, fmt)
    if not path.is_file():
        raise BadInput(f"{path}: no such file")
    digest = file_sha256(path)
    if spec.key is None and not force:
        # Append-only rows have no key to upsert on: the same file twice
        # would count every event twice, so a file is imported once.
        earlier = session.scalar(
            sa.select(ImportRun.created_at)
            .where(ImportRun.entity == entity, ImportRun.file_sha256 == digest, ImportRun.rows_written > 0)
            .order_by(ImportRun.id)
            .limit(1)
        )
        if earlier is not None:
            return ImportResult(entity=entity, file=str(path), already_imported_at=earlier)

    source = open_source(path, fmt)
    try:
        columns, attributes, warnings = _plan(spec, source.columns, mapping or ImportMap(), fmt, path)
        job = _Import(
            session,
            spec,
            path,
            fmt,
            columns,
            attributes,
            now,
            skip_invalid,
            on_reject,
            actor,
            recorded_at or now,
            header=list(source.columns),
        )
        if spec.key is None:
            load_events(job, source, batch_size, progress)
        else:
            for lines, records in source.batches(batch_size):
                batch = []
                for line, record in zip(lines, records, strict=True):
                    row = job.convert(line, record)
                    if row is not None:
                        batch.append(_Pending(line, row, record))
                job.counts.read += len(records)
                job.flush(batch)
                if progress:
                    progress(source.bytes_read)
            job.link_managers()
    finally:
        source.close()

    counts = job.counts
    session.add(
        ImportRun(
            entity=entity,
            file_name=path.name,
            file_sha256=digest,
            rows_read=counts.read,
            rows_written=counts.created + counts.updated,
            rows_rejected=counts.rejected,
            actor_name=actor.name,
            created_at=now,
        )
    )
    session.flush()
    return ImportResult(
        entity=entity,
        file=str(path),
        rows_read=counts.read,
        created=counts.created,
        updated=counts.updated,
        unchanged=counts.unchanged,
        rejected=counts.rejected,
        backdated=counts.backdated,
        warnings=tuple(warnings),
    )
