"""What the `cs analytics` commands (and `cs report`) share: the options
that pick a part of the book and a period, and how figures are written."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import typer

from cs_cli.cli._options import parse_date, today
from cs_cli.cli._output import OutputFormat, emit_rows

ScopeOpt = Annotated[str, typer.Option("--scope", help="mine, team or all (what you may see).")]
CsmOpt = Annotated[
    str | None, typer.Option("--csm", help="Only this CSM's customers (email).", metavar="EMAIL")
]
SegmentOpt = Annotated[
    str | None, typer.Option("--segment", help="Only the members of this segment.", metavar="NAME")
]
PlanOpt = Annotated[str | None, typer.Option("--plan", help="Only customers on this plan.", metavar="PLAN")]
TeamOpt = Annotated[
    str | None,
    typer.Option("--team", help="Only the customers of this team's CSMs (cs users list).", metavar="NAME"),
]
FromOpt = Annotated[
    dt.date | None,
    typer.Option("--from", parser=parse_date, metavar="DATE", help="First day (default: 12 months back)."),
]
ToOpt = Annotated[
    dt.date | None, typer.Option("--to", parser=parse_date, metavar="DATE", help="Last day (default: today).")
]
BAR = 24


def filters_from(scope: str, csm: str | None, segment: str | None, plan: str | None, team: str | None = None):
    from cs_cli.services.metrics.filters import Filters

    return Filters(scope=scope, csm=csm, segment=segment, plan=plan, team=team)


def span(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    from cs_cli.services.metrics.filters import months_back

    last = end or today(None)
    return start or months_back(last, 12), last


def bar(value: float | None, most: float, width: int = BAR) -> str:
    """A bar of eighth blocks, `width` long for `most`."""
    if not value or most <= 0:
        return ""
    eighths = round(8 * width * max(0.0, value) / most)
    return "█" * (eighths // 8) + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[eighths % 8]


def pct(value: float | None, digits: int = 1) -> str | None:
    return None if value is None else f"{100 * value:.{digits}f}%"


def interval_text(interval: Any, scale: float = 100.0, digits: int = 1) -> str | None:
    if interval is None:
        return None
    return f"{scale * interval.low:.{digits}f}..{scale * interval.high:.{digits}f}"


def month(day: dt.date) -> str:
    return day.strftime("%Y-%m")


def columns_of(table: list[dict], default: list[str]) -> list[str]:
    """A table's columns: its first row's keys (the default when it has none)."""
    return list(table[0]) if table else default


def for_scripts(rows: list[dict], columns: list[str], fmt: OutputFormat) -> bool:
    """json or csv: every row written, True (the command is done); for a
    table, False: the command draws its own."""
    if fmt == OutputFormat.TABLE:
        return False
    emit_rows(rows, columns, fmt)
    return True
