"""The delivery rules: retries with capped exponential backoff and full
jitter, quiet hours in the recipient's time zone, and the email cap (at most
N automated emails per recipient per period). Pure functions of their
inputs; the deliverer applies them."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts before a message is dead, and the delays between them."""

    max_attempts: int = 8
    base: dt.timedelta = dt.timedelta(minutes=1)
    cap: dt.timedelta = dt.timedelta(hours=6)

    def delay(self, attempts: int, rng: random.Random) -> dt.timedelta:
        """The wait after the `attempts`-th failed attempt: a uniformly random
        time up to base * 2^(attempts-1), capped (full jitter: retries of many
        messages that failed together spread out instead of returning
        together). At least one second."""
        ceiling = min(self.cap.total_seconds(), self.base.total_seconds() * 2 ** min(attempts - 1, 60))
        return dt.timedelta(seconds=max(1.0, rng.uniform(0, ceiling)))


@dataclass(frozen=True)
class DeliveryRules:
    """Quiet hours (local start and end, None for none), the time zone when
    neither contact nor customer has one, and the email cap (0: none)."""

    quiet_hours: tuple[dt.time, dt.time] | None = None
    default_timezone: str = "UTC"
    email_cap: int = 0
    email_cap_period: dt.timedelta = dt.timedelta(days=7)

    @property
    def quiet_text(self) -> str:
        if self.quiet_hours is None:
            return "off"
        start, end = self.quiet_hours
        return f"{start:%H:%M}-{end:%H:%M}"


def zone(name: str | None, fallback: str) -> ZoneInfo:
    """The named time zone; the fallback for a missing or unknown name."""
    for candidate in (name, fallback, "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def quiet_until(window: tuple[dt.time, dt.time] | None, tz: ZoneInfo, at: dt.datetime) -> dt.datetime | None:
    """When the quiet hours that `at` falls in end (UTC), or None when `at`
    is outside them. A window like 20:00-08:00 runs over midnight."""
    if window is None:
        return None
    start, end = window
    local = at.astimezone(tz)
    now = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= now < end
        end_day = local.date()
    else:
        inside = now >= start or now < end
        end_day = local.date() + dt.timedelta(days=1) if now >= start else local.date()
    if not inside:
        return None
    return dt.datetime.combine(end_day, end, tzinfo=tz).astimezone(dt.UTC)


def cap_frees_at(recent: list[dt.datetime], cap: int, period: dt.timedelta) -> dt.datetime | None:
    """With `recent` the recipient's sends within the period, newest first:
    None when one more may go now, else when the period frees a place (the
    cap-th newest send leaves the window)."""
    if cap <= 0 or len(recent) < cap:
        return None
    return recent[cap - 1] + period
