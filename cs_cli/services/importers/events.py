"""The fast path for usage events: millions of append-only rows.

A batch of plain CSV records (no value maps) arrives as columns (the plain
reader in reading.py) and is checked and encoded column by column:
references through dicts, the time by the positions of its separators plus
one parse, names by their lengths, the COPY text by joins. The loops
then run in C and a row costs about a microsecond of Python (see
benchmarks/RESULTS.md). A batch that this path cannot vouch for (a reference
not known yet, a time in another shape, an empty quantity, a bad value) goes
through the row-by-row path, which also finds and words every error. On
Postgres, while one batch is written by a helper thread, the next is read
and checked. A batch whose references are not all in the cache waits for the
write in flight before asking the database (the session's connection serves
one statement at a time).

A first load (usage_events is empty) drops the table's index for the load
and builds it again at the end, in the same transaction, as pg_restore does:
keeping a b-tree up to date under millions of rows in random customer order
cost twice the load itself on Postgres, and a third more on SQLite
(benchmarks/RESULTS.md). A failed import rolls the drop back with everything
else. Later imports keep the index up to date: the table is read while they
run, and rebuilding it over all its rows would cost more than the rows added.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any

import sqlalchemy as sa

from cs_cli import dates
from cs_cli.db import dialect
from cs_cli.db.models import Contact, Customer, UsageEvent
from cs_cli.services.importers.expressions import ExpressionError
from cs_cli.services.importers.job import Column, ImportJob
from cs_cli.services.importers.reading import Batch, Source, SourceFormat
from cs_cli.specs.documents import text_problem

FIELDS = ("customer_id", "contact_id", "event_name", "occurred_at", "quantity")
COLUMNS = FIELDS  # the usage_events columns, in the same order
MAX_NAME = 100
_NULL = "\\N"
_parse_time = dt.datetime.fromisoformat
_NOT_TEXT = "expected text, not a JSON object or list"
_FIRST_TIME = f"{dates.FIRST_DAY.isoformat()}T00:00:00Z"
_LAST_TIME = f"{dates.LAST_DAY.isoformat()}T23:59:59Z"
_CUSTOMERS = ("customers", "external_id")
_CONTACTS = ("contacts", "external_id")
# A reference table up to this size is read whole by a file of more than a
# few batches (a few MB of cache) instead of key by key.
_PRELOAD_ROWS = 200_000
_PRELOAD_BYTES = 1 << 20


class _Writer:
    """Writes one batch at a time, on a helper thread where that overlaps
    with reading: on Postgres the server does the writing. SQLite writes in
    this process, and its driver takes and gives back the interpreter lock
    for every row, so a reading thread beside it only makes both wait (the
    import ran a tenth slower that way): there the batch is written at once."""

    def __init__(self, write: Callable[[list], None], *, threaded: bool) -> None:
        self._write = write
        self._pool = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="cs-import-writer") if threaded else None
        )
        self._pending: Future[None] | None = None
        self._count = 0
        self.written = 0

    def wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()
            self.written += self._count

    def submit(self, count: int, data: Iterable) -> None:
        """Hand on `count` rows, as a list of COPY text pieces (Postgres)
        or row tuples (SQLite)."""
        self.wait()
        if not count:
            return
        if self._pool is None:
            self._write(data)
            self.written += count
            return
        self._count = count
        self._pending = self._pool.submit(self._write, data)

    def shutdown(self) -> None:
        """Let a write in flight finish; its outcome no longer matters
        because the caller is already failing."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)


def load_events(
    job: ImportJob, source: Source, batch_size: int, progress: Callable[[int], None] | None
) -> None:
    """Validate and append every event of `source`."""
    layout = [job.column(name) for name in FIELDS]
    postgres = dialect.is_postgres(job.session)
    write = partial(_write, job.session, postgres)
    columnar = None
    if source.fmt == SourceFormat.CSV and not any(
        c is not None and (c.value_map or c.computed) for c in layout
    ):
        positions = [c.position - 1 if c is not None else None for c in layout]
        normalise = None
        columnar = _Columnar(job, positions, postgres, preload=source.path.stat().st_size >= _PRELOAD_BYTES)
    else:
        positions = [0, 1, 2, 3, 4]
        normalise = _normaliser(layout)
    rebuild = _drop_indexes_if_empty(job.session)
    writer = _Writer(write, threaded=postgres)
    # A batch makes a few hundred thousand short-lived lists and tuples and
    # no reference cycles; the cyclic collector would walk them (and every
    # long-lived object) again and again for nothing: a fifth of the time.
    collecting = gc.isenabled()
    gc.disable()
    if columnar is not None:
        batches: Iterable[Batch] = source.column_batches(batch_size)
    else:
        batches = (Batch(lines, records, None) for lines, records in source.batches(batch_size))
    try:
        for batch in batches:
            lines = batch.lines
            if columnar is not None:
                columns = batch.columns or list(zip(*batch.records, strict=True))
                count = len(lines)
                job.counts.read += count
                encoded = columnar.encode(columns, count, writer.wait)
                if encoded is not None:
                    writer.submit(count, encoded)
                    if progress:
                        progress(source.bytes_read)
                    continue
                records = rows = batch.records
            else:
                records = batch.records
                job.counts.read += len(records)
                if normalise is not None:
                    lines, records, rows = _normalised(job, normalise, lines, records)
                else:
                    rows = records
            ready, deferred = _encode(job, layout, positions, lines, records, rows, postgres)
            if deferred:
                writer.wait()  # the lookup needs the connection
                _resolve(job, positions, [rows[k] for k in deferred])
                more, _ = _encode(job, layout, positions, lines, records, rows, postgres, only=deferred)
                ready.extend(more)
            writer.submit(len(ready), ready)
            if progress:
                progress(source.bytes_read)
        writer.wait()
    finally:
        writer.shutdown()
        if collecting:
            gc.enable()
    dialect.build_indexes(job.session, rebuild)
    job.counts.created += writer.written


def _drop_indexes_if_empty(session) -> list[sa.Index]:
    """Drop usage_events' indexes when the table is empty (a first load);
    returns them, to be created again once the rows are in. The drop locks
    the table until the import commits: nobody reads an empty one."""
    if session.scalar(sa.select(sa.exists().select_from(UsageEvent))):
        return []
    if not dialect.is_postgres(session) and not dialect.sqlite_begin(session, UsageEvent.__table__):
        return []  # the drop would be committed at once, whatever became of the import
    indexes = sorted(UsageEvent.__table__.indexes, key=lambda index: str(index.name))
    for index in indexes:
        session.execute(sa.schema.DropIndex(index, if_exists=True))
    return indexes


def _write(session, postgres: bool, rows: Iterable) -> None:
    """Hand one batch to the database (on the writer thread for Postgres)."""
    if postgres:
        # Joined and encoded here, off the reading thread: one bytes object
        # is the cheapest thing to stream into COPY.
        dialect.copy_text(session, "usage_events", COLUMNS, "".join(rows).encode())
    else:
        dialect.insert_raw(session, "usage_events", COLUMNS, rows)


def _normaliser(layout: list[Column | None]) -> Callable[[Any], list]:
    """Records of any shape (JSONL, value maps) as lists in FIELDS order."""

    def normalise(record: Any) -> list:
        out = []
        for column in layout:
            try:
                value = column.get(record) if column is not None else None
            except ExpressionError as exc:
                exc.source = column
                raise
            if value is not None and column.value_map is not None:
                value = column.value_map.get(value if isinstance(value, str) else str(value), value)
            out.append(value)
        return out

    return normalise


def _normalised(job: ImportJob, normalise: Callable[[Any], list], lines, records):
    """The records as rows; one whose computed column cannot be computed is
    rejected (or stops the import) at its line."""
    kept_lines, kept_records, rows = [], [], []
    for line, record in zip(lines, records, strict=True):
        try:
            rows.append(normalise(record))
        except ExpressionError as exc:
            job.fail(line, exc.source, f"{exc.source.label}: {exc}", record)
            continue
        kept_lines.append(line)
        kept_records.append(record)
    return kept_lines, kept_records, rows


def _key(value: Any) -> Any:
    return value if isinstance(value, str) or value is None else str(value)


def _resolve(job: ImportJob, positions: list[int | None], rows: list) -> None:
    """Fill the reference caches for these rows."""
    ci, cti = positions[0], positions[1]
    # As keys (text): a JSON line may give a list or an object here, which
    # the row's own checks refuse later at its line.
    _resolve_keys(job, {_key(r[ci]) for r in rows}, {_key(r[cti]) for r in rows} if cti is not None else ())


def _resolve_keys(job: ImportJob, customers: Iterable[Any], contacts: Iterable[Any]) -> None:
    """Fill the reference caches for these external ids: one query per
    table. Keys that do not exist are cached as None, so they are asked for
    once."""
    for model, name, keys in ((Customer, _CUSTOMERS, customers), (Contact, _CONTACTS, contacts)):
        cache = job.ref_cache.setdefault(name, {})
        wanted = {_key(k) for k in keys} - cache.keys() - {None, ""}
        # No database holds a NUL (PostgreSQL refuses to be asked): unknown.
        for key in [k for k in wanted if "\x00" in k]:
            cache[key] = None
            wanted.discard(key)
        job._lookup(model, "external_id", wanted, cache)
        for missing in wanted - cache.keys():
            cache[missing] = None


def _encode(
    job: ImportJob,
    layout: list[Column | None],
    positions: list[int | None],
    lines: Sequence[int],
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
    customers = job.ref_cache.setdefault(_CUSTOMERS, {})
    contacts = job.ref_cache.setdefault(_CONTACTS, {})
    fail = job.fail
    out: list = []
    deferred: list[int] = []
    append = out.append
    indexes = range(len(rows)) if only is None else only
    final = only is not None
    for k in indexes:
        row = rows[k]
        c_raw = row[ci]
        try:
            customer_id = customers.get(c_raw)
        except TypeError:  # from JSONL, an object or a list: not a key
            fail(lines[k], customer_col, f"customer_id: {_NOT_TEXT}", records[k])
            continue
        if customer_id is None and isinstance(c_raw, str) and (problem := text_problem(c_raw)):
            fail(lines[k], customer_col, f"customer_id: {problem}", records[k])
            continue
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
            if isinstance(ct_raw, dict | list):
                fail(lines[k], contact_col, f"contact_id: {_NOT_TEXT}", records[k])
                continue
            if ct_raw is not None and ct_raw != "":
                contact_id = contacts.get(ct_raw) or contacts.get(_key(ct_raw))
                if contact_id is None and isinstance(ct_raw, str) and (problem := text_problem(ct_raw)):
                    fail(lines[k], contact_col, f"contact_id: {problem}", records[k])
                    continue
                if contact_id is None:
                    if final:
                        fail(lines[k], contact_col, f"unknown contact {ct_raw!r}", records[k])
                    else:
                        deferred.append(k)
                    continue
        name = row[ni]
        if (
            not name
            or not isinstance(name, str)
            or len(name) > MAX_NAME
            # A NUL, or (only in non-ASCII text) a lone surrogate: no database keeps them.
            or "\x00" in name
            or (not name.isascii() and text_problem(name))
        ):
            if not name:
                reason = "a value is required"
            elif isinstance(name, str) and len(name) <= MAX_NAME:
                reason = text_problem(name)
            else:
                reason = f"must be text of at most {MAX_NAME} characters"
            fail(lines[k], name_col, f"event_name: {reason}", records[k])
            continue
        at = row[ai]
        try:
            when = _parse_time(at)
        except (TypeError, ValueError):
            reason = "a value is required" if not at else f"{at!r} is not a date-time (use ISO 8601)"
            fail(lines[k], time_col, f"occurred_at: {reason}", records[k])
            continue
        # Checked before moving it to UTC, which would overflow; a year well
        # inside the range is inside whatever its offset.
        if not 1900 < when.year < 2200 and not dates.in_range(when):
            fail(lines[k], time_col, f"occurred_at: {dates.out_of_range(at)}", records[k])
            continue
        q = row[qi] if qi is not None else None
        if q is None or q == "":
            quantity: Any = "1" if postgres else 1.0
        elif isinstance(q, str) and len(q) <= 15 and q.isascii() and q.isdigit():
            quantity = q if postgres else float(q)
        else:
            try:
                value = float(q)
            except (TypeError, ValueError):
                fail(lines[k], qty_col, f"quantity: {q!r} is not a number", records[k])
                continue
            if not 0 <= value < 1e15:  # also rejects NaN and infinities
                fail(lines[k], qty_col, f"quantity: {q!r} must be zero or more, below 1e15", records[k])
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


class _Columnar:
    """Checks and encodes a whole batch of plain CSV records column by
    column, or returns None for the row-by-row path to do it.

    It vouches only for what it checks completely: known references, names
    of 1 to 100 characters (and, for COPY, without tabs, line breaks or
    backslashes), times written 2026-10-01T09:30:00Z (checked
    by the positions of their separators, then parsed, which rejects a bad
    day or hour), quantities of whole digits.
    """

    def __init__(self, job: ImportJob, positions: list[int | None], postgres: bool, *, preload: bool) -> None:
        self._job = job
        self._positions = positions
        self._postgres = postgres
        self._preloaded = not preload
        # External id -> id as handed to the database (text for COPY).
        self._customers: dict[str, Any] = {}
        self._contacts: dict[str, Any] = {"": _NULL if postgres else None}

    def encode(self, columns: list, n: int, wait: Callable[[], None]) -> Iterable | None:
        """`columns`: the batch's `n` records column by column, in header order."""
        ci, cti, ni, ai, qi = self._positions
        customers = self._ids(self._customers, columns[ci], wait)
        if customers is None:
            return None
        if cti is None:
            contacts: Any = [self._contacts[""]] * n
        else:
            contacts = self._ids(self._contacts, columns[cti], wait)
            if contacts is None:
                return None
        names = columns[ni]
        lengths = list(map(len, names))
        if not (min(lengths) > 0 and max(lengths) <= MAX_NAME):
            return None
        if "\x00" in "".join(names):  # no database keeps a NUL: the row path says where
            return None
        if self._postgres:
            # COPY text: a name must not hold its separators or escapes.
            together = "\t".join(names)
            if together.count("\t") != n - 1 or "\\" in together or "\n" in together or "\r" in together:
                return None
        times = columns[ai]
        joined = "\n".join(times)
        if not (
            len(joined) == 21 * n - 1
            and joined.isascii()
            and joined[20::21] == "\n" * (n - 1)
            and joined.count("\n") == n - 1  # so every time has exactly 20 characters
            and joined[4::21] == joined[7::21] == "-" * n
            and joined[10::21] == "T" * n
            and joined[13::21] == joined[16::21] == ":" * n
            and joined[19::21] == "Z" * n
            # Times of one shape in UTC compare as text: within the range cs accepts.
            and min(times) >= _FIRST_TIME
            and max(times) <= _LAST_TIME
        ):
            return None
        try:
            # Only digits are left to check; the parse rejects a bad month, day or hour.
            for _ in map(_parse_time, times):
                pass
        except ValueError:
            return None
        if qi is None:
            quantities: Any = ["1" if self._postgres else 1.0] * n
        else:
            quantities = columns[qi]
            digits = "".join(quantities)
            if not (
                digits.isascii()
                and digits.isdigit()
                and min(map(len, quantities)) > 0
                and max(map(len, quantities)) <= 15  # below 1e15, as the row path requires
            ):
                return None
        if self._postgres:
            return [
                "\n".join(map("\t".join, zip(customers, contacts, names, times, quantities, strict=True))),
                "\n",
            ]
        # SQLite keeps times as SQLAlchemy writes them: 2026-10-01 09:30:00.000000.
        # Quantities go as text: the column's REAL affinity stores whole
        # numbers of up to 15 digits exactly as float() would, without a
        # Python float per row. The rows go to the driver as they are made.
        stored = joined.replace("T", " ").replace("Z", ".000000").split("\n")
        return zip(customers, contacts, names, stored, quantities, strict=True)

    def _ids(self, known: dict[str, Any], keys: tuple[str, ...], wait: Callable[[], None]) -> list | None:
        ids = list(map(known.get, keys))
        if None not in ids:
            return ids
        missing = set(keys).difference(known)
        if not missing:
            return ids  # the Nones are empty contacts (SQLite)
        if any("\x00" in key for key in missing):
            return None  # never sent to the database: the row path words the error
        customers = known is self._customers
        cache = self._job.ref_cache.get(_CUSTOMERS if customers else _CONTACTS, {})
        if any(cache.get(k, 0) is None for k in missing):
            return None  # known not to exist: the row path words the error
        wait()  # the lookup needs the connection
        if not self._preloaded:
            # A big file: the keys of each batch would cost a query (and
            # a stop of the writer) per batch until every reference is seen.
            self._preloaded = True
            self._preload()
        _resolve_keys(self._job, missing if customers else (), () if customers else missing)
        cache = self._job.ref_cache[_CUSTOMERS if customers else _CONTACTS]
        for key in missing:
            value = cache.get(key)
            if value is None:
                return None
            known[key] = str(value) if self._postgres else value
        return list(map(known.get, keys))

    def _preload(self) -> None:
        session = self._job.session
        for model, name, known in (
            (Customer, _CUSTOMERS, self._customers),
            (Contact, _CONTACTS, self._contacts),
        ):
            if session.scalar(sa.select(sa.func.count()).select_from(model)) > _PRELOAD_ROWS:
                continue
            cache = self._job.ref_cache.setdefault(name, {})
            for key, row_id in session.execute(sa.select(model.external_id, model.id)):
                cache[key] = row_id
                known[key] = str(row_id) if self._postgres else row_id


def _pg_time(when: dt.datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.isoformat()


def _sqlite_time(when: dt.datetime) -> str:
    # Stored exactly as SQLAlchemy's SQLite DateTime writes: naive UTC with microseconds.
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    return when.isoformat(" ", "microseconds")
