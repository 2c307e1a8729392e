"""Engines and sessions. SQLite gets its pragmas on every connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from cs_cli.errors import ConfigError, DatabaseUnavailable

SQLITE_CACHE_KB = 65536
SQLITE_BUSY_TIMEOUT_MS = 30000


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the board read while cron writes; foreign keys are off by
    # default in SQLite; the busy timeout makes a second writer wait, not fail.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # 64 MB of page cache (the default is 2 MB): whole-book scans and bulk
    # loads into indexed tables otherwise re-read the same pages constantly.
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KB}")
    # Sorts too big for memory spill to temporary files (SQLite's default),
    # not to more memory: a whole-book GROUP BY or an index built over
    # millions of rows would otherwise hold all of it.
    cursor.execute("PRAGMA temp_store=FILE")
    cursor.close()
    # SQLite's lower() folds ASCII only; Postgres folds every letter. Use
    # Python's so that case-insensitive matching agrees on both.
    dbapi_connection.create_function(
        "lower", 1, lambda s: s.lower() if isinstance(s, str) else s, deterministic=True
    )


def parse_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        # Never echo what may hold a password: only the part after the last @.
        shown = url.rsplit("@", 1)[-1]
        raise ConfigError(f"not a database URL: ...{shown!r} (expected e.g. sqlite:///cs.db)") from None
    if parsed.drivername == "postgresql" or parsed.drivername == "postgres":
        # psycopg 3 is the driver we ship; plain postgresql:// would look for psycopg2.
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql")
    return parsed


def describe(url: URL) -> str:
    """Host and database of a URL for messages; never the password."""
    if url.get_backend_name() == "sqlite":
        return f"SQLite file {url.database}" if url.database else "in-memory SQLite"
    host = url.host or "localhost"
    port = f":{url.port}" if url.port else ""
    return f"PostgreSQL database {url.database!r} on {host}{port}"


def make_engine(url: str | URL, *, create_sqlite_dir: bool = True) -> Engine:
    parsed = parse_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and create_sqlite_dir:
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 10})


def check_connection(engine: Engine) -> None:
    """Connect once; a failure becomes one line naming host and database."""
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "connection failed"
        raise DatabaseUnavailable(f"cannot reach {describe(engine.url)}: {reason}") from None


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One session, committed once at the end, rolled back on any error."""
    with session_factory(engine)() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
