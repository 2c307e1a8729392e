"""One run of a job at a time, across processes and machines: a lease row.

A run claims its job's row with one atomic upsert that succeeds only when
there is no row or its lease has expired, renews it while it works (a
heartbeat) and deletes it at the end. A killed run stops renewing, so its
lease runs out and the next run takes it over. Every step is one short
transaction with no session state, so it holds behind a transaction-pooling
connection pooler (where session advisory locks do not).

Times come from PostgreSQL's clock, so machines whose clocks disagree still
agree on when a lease expires; SQLite is one machine, and uses its clock.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cs_cli.db.models import JobLease

HOST = socket.gethostname()


@dataclass(frozen=True)
class Holder:
    """Who holds a lease: host, process and a token unique to this run."""

    host: str
    pid: int
    started: str  # the process's start time on Linux ('' elsewhere): a reused pid is not the same process
    token: str

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}:{self.started}:{self.token}"

    @classmethod
    def parse(cls, text: str) -> Holder | None:
        # host:pid:started:token, split from the right (an IPv6-ish host may hold colons).
        host, pid, started, token = ([""] * 4 + text.rsplit(":", 3))[-4:]
        if not host or not pid.isdigit():
            return None
        return cls(host, int(pid), started, token)

    @classmethod
    def me(cls) -> Holder:
        return cls(HOST, os.getpid(), _process_start(os.getpid()), secrets.token_hex(6))

    def alive_here(self) -> bool:
        """This host runs a live process with the holder's pid (and start time)."""
        if self.host != HOST:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # it exists, under another user
        return not self.started or _process_start(self.pid) == self.started

    def describe(self) -> str:
        return f"{self.host} (pid {self.pid})"


def _process_start(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            stat = handle.read()
    except OSError:
        return ""
    # Field 22, counted after the command name (which may hold spaces) ends with ')'.
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else ""


@dataclass(frozen=True)
class Busy:
    """The lease another run holds."""

    holder: str
    acquired_at: dt.datetime
    expires_at: dt.datetime
    # The lease ran out but its holder is a live process on this machine
    # (an SQLite heartbeat can wait behind the job's own long write).
    stale_but_alive: bool = False

    def describe(self) -> str:
        who = Holder.parse(self.holder)
        return who.describe() if who else self.holder


def _clock(conn: sa.Connection) -> tuple[sa.ColumnElement, Callable[[dt.timedelta], sa.ColumnElement]]:
    if conn.dialect.name == "postgresql":
        now = sa.func.clock_timestamp()
        return now, lambda ttl: now + sa.literal(ttl, sa.Interval())
    moment = dt.datetime.now(dt.UTC)
    return (
        sa.literal(moment, JobLease.expires_at.type),
        lambda ttl: sa.literal(moment + ttl, JobLease.expires_at.type),
    )


def claim(engine: Engine, job: str, holder: Holder, ttl: dt.timedelta) -> Busy | None:
    """Take `job`'s lease for `holder`; None when taken, else who holds it."""
    table = JobLease.__table__
    with engine.begin() as conn:
        # Read first: on SQLite a write would wait for a long job's write lock
        # (up to the busy timeout), while a read answers at once.
        current = conn.execute(
            sa.select(table.c.holder, table.c.acquired_at, table.c.expires_at, _now_of(conn)).where(
                table.c.job == job
            )
        ).first()
    if current is not None:
        held, acquired, expires, now = current
        if expires >= now:
            return Busy(held, acquired, expires)
        other = Holder.parse(held)
        if other is not None and other.alive_here():
            return Busy(held, acquired, expires, stale_but_alive=True)
    with engine.begin() as conn:
        now, later = _clock(conn)
        stmt = dialect_insert(conn, table).values(
            job=job, holder=str(holder), acquired_at=now, expires_at=later(ttl), heartbeat_at=now
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.job],
            set_={c: stmt.excluded[c] for c in ("holder", "acquired_at", "expires_at", "heartbeat_at")},
            where=table.c.expires_at < stmt.excluded.acquired_at,
        ).returning(table.c.holder)
        won = conn.execute(stmt).scalar()
        if won == str(holder):
            return None
        row = conn.execute(
            sa.select(table.c.holder, table.c.acquired_at, table.c.expires_at).where(table.c.job == job)
        ).first()
    if row is None:  # released in between: the next run will have it
        return Busy("", dt.datetime.now(dt.UTC), dt.datetime.now(dt.UTC))
    return Busy(*row)


def renew(engine: Engine, job: str, holder: Holder, ttl: dt.timedelta) -> bool:
    """Push the lease's expiry on; False when it is no longer ours."""
    table = JobLease.__table__
    with engine.begin() as conn:
        now, later = _clock(conn)
        result = conn.execute(
            sa.update(table)
            .where(table.c.job == job, table.c.holder == str(holder))
            .values(expires_at=later(ttl), heartbeat_at=now)
        )
    return bool(result.rowcount)


def release(engine: Engine, job: str, holder: Holder) -> None:
    table = JobLease.__table__
    with engine.begin() as conn:
        conn.execute(sa.delete(table).where(table.c.job == job, table.c.holder == str(holder)))


def _now_of(conn: sa.Connection) -> sa.ColumnElement:
    now, _ = _clock(conn)
    return now.label("now")


def dialect_insert(conn: sa.Connection, table: sa.Table):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


class Heartbeat:
    """Renews a lease from a thread while the job runs; a lease lost (taken
    over after it expired) is reported once through `lost`."""

    def __init__(
        self, engine: Engine, job: str, holder: Holder, ttl: dt.timedelta, lost: Callable[[str], None]
    ) -> None:
        self.engine, self.job, self.holder, self.ttl, self.lost = engine, job, holder, ttl, lost
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-{job}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _beat(self) -> None:
        interval = max(self.ttl.total_seconds() / 3, 0.2)
        while not self._stop.wait(interval):
            try:
                if not renew(self.engine, self.job, self.holder, self.ttl):
                    self.lost(f"{self.job}: its lease was taken over by another run (it had expired)")
                    return
            except sa.exc.OperationalError:
                # SQLite: the job's own write holds the database; try again next beat.
                continue
