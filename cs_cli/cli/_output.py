"""Rendering for every command: data to stdout (table, JSON or CSV, streamed
row by row where the format allows), messages and progress to stderr."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def _console(stderr: bool):
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # Piped into a file or a pager, a table keeps its natural width instead of
    # being squeezed into 80 columns (COLUMNS still wins when set).
    width = None if stream.isatty() or os.environ.get("COLUMNS") else _PIPE_WIDTH
    # Messages are single lines for logs and people: never wrap them.
    return Console(
        stderr=stderr,
        highlight=False,
        soft_wrap=stderr,
        width=width,
        no_color=bool(os.environ.get("NO_COLOR")) or None,
    )


_PIPE_WIDTH = 250


_err_console = None


def err_console():
    global _err_console
    if _err_console is None:
        _err_console = _console(stderr=True)
    return _err_console


def message(text: str) -> None:
    """A message for a person: stderr, so stdout stays pure data. Plain
    text: data in it (a title "[urgent] ...") is never read as markup."""
    err_console().print(text, markup=False)


def warn(text: str) -> None:
    notice("warning:", text)


def notice(label: str, text: str, style: str = "yellow") -> None:
    """A message whose label is coloured (a caveat, a warning); the rest plain."""
    from rich.text import Text

    err_console().print(Text.assemble((label, style), " ", text))


def plain(value: Any) -> Any:
    """A value as JSON understands it."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    return str(value)


def cell(value: Any) -> str:
    """A value as one cell of a table or CSV."""
    if value is None:
        return ""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict | list):
        return json.dumps(plain(value), separators=(",", ":"))
    return str(value)


def table_cell(value: Any) -> str:
    """A value as a person reads it in a table: statuses in words ("at
    risk"), amounts without needless decimals (281,000), large numbers
    grouped."""
    if isinstance(value, Enum):
        return str(value.value).replace("_", " ")
    if isinstance(value, Decimal):
        return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return f"{value:,.0f}"
        return f"{value:,.2f}" if abs(value) >= 100 else f"{value:.3g}"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10_000:
        return f"{value:,}"
    return cell(value)


def text_cell(value: Any):
    """A value as a cell of a Rich table or panel: plain text, never markup,
    so data such as "[critical] ..." shows as it is."""
    from rich.text import Text

    return Text(cell(value))


def csv_cell(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return cell(value)


# Columns whose text may be cut short (with …) so that the others fit: free
# text, where the start says enough.
SQUEEZABLE = {
    "name",
    "customer_name",
    "title",
    "subject",
    "reason",
    "note",
    "description",
    "recipient",
    "data",
    "value",
    "source",
}
_SQUEEZED_MIN = 14
_SEPARATOR = 3  # " │ " between two columns


def emit_rows(
    rows: Iterable[dict[str, Any]],
    columns: Sequence[str],
    fmt: OutputFormat,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    chosen: Sequence[str] | None = None,
    pickable: bool = False,
) -> int:
    """Write rows to stdout in the chosen format; returns how many.

    `columns` are in order of importance. A table shows those that fit the
    terminal (free text cut short first, then the least important columns
    left out, which a line on stderr names); `chosen` (from --columns) shows
    exactly those, in the table and in CSV; `pickable`: the command has
    --columns (the line says so)."""
    if chosen:
        columns = list(chosen)
    headers = headers or {}
    out = sys.stdout
    count = 0
    if fmt == OutputFormat.JSON:
        out.write("[")
        for row in rows:
            if chosen:
                row = {c: row.get(c) for c in columns}
            out.write(("\n  " if count == 0 else ",\n  ") + json.dumps(plain(row), ensure_ascii=False))
            count += 1
        out.write("\n]\n" if count else "]\n")
        return count
    if fmt == OutputFormat.CSV:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([csv_cell(row.get(c)) for c in columns])
            count += 1
        return count
    from rich.table import Table

    console = _console(stderr=False)
    names = {c: headers.get(c, c.replace("_", " ")) for c in columns}
    cells = [[table_cell(row.get(c)) for c in columns] for row in rows]
    widths = {c: max([len(names[c]), *(len(line[i]) for line in cells)]) for i, c in enumerate(columns)}
    shown = list(columns) if chosen else fit_columns(columns, widths, console.width)
    left_out = [c for c in columns if c not in shown]
    sized = _sizes(shown, widths, console.width)
    table = Table(title=title, header_style="bold", show_edge=False, pad_edge=False)
    for column in shown:
        table.add_column(
            names[column],
            no_wrap=True,
            overflow="ellipsis" if column in SQUEEZABLE else "fold",
            width=sized[column],
        )
    keep = [(columns.index(c), c) for c in shown]
    for line in cells:
        table.add_row(*(_styled(line[i], column) for i, column in keep))
        count += 1
    console.print(table)
    if left_out and count:
        how = "--columns picks, or widen" if pickable else "widen, or --format csv for every column"
        message(f"left out at {console.width} columns: {', '.join(left_out)} ({how})")
    return count


def fit_columns(columns: Sequence[str], widths: dict[str, int], width: int) -> list[str]:
    """The columns that fit `width`, most important (first) kept: free-text
    columns count at their cut-short width, the others whole."""

    def need(c: str) -> int:
        return min(widths[c], _SQUEEZED_MIN) if c in SQUEEZABLE else widths[c]

    shown: list[str] = []
    used = 0
    for column in columns:
        extra = need(column) + (_SEPARATOR if shown else 0)
        if used + extra <= width:
            shown.append(column)
            used += extra
    return shown


def _sizes(shown: Sequence[str], widths: dict[str, int], width: int) -> dict[str, int]:
    """Each shown column's width: whole, except free text, which shares what
    room the others leave (cut short with …) when the whole does not fit."""
    sizes = dict(widths)
    total = sum(widths[c] for c in shown) + _SEPARATOR * (len(shown) - 1)
    squeezable = [c for c in shown if c in SQUEEZABLE]
    if total <= width or not squeezable:
        return sizes
    room = width - sum(widths[c] for c in shown if c not in SQUEEZABLE) - _SEPARATOR * (len(shown) - 1)
    for c in squeezable:
        sizes[c] = min(widths[c], _SQUEEZED_MIN)
    room -= sum(sizes[c] for c in squeezable)
    for c in squeezable:
        extra = max(0, min(widths[c] - sizes[c], room))
        sizes[c] += extra
        room -= extra
    return sizes


# Colour only where it carries meaning: how bad a status is, and lateness.
# NO_COLOR (and a pipe) turn it off with the rest of the styling.
_MEANING = {
    "critical": "bold red",
    "at risk": "yellow",
    "healthy": "green",
    "churned": "dim",
    "warning": "yellow",
    "high": "yellow",
    "dead": "red",
    "failed": "yellow",
}
_MEANINGFUL_COLUMNS = {"health_status", "severity", "priority", "status"}


def _styled(value: str, column: str):
    from rich.text import Text

    if column in _MEANINGFUL_COLUMNS:
        return Text(value, style=_MEANING.get(value, ""))
    if value.endswith("(overdue)"):
        return Text(value, style="red")
    return Text(value)


PAGE_SIZE = 50


def rows_wanted(
    fmt: OutputFormat, limit: int | None, all_rows: bool = False, page: int = PAGE_SIZE
) -> int | None:
    """How many rows a listing fetches: a table pages (`page` rows unless
    --limit says otherwise), while json and csv, read by scripts, get every
    row unless --limit caps them (None = every row)."""
    if all_rows:
        return None
    if limit is not None:
        return limit
    return page if fmt == OutputFormat.TABLE else None


def peek(wanted: int | None) -> int | None:
    """The rows to fetch for a listing that does not count its whole: one
    past the page, so `cut` can tell whether there are more."""
    return None if wanted is None else wanted + 1


def cut(rows: list[Any], wanted: int | None) -> tuple[list[Any], bool]:
    """Rows fetched with `peek`, cut back to the page; True when there are more."""
    if wanted is None or len(rows) <= wanted:
        return rows, False
    return rows[:wanted], True


def paging_note(
    fmt: OutputFormat,
    *,
    offset: int,
    shown: int,
    total: int,
    noun: str,
    exact: bool = True,
    extra: str = "",
    pageable: bool = True,
) -> None:
    """Say on stderr where these rows sit in the whole: a table always
    says it, json and csv only when --limit or --offset left rows out, so a
    script never loses rows without a word. Not `exact`: the count stopped
    at `total` and there are more. Not `pageable`: the listing has no
    --offset, only --limit and --all."""
    end = offset + shown
    more = not exact or total > end
    of = f"{total:,}" if exact else f"more than {total:,}"
    if fmt != OutputFormat.TABLE:
        if more or offset:
            first = f"rows {offset + 1}-{end}" if shown else "no rows"
            flags = "--limit/--offset" if pageable else "--limit"
            message(f"{first} of {of} {noun}{extra} ({flags} left the rest out)")
        return
    if not more and not offset:
        message(f"{total:,} {noun[:-1] if total == 1 and noun.endswith('s') else noun}{extra}")
        return
    where = f"{offset + 1}-{end}" if shown else "none"
    if not more:
        next_page = ""
    elif pageable:
        next_page = f"; next page: --offset {end} (or --all)"
    else:
        next_page = "; more: --limit N or --all"
    message(f"{where} of {of} {noun}{extra}{next_page}")


def emit_object(obj: dict[str, Any], fmt: OutputFormat) -> None:
    """One record: JSON as an object, CSV as key,value lines."""
    if fmt == OutputFormat.JSON:
        sys.stdout.write(json.dumps(plain(obj), indent=2, ensure_ascii=False) + "\n")
    elif fmt == OutputFormat.CSV:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["field", "value"])
        for key, value in obj.items():
            writer.writerow([key, csv_cell(value)])
    else:
        raise ValueError("tables render through the command's own view")


def stdout_console(max_width: int | None = None):
    """The console for data on stdout; `max_width` keeps cards (panels) from
    stretching across a wide terminal or a pipe."""
    console = _console(stderr=False)
    if max_width is not None and console.width > max_width:
        console.width = max_width
    return console


def dataclass_rows(items: Iterable[Any]) -> Iterator[dict[str, Any]]:
    for item in items:
        yield {f.name: getattr(item, f.name) for f in dataclasses.fields(item)}


def is_terminal() -> bool:
    return sys.stderr.isatty()


class progress_bar:
    """`with progress_bar(total) as advance:` a bar on stderr, gone when
    done, for work of `total` units at a terminal, with the stage under way
    (`advance(n, stage=...)`), the units done and the time left; `advance` is
    None (no bar) under cron, in a pipe, or for small work."""

    def __init__(self, total: int, description: str = "scoring", *, least: int = 1000) -> None:
        self.total = total
        self.description = description
        self.least = least
        self._bar = None

    def __enter__(self):
        if not is_terminal() or self.total < self.least:
            return None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err_console(),
            transient=True,
        )
        self._bar.start()
        task = self._bar.add_task(self.description, total=self.total)

        def advance(n: float, stage: str | None = None) -> None:
            """`n` more units done; `stage` names what runs now."""
            if stage is not None:
                self._bar.update(task, description=f"{self.description}: {stage}")
            self._bar.advance(task, n)

        return advance

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()


def auc_text(s) -> str:
    """An AUC with its interval, "0.81 (0.79 to 0.83)"; "-" when there is none."""
    if s is None or s.auc is None:
        return "-"
    interval = f" ({s.low:.2f} to {s.high:.2f})" if s.low is not None else ""
    return f"{s.auc:.2f}{interval}"


def write_file(path: str, data: bytes) -> None:
    """Write a whole file (`-`: stdout): into a temporary file beside it,
    then renamed over it, so a reader never sees half of it (a calendar
    subscribed to it, say) and a failure leaves the old one."""
    if path == "-":
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    with replacing_file(path) as out:
        out.write(data)


@contextlib.contextmanager
def replacing_file(path: str):
    """A binary file to write `path` through, bit by bit: a temporary file
    beside it, renamed over it when the block ends well, removed if not."""
    import os
    import tempfile
    from pathlib import Path

    from cs_cli.errors import BadInput

    target = Path(path).expanduser()
    if not target.parent.is_dir():
        raise BadInput(f"{path}: no directory {target.parent}")
    if target.is_dir():
        raise BadInput(f"{path} is a directory")
    try:
        handle, scratch = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    except PermissionError as exc:
        raise BadInput(f"{path}: cannot write there ({exc.strerror})") from None
    try:
        with os.fdopen(handle, "wb") as out:
            yield out
        os.chmod(scratch, 0o644)
        os.replace(scratch, target)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise
