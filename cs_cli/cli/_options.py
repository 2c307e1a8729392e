"""Option types shared by every command, declared once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, TypeVar

import typer

from cs_cli.cli._output import OutputFormat

DateOrTime = TypeVar("DateOrTime", dt.date, dt.datetime)

FormatOpt = Annotated[
    OutputFormat,
    typer.Option("--format", "-f", help="Output format: a table for people, json or csv for scripts."),
]


def parse_date(text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"'{text}' is not a date (use YYYY-MM-DD)") from None
    return in_range(day, text)


def in_range(value: DateOrTime, text: str) -> DateOrTime:
    """`value` (read from `text`) if cs accepts its date, else the option's error."""
    from cs_cli import dates

    if not dates.in_range(value):
        raise typer.BadParameter(dates.out_of_range(text))
    return value


def parse_days(text: str | int) -> int:
    """'90d', '12w' or '90' as a whole number of days (at least one)."""
    raw = str(text).strip().lower()
    number, per = (raw[:-1], {"d": 1, "w": 7}[raw[-1]]) if raw[-1:] in ("d", "w") else (raw, 1)
    if not number.isdigit() or not 0 < int(number) * per <= 3650:
        raise typer.BadParameter(f"'{text}' is not a number of days (like 7d, 4w or 90d)")
    return int(number) * per


AsOfOpt = Annotated[
    dt.date | None,
    typer.Option(
        "--as-of",
        help="Act as if today were this date (YYYY-MM-DD); for replays and backfills.",
        parser=parse_date,
        metavar="DATE",
        show_default="today",
    ),
]
# Snapshot days of a backtest or a churn model: --from, --to, --horizon.
SnapshotFromOpt = Annotated[
    dt.date | None,
    typer.Option(
        "--from",
        parser=parse_date,
        metavar="DATE",
        help="First snapshot day.",
        show_default="a year before --to",
    ),
]
SnapshotToOpt = Annotated[
    dt.date | None,
    typer.Option(
        "--to",
        parser=parse_date,
        metavar="DATE",
        help="Last snapshot day.",
        show_default="the last day whose horizon has passed",
    ),
]
HorizonOpt = Annotated[
    int,
    typer.Option(
        parser=parse_days, metavar="DAYS", help="Churn counts within this many days after a snapshot."
    ),
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (for scripts).")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Show what would change; change nothing.")]
LimitOpt = Annotated[
    int | None,
    typer.Option(
        "--limit",
        "-n",
        min=1,
        metavar="N",
        help="At most N rows. A table shows a page of 50 unless told; json and csv give every row.",
        show_default=False,
    ),
]
ColumnsOpt = Annotated[
    str | None,
    typer.Option(
        "--columns",
        metavar="A,B,...",
        help="Only these columns, in this order (table, csv and json); a bad name lists them all.",
        show_default=False,
    ),
]


def pick_columns(spec: str | None, available: Sequence[str]) -> list[str] | None:
    """The columns --columns names, checked against those the listing has."""
    from cs_cli.errors import BadInput

    if spec is None:
        return None
    names = [name.strip() for name in spec.split(",") if name.strip()]
    unknown = [name for name in names if name not in available]
    if unknown or not names:
        what = f"no column '{unknown[0]}'" if unknown else "name at least one column"
        raise BadInput(f"--columns: {what} (choose from: {', '.join(available)})")
    return names


AllOpt = Annotated[bool, typer.Option("--all", help="Every row in the table too, no paging.")]
OffsetOpt = Annotated[int, typer.Option("--offset", help="Rows to skip (for paging).", min=0)]


def confirm_or_abort(what: str, yes: bool) -> None:
    """Ask before destroying data: a prompt at a terminal, --yes otherwise."""
    import sys

    from cs_cli.errors import BadInput

    if yes:
        return
    if not sys.stdin.isatty():
        raise BadInput(f"{what}; pass --yes to confirm when not at a terminal")
    typer.confirm(f"{what}. Go on?", abort=True)


def today(as_of: dt.date | None) -> dt.date:
    """The date a command acts on: --as-of, else today in UTC."""
    return as_of or dt.datetime.now(dt.UTC).date()


def now(as_of: dt.date | None) -> dt.datetime:
    """The moment a command acts at: the end of the --as-of day, else now (UTC)."""
    if as_of is None:
        return dt.datetime.now(dt.UTC)
    return dt.datetime.combine(as_of, dt.time(23, 59, 59), tzinfo=dt.UTC)
