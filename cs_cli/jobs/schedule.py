"""When a job is due: its schedule cuts time into slots, and a slot runs once.

A daily slot is a day in the jobs' time zone (`job_timezone`), starting at the
job's hour; sub-daily slots are cut in UTC, so a change of daylight saving
time neither skips nor repeats one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Slot:
    key: str  # the run ledger's key: "2026-11-28", "2026-11-28T14", "2026-11-28T14:05"
    start: dt.datetime  # aware UTC
    end: dt.datetime  # aware UTC: the start of the next slot


@dataclass(frozen=True)
class Schedule:
    """daily at `at`; hourly at minute `at.minute`; or every `minutes` (a divisor of 60)."""

    kind: str  # "daily", "hourly" or "minutes"
    at: dt.time = dt.time(0, 0)
    minutes: int = 0

    @classmethod
    def daily(cls, hour: int, minute: int = 0) -> Schedule:
        return cls("daily", at=dt.time(hour, minute))

    @classmethod
    def hourly(cls, minute: int = 0) -> Schedule:
        return cls("hourly", at=dt.time(0, minute))

    @classmethod
    def every(cls, minutes: int) -> Schedule:
        if minutes < 1 or 60 % minutes:
            raise ValueError("a schedule of minutes must divide the hour (1, 2, 5, 10, 15, 30)")
        return cls("minutes", minutes=minutes)

    @property
    def period(self) -> dt.timedelta:
        if self.kind == "daily":
            return dt.timedelta(days=1)
        if self.kind == "hourly":
            return dt.timedelta(hours=1)
        return dt.timedelta(minutes=self.minutes)

    def describe(self, tz: str = "UTC") -> str:
        if self.kind == "daily":
            return f"daily at {self.at:%H:%M} {tz}"
        if self.kind == "hourly":
            return f"hourly at :{self.at.minute:02d}"
        return "every minute" if self.minutes == 1 else f"every {self.minutes} minutes"

    def slot(self, moment: dt.datetime, tz: str = "UTC") -> Slot:
        """The slot `moment` falls in: the latest start at or before it."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        if self.kind == "daily":
            zone = ZoneInfo(tz)
            local = moment.astimezone(zone)
            day = local.date()
            start = _local(day, self.at, zone)
            if start > moment:
                day -= dt.timedelta(days=1)
                start = _local(day, self.at, zone)
            end = _local(day + dt.timedelta(days=1), self.at, zone)
            return Slot(day.isoformat(), start, end)
        utc = moment.astimezone(dt.UTC).replace(second=0, microsecond=0)
        if self.kind == "hourly":
            start = utc.replace(minute=self.at.minute)
            if start > moment:
                start -= dt.timedelta(hours=1)
            return Slot(f"{start:%Y-%m-%dT%H}", start, start + self.period)
        start = utc.replace(minute=utc.minute - utc.minute % self.minutes)
        return Slot(f"{start:%Y-%m-%dT%H:%M}", start, start + self.period)


def _local(day: dt.date, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    """`at` on `day` in `zone`, as UTC. A time skipped by a change to summer
    time lands an hour later; a repeated one is its first occurrence."""
    naive = dt.datetime.combine(day, at)
    aware = naive.replace(tzinfo=zone)
    back = aware.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None)
    if back != naive:  # in the gap: zoneinfo would go back, go forward instead
        aware = (naive + dt.timedelta(hours=1)).replace(tzinfo=zone)
    return aware.astimezone(dt.UTC)


def parse_time(text: str, kind: str) -> dt.time:
    """`HH:MM` for a daily job, `:MM` for an hourly one."""
    raw = text.strip()
    try:
        if kind == "hourly":
            if not raw.startswith(":"):
                raise ValueError
            minute = int(raw[1:])
            if not 0 <= minute < 60:
                raise ValueError
            return dt.time(0, minute)
        hour, minute = raw.split(":")
        return dt.time(int(hour), int(minute))
    except ValueError:
        want = ":MM (a minute of the hour)" if kind == "hourly" else "HH:MM"
        raise ValueError(f"{text!r} is not a time of a {kind} job; use {want}") from None
