"""`cs audit`: the audit trail, for admins: who changed or read what, and
whether the trail is whole (docs/security.md)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

import typer

from cs_cli.cli import _runtime
from cs_cli.cli._options import AllOpt, FormatOpt, LimitOpt, OffsetOpt, parse_date
from cs_cli.cli._output import OutputFormat, emit_object, emit_rows, message, paging_note, rows_wanted

app = typer.Typer(
    help="""The audit trail: every change (imports, recalculations, overrides,
segments, playbooks, journeys, tasks, users, schema) and every read of
customer data (show, export, reports, the board's Customer 360), by whom,
when and with which command. Append-only and hash-chained: `cs audit
verify` finds an entry edited, inserted or deleted behind cs's back.
Admins only.""",
    no_args_is_help=True,
)

SinceOpt = Annotated[
    dt.date | None, typer.Option("--since", parser=parse_date, metavar="DATE", help="From this day on.")
]
UntilOpt = Annotated[
    dt.date | None, typer.Option("--until", parser=parse_date, metavar="DATE", help="Up to this day.")
]
ActorOpt = Annotated[
    str | None, typer.Option("--actor", metavar="NAME", help="Entries by this person (name or email).")
]
ActionOpt = Annotated[
    str | None,
    typer.Option("--action", metavar="ACTION", help="This action, or all of a kind ending in '.': task."),
]
EntityOpt = Annotated[
    str | None, typer.Option("--entity", metavar="TYPE[:ID]", help="Entries on this kind of thing (task:12).")
]
CustomerOpt = Annotated[
    str | None, typer.Option("--customer", metavar="CUSTOMER", help="Entries on this customer (external id).")
]
COLUMNS = ["seq", "occurred_at", "actor", "action", "customer", "entity", "details", "command"]


def _filters(since, until, actor, action, entity, customer):
    from cs_cli.services.audit_log import AuditFilter

    return AuditFilter(since=since, until=until, actor=actor, action=action, entity=entity, customer=customer)


def _listed(row) -> dict:
    return {
        "seq": row.seq,
        "occurred_at": row.occurred_at,
        "actor": row.actor,
        "action": row.action,
        "entity": row.entity_type + (f":{row.entity_id}" if row.entity_id else ""),
        "customer": row.customer or (f"#{row.customer_id}" if row.customer_id else None),
        "details": row.details,
        "command": row.command,
    }


def _exported(row) -> dict:
    from cs_cli.services.audit_log import EXPORT_FIELDS

    return {name: getattr(row, name) for name in EXPORT_FIELDS}


@app.command("list")
def list_entries(
    since: SinceOpt = None,
    until: UntilOpt = None,
    actor: ActorOpt = None,
    action: ActionOpt = None,
    entity: EntityOpt = None,
    customer: CustomerOpt = None,
    limit: LimitOpt = None,
    offset: OffsetOpt = 0,
    all_rows: AllOpt = False,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """The entries, newest first: a page in a table, every one as json or
    csv (unless --limit).

    Examples:

      cs audit list --customer C-00107 --since 2026-11-01

      cs audit list --action task. --actor ana@example.com
    """
    from cs_cli.services.audit_log import entries

    wanted = rows_wanted(fmt, limit, all_rows)
    filters = _filters(since, until, actor, action, entity, customer)
    with _runtime.session() as (session, who):
        rows, total = entries(session, who, filters, limit=wanted, offset=offset)
    emit_rows((_listed(r) for r in rows), COLUMNS, fmt)
    paging_note(fmt, offset=offset, shown=len(rows), total=total, noun="entries")


@app.command()
def show(
    seq: Annotated[int, typer.Argument(help="The entry's number (the seq column of cs audit list).")],
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """One entry whole: what was done, by whom, with which command, and its
    place in the chain (its hash and the one before).

    Example: cs audit show 1024
    """
    import json

    from cs_cli.services.audit_log import entry

    with _runtime.session() as (session, who):
        row = entry(session, who, seq)
    record = _exported(row)
    if fmt != OutputFormat.TABLE:
        emit_object(record, fmt)
        return
    lines = [
        {"field": k, "value": json.dumps(v, indent=2, ensure_ascii=False) if k == "details" and v else v}
        for k, v in record.items()
    ]
    emit_rows(lines, ["field", "value"], fmt)


class ExportFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


@app.command()
def export(
    since: SinceOpt = None,
    until: UntilOpt = None,
    actor: ActorOpt = None,
    action: ActionOpt = None,
    entity: EntityOpt = None,
    customer: CustomerOpt = None,
    fmt: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="jsonl (one entry a line) or csv.")
    ] = ExportFormat.JSONL,
) -> None:
    """Every entry of the filters, oldest first, with its hashes, to stdout:
    to archive, or to check the chain elsewhere. Streams: the trail is
    never held in memory.

    Example: cs audit export --since 2026-01-01 > audit-2026.jsonl
    """
    import sys

    from cs_cli.services.audit_log import every_entry, write_export

    filters = _filters(since, until, actor, action, entity, customer)
    with _runtime.session() as (session, who):
        count = write_export(sys.stdout, every_entry(session, who, filters), fmt.value)
    message(f"exported {count:,} audit entries")


@app.command()
def verify() -> None:
    """Walk the whole chain and say whether it holds: the first entry
    edited, inserted or deleted behind cs's back (exit 1), else how many
    entries hold (exit 0).

    Example: cs audit verify
    """
    from cs_cli.errors import CsError
    from cs_cli.services.audit import verify as walk
    from cs_cli.services.audit_log import check_reader

    with _runtime.session() as (session, who):
        check_reader(who)
        checked, broken = walk(session)
    if broken is None:
        message(f"the audit chain holds: {checked:,} entries")
        return
    where = f"entry {broken.seq}" if broken.seq is not None else f"an entry (id {broken.entry_id})"
    raise CsError(f"the audit chain breaks at {where} after {checked:,} good entries: {broken.problem}")
