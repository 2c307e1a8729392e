"""`import_file`: read one file, validate every row, resolve references and
write in batches inside the caller's transaction.

Without `skip_invalid` the first bad row raises a FileError (file:line:column)
and, since nothing is committed here, nothing from the file is written. With
it, good rows are written and each rejected row goes to the `on_reject` sink.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.models import ImportRun
from cs_cli.domain import Actor, Role
from cs_cli.errors import BadInput, FileError
from cs_cli.services.access import require_role
from cs_cli.services.audit import audit
from cs_cli.services.importers.entities import ENTITIES, EntitySpec
from cs_cli.services.importers.events import load_events
from cs_cli.services.importers.expressions import Expression
from cs_cli.services.importers.job import Column, ImportJob, Pending, Reject
from cs_cli.services.importers.mapping import ImportMap
from cs_cli.services.importers.reading import SourceFormat, detect_format, file_sha256, open_source
from cs_cli.services.text.sentiment import Analyser


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


def _computing(expression: Expression, header: list[str], fmt: SourceFormat) -> Callable[[Any], Any]:
    """A getter that computes the expression over one record."""
    if fmt == SourceFormat.CSV:
        index = {name: i for i, name in enumerate(header)}
        return lambda record: expression.evaluate(lambda name: record[index[name]])
    return lambda record: expression.evaluate(record.get)


def _plan(spec: EntitySpec, header: list[str], mapping: ImportMap, fmt: SourceFormat, path: Path):
    """Decide, once per file, which column feeds which field."""
    columns: list[Column] = []
    attributes: list[Column] = []
    ignored: list[str] = []
    by_field: dict[str, Column] = {}
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
            column = Column(target, source, index + 1, getter, field_spec, mapping.value_map(target))
            by_field[target] = column
            columns.append(column)
        elif spec.extra_to_attributes:
            attributes.append(Column(target, source, index + 1, getter, None, mapping.value_map(target)))
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
        column = Column(target, f"{name} (computed)", first, getter, field_spec, None, computed=True)
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
    analyser: Analyser | None = None,
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
    # Imports take turns: two at once would both find a file not imported
    # yet, or a customer new (and record it created twice), and on Postgres
    # lock the same rows in different orders (a deadlock). The second waits
    # for the first to commit, then reads what it wrote.
    dialect.take_turn(session.connection(), "cs import")
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
        job = ImportJob(
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
            analyser=analyser,
        )
        if spec.key is None:
            load_events(job, source, batch_size, progress)
        else:
            for lines, records in source.batches(batch_size):
                batch = []
                for line, record in zip(lines, records, strict=True):
                    row = job.convert(line, record)
                    if row is not None:
                        batch.append(Pending(line, row, record))
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
    audit(
        session,
        actor,
        f"import.{entity}",
        "import",
        path.name,
        at=now,
        details={
            "file": path.name,
            "sha256": digest,
            "read": counts.read,
            "created": counts.created,
            "updated": counts.updated,
            "unchanged": counts.unchanged,
            "rejected": counts.rejected,
        },
    )
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
