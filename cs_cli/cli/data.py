"""`cs import` and `cs export`: moving the book of business in and out."""

from __future__ import annotations

import datetime as dt
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cs_cli.cli import _runtime
from cs_cli.cli._options import now, parse_date
from cs_cli.cli._output import is_terminal, message, warn


class Entity(StrEnum):
    CUSTOMERS = "customers"
    CONTACTS = "contacts"
    USERS = "users"
    EVENTS = "events"
    TOUCHPOINTS = "touchpoints"
    TICKETS = "tickets"
    INVOICES = "invoices"
    NPS = "nps"


class FileFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


IMPORT_HELP = """\
Import ENTITY rows from a CSV or JSONL FILE (format by extension, or
--format).

Rows are upserted by their external id (users by email), so importing the
same file again changes nothing; events are appended, and a file already
imported is skipped. In files, customer_id and contact_id are your source
systems' ids and people are named by email. Customer columns that cs does
not know are kept as typed attributes. Import in this order: users,
customers, contacts, then the rest.

If any row is bad, nothing from the file is written and the error names
file:line:column (exit 2). With --skip-invalid the good rows are written
and the bad ones go to a rejects file with their reasons.

Example: cs import customers crm_export.csv --map crm_map.yaml

See docs/importing.md for every column of every entity.
"""


def import_(
    entity: Annotated[Entity, typer.Argument(help="What the file holds.")],
    file: Annotated[Path, typer.Argument(help="CSV or JSONL file (.gz allowed).", dir_okay=False)],
    fmt: Annotated[
        FileFormat | None, typer.Option("--format", help="File format, when the extension does not say.")
    ] = None,
    map_file: Annotated[
        Path | None,
        typer.Option("--map", help="YAML map: rename columns and translate values.", dir_okay=False),
    ] = None,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Write the good rows; put bad ones in the rejects file.")
    ] = False,
    rejects: Annotated[
        Path | None,
        typer.Option(help="Where --skip-invalid writes rejected rows.", show_default="FILE.rejects.csv"),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Append events even if this file was imported.")
    ] = False,
    as_of: Annotated[
        dt.date | None,
        typer.Option(
            "--as-of",
            help="The file is a snapshot of this day (YYYY-MM-DD): customer facts (ARR, plan, seats,"
            " renewal, status, CSM, attributes) take effect at its end, as do the events the rows imply"
            " (customer.created...); import monthly exports with it to give scores a history.",
            parser=parse_date,
            metavar="DATE",
            show_default="now",
        ),
    ] = None,
) -> None:
    from cs_cli.errors import BadInput
    from cs_cli.services.importers import SourceFormat, import_file, load_map

    mapping = load_map(map_file) if map_file else None
    settings = _runtime.STATE.settings()
    rejects_path = rejects or file.with_name(file.name + ".rejects.csv")
    sink = _RejectsFile(rejects_path) if skip_invalid else None
    started = time.perf_counter()
    try:
        with _runtime.session() as (session, actor), _progress(file) as progress:
            result = import_file(
                session,
                actor,
                entity.value,
                file,
                now=now(as_of),
                fmt=SourceFormat(fmt.value) if fmt else None,
                mapping=mapping,
                skip_invalid=skip_invalid,
                on_reject=sink.write if sink else None,
                batch_size=settings.batch_size,
                force=force,
                progress=progress,
                recorded_at=dt.datetime.now(dt.UTC),
                analyser=_text_analyser(entity.value, settings.text_lexicon),
            )
            if skip_invalid and result.rows_read and result.rejected == result.rows_read:
                # Raised inside the session: the import's record is not kept either.
                rows = "its one row was" if result.rows_read == 1 else f"all {result.rows_read:,} rows were"
                raise BadInput(f"{file}: {rows} rejected, nothing written (reasons in {rejects_path})")
    finally:
        if sink:
            sink.close()
    elapsed = time.perf_counter() - started
    for text in result.warnings:
        warn(text)
    if result.already_imported_at is not None:
        message(
            f"{file}: already imported on {result.already_imported_at:%Y-%m-%d %H:%M}; "
            "nothing written (use --force to append its events again)"
        )
        return
    rate = f", {result.rows_read / elapsed:,.0f} rows/s" if elapsed > 0 and result.rows_read >= 10_000 else ""
    summary = (
        f"{file}: {result.rows_read:,} rows read; {result.created:,} created, {result.updated:,} updated, "
        f"{result.unchanged:,} unchanged"
    )
    if result.backdated:
        summary += (
            f"; {result.backdated:,} customers' facts of that day put into their history"
            " (later ones were known)"
        )
    if skip_invalid:
        summary += f", {result.rejected:,} rejected"
        if result.rejected:
            summary += f" (see {rejects_path})"
    message(f"{summary} in {elapsed:.1f} s{rate}")


import_.__doc__ = IMPORT_HELP


class _RejectsFile:
    """Rejected rows with line, column and reason; created on the first reject."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle = None
        self._writer = None
        if path.exists():
            path.unlink()

    def write(self, reject) -> None:
        import csv
        import json

        if self._writer is None:
            self._handle = self.path.open("w", newline="", encoding="utf-8")
            self._writer = csv.writer(self._handle)
            self._writer.writerow(["line", "column", "reason", "record"])
        record = reject.record
        if not isinstance(record, str):
            record = json.dumps(record, ensure_ascii=False, default=str)
        self._writer.writerow([reject.line, reject.column or "", reject.reason, record])

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


def _text_analyser(entity: str, lexicon_setting: str):
    """For touchpoints and tickets, the analyser with your lexicon (read
    before the import starts, so a bad lexicon file stops it at once)."""
    if entity not in ("touchpoints", "tickets"):
        return None
    from cs_cli.services.text.sentiment import configured_analyser

    return configured_analyser(lexicon_setting)


class _progress:
    """A progress bar over the file's bytes, only when stderr is a terminal."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self._progress = None

    def __enter__(self):
        if not is_terminal() or not self.file.is_file():
            return None
        from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

        from cs_cli.cli._output import err_console

        self._progress = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=err_console(),
            transient=True,
        )
        self._progress.start()
        task = self._progress.add_task(f"importing {self.file.name}", total=self.file.stat().st_size)
        return lambda done: self._progress.update(task, completed=done)

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.stop()


def export(
    entity: Annotated[Entity, typer.Argument(help="What to export.")],
    fmt: Annotated[FileFormat, typer.Option("--format", "-f", help="csv or jsonl.")] = FileFormat.CSV,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file instead of stdout.", dir_okay=False),
    ] = None,
) -> None:
    """Export ENTITY rows you can see, in the shape `cs import` reads back.

    Rows stream in id order, so exports of any size use little memory.

    Example: cs export customers --format jsonl -o customers.jsonl
    """
    from cs_cli.services.exporters import attribute_names, export_columns, export_rows

    columns = export_columns(entity.value)
    with _runtime.session() as (session, actor):
        if entity == Entity.CUSTOMERS and fmt == FileFormat.CSV:
            columns = columns + [a for a in attribute_names(session, actor) if a not in columns]
        count = write_records(export_rows(session, actor, entity.value), columns, fmt, output)
    if output:
        message(f"exported {count:,} {entity.value} to {output}")


def write_records(records, columns: list[str], fmt: FileFormat, output: Path | None) -> int:
    """Write records as CSV (these columns) or JSON lines, to a file or
    stdout, one at a time; returns how many."""
    import csv
    import json
    import sys

    from cs_cli.cli._output import csv_cell, plain

    count = 0
    handle = output.open("w", newline="", encoding="utf-8") if output else sys.stdout
    try:
        if fmt == FileFormat.CSV:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(columns)
            for row in records:
                writer.writerow([csv_cell(row.get(c)) for c in columns])
                count += 1
        else:
            for row in records:
                handle.write(json.dumps(plain(row), ensure_ascii=False) + "\n")
                count += 1
    finally:
        if output:
            handle.close()
    return count
