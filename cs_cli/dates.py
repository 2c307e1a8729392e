"""The range of dates cs accepts wherever a date is read: files, rules,
command-line options.

Python's dates run from year 1 to 9999, but a moment near either end
overflows as soon as it is moved to UTC or a day is added to it (a rule's
`lte: 9999-12-31`), and PostgreSQL stores 9999-12-31T23:30-05:00 as year
10000, which Python cannot read back. No customer-success fact needs such
dates, so cs keeps to a range with room on both sides. docs/limits.md
lists it.
"""

from __future__ import annotations

import datetime as dt

FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2200, 12, 31)
RANGE = f"{FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}"


def in_range(value: dt.date | dt.datetime) -> bool:
    """Whether a date, or a moment (its UTC day; a naive one is UTC), is
    within FIRST_DAY..LAST_DAY."""
    if isinstance(value, dt.datetime):
        if value.utcoffset():
            try:
                value = value.astimezone(dt.UTC)
            except OverflowError:  # year 1 or 9999, moved out of Python's range
                return False
        value = value.date()
    return FIRST_DAY <= value <= LAST_DAY


def out_of_range(text: object) -> str:
    """The reason for a date outside the range, naming the value as given."""
    return f"{text!r} is outside the dates cs accepts ({RANGE})"
