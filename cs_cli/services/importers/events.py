"""The fast path for usage events: millions of append-only rows.

Per row it does only what validation needs: the customer and contact
references are resolved through a cache filled by one query per batch, the
time is parsed once, and the row is handed on as COPY text (Postgres) or a
ready tuple (SQLite). While one batch is written by a helper thread, the
next is read and checked, so reading and writing overlap on two cores. A
batch whose references are not all in the cache waits for the write in
flight before asking the database (the session's connection serves one
statement at a time).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any

from cs_cli.db import dialect
from cs_cli.db.models import Contact, Customer
from cs_cli.services.importers.reading import Source, SourceFormat

if TYPE_CHECKING:
    from cs_cli.services.importers.runner import _Column, _Import

FIELDS = ("customer_id", "contact_id", "event_name", "occurred_at", "quantity")
COLUMNS = FIELDS  # the usage_events columns, in the same order
MAX_NAME = 100
_NULL = "\\N"
_parse_time = dt.datetime.fromisoformat


class _Writer:
    """Writes one batch at a time on a helper thread."""

    def __init__(self, write: Callable[[list], int]) -> None:
        self._write = write
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cs-import-writer")
        self._pending: Future[int] | None = None
        self.written = 0

    def wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self.written += pending.result()

    def submit(self, rows: list) -> None:
        self.wait()
        if rows:
            self._pending = self._pool.submit(self._write, rows)

    def shutdown(self) -> None:
        """Let a write in flight finish; its outcome no longer matters
        because the caller is already failing."""
        self._pool.shutdown(wait=True)


def load_events(
    job: _Import, source: Source, batch_size: int, progress: Callable[[int], None] | None
) -> None:
    """Validate and append every event of `source`."""
    layout = [job.column(name) for name in FIELDS]
    postgres = dialect.is_postgres(job.session)
    write = partial(_write, job.session, postgres)
    if source.fmt == SourceFormat.CSV and not any(c is not None and c.value_map for c in layout):
        positions = [c.position - 1 if c is not None else None for c in layout]
        normalise = None
    else:
        positions = [0, 1, 2, 3, 4]
        normalise = _normaliser(layout)
    writer = _Writer(write)
    try:
        for lines, records in source.batches(batch_size):
            rows = records if normalise is None else [normalise(r) for r in records]
            job.counts.read += len(rows)
            ready, deferred = _encode(job, layout, positions, lines, records, rows, postgres)
            if deferred:
                writer.wait()  # the lookup needs the connection
                _resolve(job, positions, [rows[k] for k in deferred])
                more, _ = _encode(job, layout, positions, lines, records, rows, postgres, only=deferred)
                ready.extend(more)
            writer.submit(ready)
            if progress:
                progress(source.bytes_read)
        writer.wait()
    finally:
        writer.shutdown()
    job.counts.created += writer.written


def _write(session, postgres: bool, rows: list) -> int:
    """Runs on the writer thread: hand one batch to the database."""
    if postgres:
        # Joined and encoded here, off the reading thread: one bytes object
        # is the cheapest thing to stream into COPY.
        dialect.copy_text(session, "usage_events", COLUMNS, "".join(rows).encode())
        return len(rows)
    return dialect.insert_raw(session, "usage_events", COLUMNS, rows)


def _normaliser(layout: list[_Column | None]) -> Callable[[Any], list]:
    """Records of any shape (JSONL, value maps) as lists in FIELDS order."""

    def normalise(record: Any) -> list:
        out = []
        for column in layout:
            value = column.get(record) if column is not None else None
            if value is not None and column.value_map is not None:
                value = column.value_map.get(value if isinstance(value, str) else str(value), value)
            out.append(value)
        return out

    return normalise


def _key(value: Any) -> Any:
    return value if isinstance(value, str) or value is None else str(value)


def _resolve(job: _Import, positions: list[int | None], rows: list) -> None:
    """Fill the reference caches for these rows: one query per table. Keys
    that do not exist are cached as None, so they are asked for once."""
    ci, cti = positions[0], positions[1]
    tables = [(Customer, ci, ("customers", "external_id"))]
    if cti is not None:
        tables.append((Contact, cti, ("contacts", "external_id")))
    for model, position, name in tables:
        cache = job.ref_cache.setdefault(name, {})
        wanted = {_key(r[position]) for r in rows} - cache.keys() - {None, ""}
        job._lookup(model, "external_id", wanted, cache)
        for missing in wanted - cache.keys():
            cache[missing] = None


def _encode(
    job: _Import,
    layout: list[_Column | None],
    positions: list[int | None],
    lines: list[int],
    records: list,
    rows: list,
    postgres: bool,
    *,
    only: list[int] | None = None,
) -> tuple[list, list[int]]:
    """Check rows and turn them into what the database takes. On the first
    pass, rows whose references are not cached yet are deferred; on the pass
    over `only` (after the lookup) they are rejected as unknown."""
    ci, cti, ni, ai, qi = positions
    customer_col, contact_col, name_col, time_col, qty_col = layout
    customers = job.ref_cache.setdefault(("customers", "external_id"), {})
    contacts = job.ref_cache.setdefault(("contacts", "external_id"), {})
    fail = job.fail
    out: list = []
    deferred: list[int] = []
    append = out.append
    indexes = range(len(rows)) if only is None else only
    final = only is not None
    for k in indexes:
        row = rows[k]
        c_raw = row[ci]
        customer_id = customers.get(c_raw)
        if customer_id is None:
            customer_id = customers.get(_key(c_raw))
            if customer_id is None:
                if c_raw is None or c_raw == "":
                    fail(lines[k], customer_col, "customer_id: a value is required", records[k])
                elif final:
                    fail(lines[k], customer_col, f"unknown customer {c_raw!r}", records[k])
                else:
                    deferred.append(k)
                continue
        contact_id = None
        if cti is not None:
            ct_raw = row[cti]
            if ct_raw is not None and ct_raw != "":
                contact_id = contacts.get(ct_raw) or contacts.get(_key(ct_raw))
                if contact_id is None:
                    if final:
                        fail(lines[k], contact_col, f"unknown contact {ct_raw!r}", records[k])
                    else:
                        deferred.append(k)
                    continue
        name = row[ni]
        if not name or not isinstance(name, str) or len(name) > MAX_NAME:
            reason = "a value is required" if not name else f"must be text of at most {MAX_NAME} characters"
            fail(lines[k], name_col, f"event_name: {reason}", records[k])
            continue
        at = row[ai]
        try:
            when = _parse_time(at)
        except (TypeError, ValueError):
            reason = "a value is required" if not at else f"{at!r} is not a date-time (use ISO 8601)"
            fail(lines[k], time_col, f"occurred_at: {reason}", records[k])
            continue
        q = row[qi] if qi is not None else None
        if q is None or q == "":
            quantity: Any = "1" if postgres else 1.0
        elif isinstance(q, str) and q.isdigit():
            quantity = q if postgres else float(q)
        else:
            try:
                value = float(q)
            except (TypeError, ValueError):
                fail(lines[k], qty_col, f"quantity: {q!r} is not a number", records[k])
                continue
            if not 0 <= value < 1e15:  # also rejects NaN and infinities
                fail(lines[k], qty_col, f"quantity: {q!r} must be zero or more", records[k])
                continue
            quantity = repr(value) if postgres else value
        # The common shapes, 2026-10-01T09:30:00Z and 2026-10-01 09:30:00,
        # are passed on by slicing; anything else goes through datetime.
        simple = len(at) in (19, 20) and at[10] in "T " and at[13] == ":" and at[16] == ":"
        if postgres:
            if "\\" in name or "\t" in name or "\n" in name or "\r" in name:
                name = (
                    name.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
                )
            if simple:
                at_text = at if when.tzinfo is not None else at + "+00"  # Postgres reads ISO 8601
            else:
                at_text = _pg_time(when)
            contact_text = _NULL if contact_id is None else contact_id
            append(f"{customer_id}\t{contact_text}\t{name}\t{at_text}\t{quantity}\n")
        else:
            if simple and not when.utcoffset():
                at_text = f"{at[:10]} {at[11:19]}.000000"
            else:
                at_text = _sqlite_time(when)
            append((customer_id, contact_id, name, at_text, quantity))
    return out, deferred


def _pg_time(when: dt.datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.isoformat()


def _sqlite_time(when: dt.datetime) -> str:
    # Stored exactly as SQLAlchemy's SQLite DateTime writes: naive UTC with microseconds.
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    return when.isoformat(" ", "microseconds")
