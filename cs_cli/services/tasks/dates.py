"""The one way people write a day: YYYY-MM-DD, +3d, +2w, today or tomorrow
for a task's day, and -3d, -1w or yesterday for a day gone by (a
touchpoint's); the CLI's options and the board's forms."""

from __future__ import annotations

import datetime as dt
import re

from cs_cli import dates
from cs_cli.errors import BadInput

_RELATIVE = re.compile(r"^([+-])(\d{1,4})([dw])$")


def parse_day(text: str, base: dt.date, option: str) -> dt.date:
    """A date as YYYY-MM-DD, +3d, +2w, today or tomorrow (from `base`);
    `option` names the field in the error."""
    day = _read_day(text, base, option)
    if not dates.in_range(day):
        raise BadInput(f"{option}: {dates.out_of_range(text)}")
    return day


def _read_day(text: str, base: dt.date, option: str) -> dt.date:
    word = text.strip().lower()
    if word == "today":
        return base
    if word == "tomorrow":
        return base + dt.timedelta(days=1)
    if word == "yesterday":
        return base - dt.timedelta(days=1)
    relative = _RELATIVE.match(word)
    if relative:
        sign = 1 if relative.group(1) == "+" else -1
        n = int(relative.group(2))
        return base + sign * dt.timedelta(days=n * (7 if relative.group(3) == "w" else 1))
    try:
        return dt.date.fromisoformat(word)
    except ValueError:
        raise BadInput(
            f"{option}: '{text}' is not a date (use YYYY-MM-DD, +3d, +2w, today or tomorrow)"
        ) from None
