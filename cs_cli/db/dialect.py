"""The one place where SQLite and Postgres differ: fast appends (COPY on
Postgres), upserts and JSON merging. Every caller gets a correct path on both."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ClauseElement, Executable

from cs_cli.db.base import UTCDateTime
from cs_cli.db.engine import SQLITE_BUSY_TIMEOUT_MS, SQLITE_CACHE_KB


def name(session: Session) -> str:
    return session.get_bind().dialect.name


def is_postgres(session: Session) -> bool:
    return name(session) == "postgresql"


def insert_for(session: Session, table: sa.Table):
    """The dialect's INSERT, which knows ON CONFLICT."""
    if is_postgres(session):
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def insert_ignoring(session: Session, table: sa.Table):
    """INSERT that leaves an existing row with the same key alone."""
    return insert_for(session, table).on_conflict_do_nothing()


class _CreateTempTableAs(Executable, ClauseElement):
    inherit_cache = False

    def __init__(self, table: str, select: sa.Select) -> None:
        self.table = table
        self.select = select


@compiles(_CreateTempTableAs)
def _create_temp_table_as(element: _CreateTempTableAs, compiler, **kw) -> str:
    table = compiler.preparer.quote(element.table)
    return f"CREATE TEMPORARY TABLE {table} AS {compiler.process(element.select, **kw)}"


def create_temp_table_as(session: Session, table: str, select: sa.Select) -> None:
    """A temporary table holding what `select` returns, named and typed as
    its columns. On Postgres this may use parallel workers; an INSERT ...
    SELECT never does (the whole-book scoring ran a third slower that way)."""
    session.execute(_CreateTempTableAs(table, select))


def temp_table_from(session: Session, name: str, select: sa.Select, *, key: str | None = None) -> sa.Table:
    """A temporary table `name` (made anew) holding what `select` returns,
    typed as its columns; with `key`, a unique index on that column and
    statistics for the planner."""
    table = sa.Table(
        name,
        sa.MetaData(),
        *(sa.Column(c.name, c.type) for c in select.selected_columns),
        prefixes=["TEMPORARY"],
    )
    table.drop(session.connection(), checkfirst=True)
    create_temp_table_as(session, name, select)
    if key is not None:
        session.execute(sa.text(f"CREATE UNIQUE INDEX {name}_{key} ON {name} ({key})"))
        analyze(session, table)
    return table


def json_merge(session: Session, current: Any, incoming: Any) -> sa.ColumnElement:
    """`current` with the keys of `incoming` added or replaced."""
    if is_postgres(session):
        return current.op("||")(incoming)
    return sa.func.json_patch(current, incoming)


def _json_differs(session: Session, merged: Any, current: Any) -> sa.ColumnElement[bool]:
    if is_postgres(session):
        return merged.is_distinct_from(current)
    # SQLite keeps JSON as text: compare the minified forms, not the spelling.
    return merged.is_distinct_from(sa.func.json(current))


def upsert(
    session: Session,
    table: sa.Table,
    rows: list[dict[str, Any]],
    *,
    key: str | tuple[str, ...],
    update: Sequence[str],
    merge_json: Iterable[str] = (),
    touch: dict[str, Any] | None = None,
) -> set[Any]:
    """Insert rows, or update those whose `key` exists when a value differs.

    Rows whose values are all unchanged are left alone (their updated_at too),
    so importing the same file twice changes nothing. Returns the keys of the
    rows inserted or changed (tuples when the key has several columns).
    """
    keys = (key,) if isinstance(key, str) else key
    if not rows:
        return set()
    stmt = insert_for(session, table)
    if is_postgres(session):
        # One COPY into a scratch table and one INSERT ... SELECT: many times
        # faster than a multi-row VALUES statement of thousands of parameters.
        columns = list(rows[0])
        stage = _stage(session, table, columns, rows)
        stmt = stmt.from_select(columns, sa.select(*(stage.c[c] for c in columns)))
    excluded = stmt.excluded
    merge = set(merge_json)
    set_: dict[str, Any] = {}
    differs: list[sa.ColumnElement[bool]] = []
    for column in update:
        current = table.c[column]
        if column in merge:
            merged = json_merge(session, current, excluded[column])
            set_[column] = merged
            differs.append(_json_differs(session, merged, current))
        else:
            set_[column] = excluded[column]
            differs.append(current.is_distinct_from(excluded[column]))
    if not set_:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
    else:
        set_.update(touch or {})
        stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_=set_, where=sa.or_(*differs))
    stmt = stmt.returning(*(table.c[k] for k in keys))
    result = session.execute(stmt) if is_postgres(session) else session.execute(stmt, rows)
    if len(keys) == 1:
        return set(result.scalars().all())
    return {tuple(row) for row in result}


def _stage(session: Session, table: sa.Table, columns: list[str], rows: list[dict[str, Any]]) -> sa.Table:
    """Postgres: a temporary copy of `table`'s columns holding `rows`."""
    from psycopg.types.json import Jsonb

    name = f"cs_stage_{table.name}"
    column_list = ", ".join(columns)
    connection = session.connection()
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {name} ON COMMIT DROP AS SELECT {column_list} FROM {table.name} WITH NO DATA"
    )
    json_columns = {c for c in columns if isinstance(table.c[c].type, sa.JSON)}

    def copy_value(column: str, value: Any) -> Any:
        if value is None:
            return None
        if column in json_columns:
            return Jsonb(value)
        if isinstance(value, Enum):
            return value.value  # psycopg would write an enum's name
        return value

    driver = connection.connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(f"COPY {name} ({column_list}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([copy_value(c, row[c]) for c in columns])
    return sa.Table(name, sa.MetaData(), *(sa.Column(c, table.c[c].type) for c in columns))


def _sqlite_value(value: Any) -> Any:
    # Raw sqlite3 would store datetimes in its own text form; store exactly
    # what SQLAlchemy's SQLite DateTime writes, so comparisons line up.
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ", timespec="microseconds")
    return value


def append_rows(session: Session, table: sa.Table, columns: Sequence[str], rows: list[tuple]) -> int:
    """Append rows as fast as the database allows: COPY on Postgres, one
    prepared multi-row executemany on SQLite. Values are already validated."""
    if not rows:
        return 0
    connection = session.connection()
    column_list = ", ".join(columns)
    if is_postgres(session):
        driver = connection.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({column_list}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return len(rows)
    datetime_positions = [
        i for i, c in enumerate(columns) if isinstance(table.c[c].type, UTCDateTime | sa.DateTime)
    ]
    if datetime_positions:
        converted = []
        for row in rows:
            row = list(row)
            for i in datetime_positions:
                row[i] = _sqlite_value(row[i])
            converted.append(tuple(row))
        rows = converted
    placeholders = ", ".join("?" for _ in columns)
    connection.exec_driver_sql(f"INSERT INTO {table.name} ({column_list}) VALUES ({placeholders})", rows)
    return len(rows)


def copy_text(session: Session, table: str, columns: Sequence[str], data: bytes) -> None:
    """Postgres only: COPY `data`, lines already in COPY text format
    (tab-separated, `\\N` for null, newline-terminated, UTF-8), into `table`,
    in the session's transaction."""
    driver = session.connection().connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        copy.write(data)


# Rows to an INSERT on SQLite's fast path: 500 values, well under the 999 of
# older SQLite builds.
_VALUES_ROWS = 100


def insert_raw(session: Session, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
    """SQLite: insert rows whose values are already in the driver's storage
    form, straight through the driver (SQLAlchemy's executemany would copy
    them into a list first), _VALUES_ROWS rows to a statement: a tenth
    faster than one row to a statement, the driver's work per execution
    being shared out."""
    width = len(columns)
    flat = list(itertools.chain.from_iterable(rows))
    count = len(flat) // width
    whole = count - count % _VALUES_ROWS
    row = "(" + ", ".join("?" * width) + ")"
    insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
    driver = session.connection().connection.driver_connection
    step = _VALUES_ROWS * width
    if whole:
        many = insert + ", ".join([row] * _VALUES_ROWS)
        driver.executemany(many, (flat[i : i + step] for i in range(0, whole * width, step)))
    if whole < count:
        rest = iter(flat[whole * width :])
        driver.executemany(insert + row, zip(*[rest] * width, strict=True))


def utc_day(session: Session, column: Any) -> sa.ColumnElement:
    """The UTC calendar day of a timestamp column, comparable across rows."""
    if is_postgres(session):
        return sa.cast(sa.func.timezone("UTC", column), sa.Date)
    # SQLite keeps UTC text 'YYYY-MM-DD HH:MM:SS.ffffff'.
    return sa.func.substr(column, 1, 10)


def build_indexes(session: Session, indexes: Iterable[sa.Index]) -> None:
    """CREATE INDEX for each. On SQLite the sort uses helper threads (a
    fifth faster on two cores). Its sorter, and each helper, keeps as much
    of the sort in memory as the page cache may hold, on top of the cache
    itself; with the cache at an eighth meanwhile, the index of a bulk load
    costs tens of MB less, and no time (the rest of the sort goes through
    temporary files). Both settings are put back after: a whole-book GROUP
    BY runs several sorts at once, and helpers would multiply its memory."""
    sqlite = not is_postgres(session)
    if sqlite:
        session.execute(sa.text(f"PRAGMA cache_size=-{SQLITE_CACHE_KB // 8}"))
        session.execute(sa.text(f"PRAGMA threads={min(4, os.cpu_count() or 1)}"))
    try:
        for index in indexes:
            session.execute(sa.schema.CreateIndex(index))
    finally:
        if sqlite:
            session.execute(sa.text(f"PRAGMA cache_size=-{SQLITE_CACHE_KB}"))
            session.execute(sa.text("PRAGMA threads=0"))


def sqlite_begin(session: Session, table: sa.Table) -> bool:
    """SQLite: open the driver's transaction now, so that DDL that follows
    is part of it. The sqlite3 module begins a transaction only before a
    statement that writes rows; until then it runs DDL such as DROP INDEX
    outside any transaction, committed at once. A DELETE from `table` that
    matches nothing makes it begin. True when a transaction is open."""
    session.execute(sa.delete(table).where(sa.false()))
    return bool(session.connection().connection.dbapi_connection.in_transaction)


def bytewise(session: Session, column: Any) -> sa.ColumnElement:
    """A text column compared byte by byte, for grouping and sorting where
    the order does not matter: Postgres otherwise sorts by the database's
    collation (strcoll), a fifth slower on a sort of millions of names.
    SQLite compares bytes already."""
    return column.collate("C") if is_postgres(session) else column


def least(session: Session, *values: Any) -> sa.ColumnElement:
    """The smallest of several values (SQLite's min() takes several arguments)."""
    return sa.func.least(*values) if is_postgres(session) else sa.func.min(*values)


def whole_days_since(session: Session, later: dt.datetime, column: Any) -> sa.ColumnElement:
    """Whole days from a timestamp column to `later`, rounded down."""
    if is_postgres(session):
        seconds = sa.func.extract("epoch", sa.literal(later, UTCDateTime()) - column)
        return floor_int(session, seconds / 86400)
    naive = later.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return floor_int(session, sa.func.julianday(naive) - sa.func.julianday(column))


def floor_int(session: Session, value: Any) -> sa.ColumnElement:
    """floor() as an integer, for values that are not negative. (SQLite's
    floor() needs its math functions, not in every build; CAST truncates,
    which is the floor of a non-negative number. Postgres's CAST rounds.)"""
    if is_postgres(session):
        return sa.cast(sa.func.floor(value), sa.Integer)
    return sa.cast(value, sa.Integer)


def days_until(session: Session, column: Any, day: dt.date) -> sa.ColumnElement:
    """Days from `day` to a date column (negative when past)."""
    if is_postgres(session):
        return column - sa.literal(day, sa.Date)
    return sa.cast(sa.func.julianday(column) - sa.func.julianday(day.isoformat()), sa.Integer)


def json_object(session: Session, pairs: dict[str, Any]) -> sa.ColumnElement:
    """A JSON object built in SQL from names and expressions."""
    args = [part for name, value in pairs.items() for part in (sa.literal(name), value)]
    if is_postgres(session):
        return sa.func.jsonb_build_object(*args)
    return sa.func.json_object(*args)


def for_whole_table_reads(session: Session) -> None:
    """Postgres, for the rest of this transaction: no JIT compilation (it
    compiles the wide scoring statement for seconds to save milliseconds) and
    no plain index scans (walking the customer index of the events table in
    order costs several times a sequential scan and a sort; lookups by key,
    bitmap scans and ON CONFLICT checks are unaffected), and room for the
    sorts and hashes of a whole book (the default 4 MB spills the day's usage
    grains, 800,000 rows at 100,000 customers, to disk: a third of the time
    of building them)."""
    if is_postgres(session):
        session.execute(sa.text("SET LOCAL jit = off"))
        session.execute(sa.text("SET LOCAL enable_indexscan = off"))
        roomy_sorts(session, 128)


@contextmanager
def index_probes(session: Session) -> Iterator[None]:
    """Plain index scans allowed inside the block (see for_whole_table_reads),
    for a statement made of one index probe per row of a small table."""
    if not is_postgres(session):
        yield
        return
    was = session.scalar(sa.text("SHOW enable_indexscan"))
    session.execute(sa.text("SET LOCAL enable_indexscan = on"))
    try:
        yield
    finally:
        session.execute(sa.text(f"SET LOCAL enable_indexscan = {'on' if was == 'on' else 'off'}"))


def for_key_lookups(session: Session) -> None:
    """Postgres: plain index scans back on (after for_whole_table_reads), for
    writes that look rows up by key: the foreign-key check of every row
    inserted is a query, and planned as a bitmap scan it costs several times
    an index lookup."""
    if is_postgres(session):
        session.execute(sa.text("SET LOCAL enable_indexscan = on"))


def add_days(session: Session, day: Any, days: Any) -> sa.ColumnElement:
    """A date plus a number of days (a column or a value, negative to go back)."""
    if is_postgres(session):
        return sa.cast(day, sa.Date) + days
    # SQLite keeps dates as 'YYYY-MM-DD' text; date() gives the same form back.
    return sa.func.date(day, sa.func.printf("%+d days", days))


def days_between(session: Session, start: Any, end: Any) -> sa.ColumnElement:
    """Days, with a fraction, from one timestamp column to another."""
    if is_postgres(session):
        return sa.func.extract("epoch", end - start) / 86400.0
    return sa.func.julianday(end) - sa.func.julianday(start)


def roomy_sorts(session: Session, megabytes: int = 128) -> None:
    """Postgres, for the rest of this transaction: let sorts and hashes of a
    whole-book job use this much memory each before spilling to disk."""
    if is_postgres(session):
        session.execute(sa.text(f"SET LOCAL work_mem = '{int(megabytes)}MB'"))


def analyze(session: Session, table: sa.Table) -> None:
    """Postgres: give the planner statistics for a freshly filled scratch
    table (autovacuum never visits temporary tables)."""
    if is_postgres(session):
        session.execute(sa.text(f'ANALYZE "{table.name}"'))


def one_at_a_time(session: Session, job: str) -> None:
    """Postgres: wait until no other transaction runs `job`, and hold it off
    until this one ends (a transaction-scoped advisory lock). SQLite lets one
    writer in at a time anyway."""
    if is_postgres(session):
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(sa.literal(job)))))


# How long a writer that must go alone waits for the one before it on
# SQLite: an import of millions of rows takes minutes, and the connection's
# busy timeout (30 s) is meant for short writes.
TURN_WAIT_SECONDS = 600


def take_turn(connection: sa.Connection, name: str, *, wait: float = TURN_WAIT_SECONDS) -> None:
    """Go alone: wait until no other transaction doing `name` runs, and hold
    the others off until this one ends, so that what it reads (a file
    already imported, a customer not yet there, the schema's revision) is
    still true when it writes. Call it before anything else in the
    transaction.

    Postgres: a transaction-scoped advisory lock on `name` (it waits as long
    as it takes; other work goes on). SQLite: the database's write lock,
    taken now with BEGIN IMMEDIATE, waiting up to `wait` seconds. Taking it
    at the first write instead is too late: what the transaction read
    before may have changed by then (WAL readers see the database as it
    was when they began)."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(sa.literal(name)))))
        return
    driver = connection.connection.driver_connection
    if driver.in_transaction:
        return  # pysqlite begins a transaction at the first write: the lock is ours
    connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(wait * 1000)}")
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except sa.exc.OperationalError:
        from cs_cli.errors import CsError

        raise CsError(
            f"another command has been writing to the database for {wait:.0f} s; {name} did not start",
            hint="run it again when that one has finished",
        ) from None
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")


# The domain event log's lock: one fixed key, in the two-number key space of
# advisory locks, where it cannot meet a job lock of one_at_a_time (one number).
_EVENT_LOG_LOCK = "25459, 1702260340"  # "cs", "evnt"


def before_writing_events(session: Session) -> None:
    """Postgres: call before inserting into the domain event log. Takes the
    log's lock in shared mode until the transaction ends, so event_horizon
    can wait for this transaction's events to be committed (or rolled back).
    Writers never wait for each other. SQLite: nothing to do."""
    if is_postgres(session):
        session.execute(sa.text(f"SELECT pg_advisory_xact_lock_shared({_EVENT_LOG_LOCK})"))


def event_horizon(session: Session) -> int:
    """The highest domain event id below which no event can still appear:
    every event up to it is committed. A consumer reads events up to here and
    keeps this as its cursor.

    Postgres hands out ids when rows are inserted, not when they are
    committed, so max(id) alone can pass an event whose transaction is still
    open; a cursor moved past it would never see it. Every writer holds the
    log's lock shared (before_writing_events), so taking it exclusively waits
    until each transaction writing events has ended; ids handed out after we
    let go are higher than what we read. The lock is held only while max(id)
    is read, as a session lock (released at once, not at the end of the
    consumer's transaction, which may run long and write events of its own).
    Call it before writing anything in the transaction: a writer waiting on a
    row lock of ours would otherwise wait for us while we wait for it.
    SQLite lets one writer in at a time, and a reader sees only committed
    rows whose ids all lie below the next writer's: max(id) is the horizon."""
    top = sa.select(sa.func.max(sa.text("id"))).select_from(sa.table("cs_domain_events"))
    if not is_postgres(session):
        return session.scalar(top) or 0
    connection = session.connection()
    connection.exec_driver_sql(f"SELECT pg_advisory_lock({_EVENT_LOG_LOCK})")
    try:
        horizon = session.scalar(top) or 0
    except BaseException:
        # A session lock outlives a rollback, and no unlock runs in a failed
        # transaction: closing the connection is what surely lets go of it.
        connection.invalidate()
        raise
    connection.exec_driver_sql(f"SELECT pg_advisory_unlock({_EVENT_LOG_LOCK})")
    return horizon


def claim(session: Session, stmt: sa.Select, table: sa.Table) -> sa.Select:
    """`stmt`, a SELECT of rows of `table` to work on, made safe for several
    workers at once. Postgres: the rows are locked until the transaction ends
    and rows another transaction holds are skipped (FOR UPDATE SKIP LOCKED),
    so workers share the work, and a killed worker's locks die with its
    connection. SQLite: the database's write lock is taken now (workers take
    turns, each waiting up to the busy timeout), so call this before anything
    else in the transaction."""
    if is_postgres(session):
        return stmt.with_for_update(skip_locked=True, of=table)
    # A write that changes nothing still opens a write transaction.
    key = next(iter(table.primary_key.columns))
    session.execute(sa.update(table).where(sa.false()).values({key.name: key}))
    return stmt


def scratch_table(
    session: Session, name: str, columns: Sequence[sa.Column], rows: Sequence[Sequence[Any]]
) -> sa.Table:
    """A temporary table `name` of `columns` (created anew, for the rest of
    this session) holding `rows`: by COPY on Postgres, one executemany on
    SQLite. For writing many rows with INSERT ... SELECT: a multi-row VALUES
    of thousands of parameters costs the driver more than the database."""
    import json

    table = sa.Table(name, sa.MetaData(), *columns, prefixes=["TEMPORARY"])
    connection = session.connection()
    table.drop(connection, checkfirst=True)
    table.create(connection)
    if not rows:
        return table
    json_at = [i for i, c in enumerate(columns) if isinstance(c.type, sa.JSON)]
    if is_postgres(session):
        from psycopg.types.json import Jsonb

        def value(v: Any, is_json: bool) -> Any:
            if v is None:
                return None
            if is_json:
                return Jsonb(v)
            return v.value if isinstance(v, Enum) else v

        flags = [i in json_at for i in range(len(columns))]
        driver = connection.connection.driver_connection
        column_list = ", ".join(c.name for c in columns)
        with driver.cursor() as cursor, cursor.copy(f"COPY {name} ({column_list}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([value(v, f) for v, f in zip(row, flags, strict=True)])
        analyze(session, table)
        return table
    if json_at:
        rows = [
            tuple(json.dumps(v) if i in json_at and v is not None else v for i, v in enumerate(row))
            for row in rows
        ]
    rows = [tuple(v.value if isinstance(v, Enum) else v for v in row) for row in rows]
    append_rows(session, table, [c.name for c in columns], list(rows))
    return table


def glob(session: Session, column: Any, pattern: str) -> sa.ColumnElement[bool]:
    """`column` matches a glob (`*` any run of characters, `?` one), case
    and all: GLOB on SQLite (whose LIKE ignores case), LIKE on Postgres."""
    if is_postgres(session):
        like = "".join(
            "%" if ch == "*" else "_" if ch == "?" else "\\" + ch if ch in "%_\\" else ch for ch in pattern
        )
        return column.like(like, escape="\\")
    return column.op("GLOB")(pattern.replace("[", "[[]"))


def float_array(session: Session, values: Sequence[Any]) -> sa.ColumnElement:
    """An array of numbers built in SQL (see base.FloatArray); NULLs kept."""
    if is_postgres(session):
        from sqlalchemy.dialects import postgresql

        return postgresql.array(
            [sa.cast(v, postgresql.DOUBLE_PRECISION) for v in values], type_=postgresql.DOUBLE_PRECISION
        )
    return sa.func.json_array(*values)


def array_item(session: Session, column: Any, index: int) -> sa.ColumnElement:
    """Item `index` (from 0) of a base.FloatArray column; NULL past its end."""
    if is_postgres(session):
        from sqlalchemy.dialects import postgresql

        return sa.type_coerce(column, postgresql.ARRAY(postgresql.DOUBLE_PRECISION))[index + 1]
    return sa.func.json_extract(column, f"$[{index}]")


def json_number(session: Session, column: Any, key: str | tuple[str, ...]) -> sa.ColumnElement:
    """The number under `key` (or a path of keys) of a JSON object column
    (NULL when it is not a number)."""
    if is_postgres(session):
        value, text = _pg_json(column, key)
        return sa.case((sa.func.jsonb_typeof(value) == "number", sa.cast(text, sa.Float)))
    path = _sqlite_path(key)
    return sa.case(
        (sa.func.json_type(column, path).in_(["integer", "real"]), sa.func.json_extract(column, path))
    )


def json_text(session: Session, column: Any, key: str | tuple[str, ...]) -> sa.ColumnElement:
    """The scalar under `key` (or a path of keys) of a JSON object column as
    text: strings as they are, booleans as 'true'/'false', numbers in JSON's
    spelling."""
    if is_postgres(session):
        value, text = _pg_json(column, key)
        return sa.case((sa.func.jsonb_typeof(value).in_(["string", "number", "boolean"]), text))
    path = _sqlite_path(key)
    kind = sa.func.json_type(column, path)
    return sa.case(
        (kind.in_(["true", "false"]), kind),
        (kind.in_(["integer", "real"]), sa.cast(sa.func.json_extract(column, path), sa.Text)),
        (kind == "text", sa.func.json_extract(column, path)),
    )


def _pg_json(column: Any, key: str | tuple[str, ...]) -> tuple[Any, Any]:
    keys = (key,) if isinstance(key, str) else key
    for part in keys[:-1]:
        column = column.op("->")(sa.literal(part))
    return column.op("->")(sa.literal(keys[-1])), column.op("->>")(sa.literal(keys[-1]))


def _sqlite_path(key: str | tuple[str, ...]) -> str:
    keys = (key,) if isinstance(key, str) else key
    return "$." + ".".join(json_key(k) for k in keys)


def json_key(key: str) -> str:
    """A key quoted for an SQLite JSON path."""
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def update_by_id(
    session: Session, table: sa.Table, columns: Sequence[str], rows: list[dict[str, Any]]
) -> int:
    """Set `columns` of many rows, each found by its `id`, in a fixed number
    of statements: COPY into a scratch table and one UPDATE ... FROM on
    Postgres; one prepared executemany through the driver on SQLite."""
    if not rows:
        return 0
    if is_postgres(session):
        stage = _stage(session, table, ["id", *columns], rows)
        session.execute(
            sa.update(table)
            .where(table.c.id == stage.c.id)
            .values({c: stage.c[c] for c in columns})
            .execution_options(synchronize_session=False)
        )
        return len(rows)
    json_columns = {c for c in columns if isinstance(table.c[c].type, sa.JSON)}

    def stored(column: str, value: Any) -> Any:
        if value is None:
            return None
        if column in json_columns:
            return json.dumps(value)
        if isinstance(value, Enum):
            return value.value
        return _sqlite_value(value)

    assignments = ", ".join(f"{c} = ?" for c in columns)
    driver = session.connection().connection.driver_connection
    driver.executemany(
        f"UPDATE {table.name} SET {assignments} WHERE id = ?",
        ([*(stored(c, row[c]) for c in columns), row["id"]] for row in rows),
    )
    return len(rows)
