"""Which customers a figure covers, and the helpers every figure shares:
periods by month, and the 95% interval of a share."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.models import Customer, CustomerSegment, Segment, Team, User
from cs_cli.domain import Actor, Interval
from cs_cli.errors import BadInput, NotFound
from cs_cli.services.facts import day_end
from cs_cli.services.scopes import customers_in

# Fewer observations than this and a figure is said to be thin.
THIN = 30
Z95 = 1.959964


@dataclass(frozen=True)
class Filters:
    """A part of the book: a scope (mine, team, all), one CSM, one segment,
    one plan, one team's CSMs. The plan is the one in force on the day a figure starts from
    (see facts.py); the segment, membership at the end of that day."""

    scope: str = "all"
    csm: str | None = None
    segment: str | None = None
    plan: str | None = None
    team: str | None = None

    def words(self) -> str:
        parts = [f"{name} {value}" for name, value in vars(self).items() if value and name != "scope"]
        return ", ".join([f"scope {self.scope}", *parts])


def condition(session: Session, actor: Actor, filters: Filters, *, on: dt.date) -> sa.ColumnElement[bool]:
    """The filters as a condition on `customers` (the plan aside, which
    reads the facts of the day: see plan_of)."""
    parts = [customers_in(actor, filters.scope)]
    if filters.csm:
        csm = session.scalar(sa.select(User.id).where(sa.func.lower(User.email) == filters.csm.lower()))
        if csm is None:
            raise NotFound(f"no user {filters.csm!r} (cs users list)")
        parts.append(Customer.csm_id == csm)
    if filters.team:
        team = session.scalar(sa.select(Team.id).where(sa.func.lower(Team.name) == filters.team.lower()))
        if team is None:
            raise NotFound(f"no team {filters.team!r} (cs users list shows each user's team)")
        parts.append(Customer.csm_id.in_(sa.select(User.id).where(User.team_id == team)))
    if filters.segment:
        segment = session.scalar(sa.select(Segment.id).where(Segment.name == filters.segment))
        if segment is None:
            raise NotFound(f"no segment {filters.segment!r} (cs segments list)")
        end = day_end(on)
        member = sa.select(CustomerSegment.customer_id).where(
            CustomerSegment.segment_id == segment,
            CustomerSegment.entered_at < end,
            sa.or_(CustomerSegment.exited_at.is_(None), CustomerSegment.exited_at >= end),
        )
        parts.append(Customer.id.in_(member))
    return sa.and_(*parts)


def months(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """The calendar months from the one holding `start` to the one holding
    `end`, each as (first day, last day); the last one ends at `end`."""
    if end < start:
        raise BadInput(f"--to {end} is before --from {start}")
    out = []
    first = start.replace(day=1)
    while first <= end:
        following = (first + dt.timedelta(days=32)).replace(day=1)
        out.append((first, min(following - dt.timedelta(days=1), end)))
        first = following
    return out


def months_back(as_of: dt.date, count: int) -> dt.date:
    """The first day of the month `count - 1` months before `as_of`'s."""
    first = as_of.replace(day=1)
    for _ in range(count - 1):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return first


def wilson(k: int, n: int) -> Interval | None:
    """Wilson's 95% interval of a share k/n (sound for shares near 0 or 1,
    where churn rates live)."""
    if n == 0:
        return None
    p = k / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def share(part: float, whole: float) -> float | None:
    return part / whole if whole else None
