"""`cs segments`: define segments with rules or by hand, refresh them, and
look inside."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cs_cli.cli import _runtime
from cs_cli.cli._options import (
    AllOpt,
    AsOfOpt,
    FormatOpt,
    LimitOpt,
    OffsetOpt,
    YesOpt,
    confirm_or_abort,
    now,
    today,
)
from cs_cli.cli._output import (
    OutputFormat,
    cell,
    cut,
    dataclass_rows,
    emit_object,
    emit_rows,
    message,
    paging_note,
    peek,
    plain,
    progress_bar,
    rows_wanted,
    text_cell,
    warn,
)
from cs_cli.enums import SegmentType

app = typer.Typer(
    help="""Segments: rule-defined (dynamic) and hand-picked (static) groups of customers.

A dynamic segment's rules say who is in it; `cs segments refresh` (hourly
from cron) moves customers in and out and records when. docs/segments.md
documents the rule language; `cs segments fields` lists what rules can use.""",
    no_args_is_help=True,
)

RulesOpt = Annotated[
    str | None,
    typer.Option(
        "--rules",
        help='Rules as JSON (or short YAML), e.g. \'{"health_score": {"lt": 50}, "arr": {"gte": 100000}}\'.',
        metavar="JSON",
    ),
]
RulesFileOpt = Annotated[
    Path | None,
    typer.Option("--rules-file", help="Rules from a JSON or YAML file.", dir_okay=False, metavar="FILE"),
]

LIST_COLUMNS = ["name", "segment_type", "customer_count", "total_arr", "avg_health_score", "refreshed_at"]
HEADERS = {"segment_type": "type", "customer_count": "customers", "avg_health_score": "avg health"}
MEMBER_COLUMNS = [
    "external_id",
    "name",
    "arr",
    "plan",
    "health_score",
    "health_status",
    "renewal_date",
    "csm_email",
]


def _rules(text: str | None, path: Path | None) -> dict[str, Any] | None:
    from cs_cli.errors import BadInput
    from cs_cli.rules import read_rules_file, read_rules_text

    if text is not None and path is not None:
        raise BadInput("give --rules or --rules-file, not both")
    if text is not None:
        return read_rules_text(text)[0]
    if path is not None:
        return read_rules_file(path)[0]
    return None


@app.command("list")
def list_(
    include_inactive: Annotated[bool, typer.Option("--all", help="Include inactive segments.")] = False,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """List segments with their members, ARR and average health as of their
    last refresh."""
    from cs_cli.services.segments.definitions import list_segments

    with _runtime.session() as (session, _actor):
        rows = list_segments(session, include_inactive=include_inactive)
    columns = LIST_COLUMNS + (["is_active"] if include_inactive else [])
    if fmt != OutputFormat.TABLE:
        columns = ["id", *columns, "description", "rules", "ai_confidence", "ai_reasoning"]
    emit_rows(dataclass_rows(rows), columns, fmt, headers=HEADERS)
    if fmt == OutputFormat.TABLE and not rows:
        message("no segments yet: create one with `cs segments create NAME --rules JSON`")


@app.command()
def show(
    segment: Annotated[str, typer.Argument(help="Segment name (or id).")],
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Show a segment: type, rules, metrics and when it was last refreshed."""
    from cs_cli.services.segments.definitions import find_segment, segment_row

    with _runtime.session() as (session, _actor):
        row = segment_row(find_segment(session, segment))
    if fmt != OutputFormat.TABLE:
        emit_object(plain(row), fmt)
        return
    _card(row)


def _card(row) -> None:
    import json

    from rich.table import Table
    from rich.text import Text

    from cs_cli.cli._output import stdout_console

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()
    state = "" if row.is_active else ", inactive"
    grid.add_row("segment", Text.assemble((row.name, "bold"), f" ({row.segment_type.value}{state})"))
    if row.description:
        grid.add_row("about", text_cell(row.description))
    grid.add_row("customers", f"{row.customer_count:,}")
    grid.add_row("total ARR", cell(row.total_arr) or "-")
    grid.add_row("avg health", cell(row.avg_health_score) or "-")
    grid.add_row("refreshed", cell(row.refreshed_at) if row.refreshed_at else "never")
    if row.ai_confidence is not None:
        grid.add_row("confidence", f"{row.ai_confidence:.2f} (F1 of its rules against the cluster found)")
    if row.ai_reasoning:
        grid.add_row("reasoning", text_cell(row.ai_reasoning))
    if row.rules:
        grid.add_row("rules", text_cell(json.dumps(row.rules, indent=2, ensure_ascii=False)))
    stdout_console(max_width=120).print(grid)


@app.command()
def create(
    name: Annotated[str, typer.Argument(help="A name, unique among segments.")],
    rules: RulesOpt = None,
    rules_file: RulesFileOpt = None,
    segment_type: Annotated[
        SegmentType | None,
        typer.Option(
            "--type",
            help="dynamic (rules decide), static (hand-picked) or ai_generated.",
            show_default="dynamic with rules, else static",
        ),
    ] = None,
    description: Annotated[str | None, typer.Option(help="What the segment is for.")] = None,
) -> None:
    """Create a segment. With rules it is dynamic: run `cs segments refresh NAME`
    to fill it. Without, it is static: add customers with `cs segments add`.

    Examples:

      cs segments create "At-risk big" --rules '{"health_score": {"lt": 50}}'

      cs segments create "Renewing soon" --rules-file renewing.yaml

      cs segments create "Beta programme" --description "Early access to v2"
    """
    from cs_cli.services.segments.definitions import create_segment

    document = _rules(rules, rules_file)
    kind = segment_type or (SegmentType.DYNAMIC if document is not None else SegmentType.STATIC)
    with _runtime.session() as (session, actor):
        row = create_segment(
            session,
            actor,
            name=name,
            segment_type=kind,
            description=description,
            document=document,
            now=now(None),
        )
        if document is not None:
            _warn_about_attributes(session, document)
    hint = (
        "fill it with `cs segments refresh`"
        if kind == SegmentType.DYNAMIC
        else "add customers with `cs segments add`"
    )
    message(f"created {kind.value} segment '{row.name}'; {hint}")


@app.command()
def update(
    segment: Annotated[str, typer.Argument(help="Segment name (or id).")],
    new_name: Annotated[str | None, typer.Option("--name", help="Rename the segment.")] = None,
    description: Annotated[str | None, typer.Option(help="New description.")] = None,
    rules: RulesOpt = None,
    rules_file: RulesFileOpt = None,
    active: Annotated[
        bool | None,
        typer.Option(
            "--active/--inactive",
            help="An inactive segment is left out of `refresh --all`.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Change a segment's name, description, rules, or whether it is active.
    New rules take effect at the next refresh.

    Example:

      cs segments update "Renewing soon" --rules '{"days_to_renewal": {"lte": 60}}'
    """
    from cs_cli.services.segments.definitions import update_segment

    document = _rules(rules, rules_file)
    with _runtime.session() as (session, actor):
        row = update_segment(
            session,
            actor,
            segment,
            new_name=new_name,
            description=description,
            document=document,
            is_active=active,
            now=now(None),
        )
        if document is not None:
            _warn_about_attributes(session, document)
    message(f"updated segment '{row.name}'" + ("; refresh it to apply the new rules" if document else ""))


@app.command()
def delete(
    segment: Annotated[str, typer.Argument(help="Segment name (or id).")],
    yes: YesOpt = False,
) -> None:
    """Delete a segment and its membership history (consider --inactive instead)."""
    from cs_cli.services.segments.definitions import delete_segment

    confirm_or_abort(f"delete segment '{segment}' and its membership history", yes)
    with _runtime.session() as (session, actor):
        row = delete_segment(session, actor, segment, now=now(None))
    message(f"deleted segment '{row.name}' ({row.customer_count} members)")


@app.command()
def add(
    segment: Annotated[str, typer.Argument(help="A static segment's name.")],
    customers: Annotated[list[str], typer.Argument(help="External ids of customers.", metavar="CUSTOMER...")],
) -> None:
    """Add customers to a static segment.

    Example: cs segments add "Beta programme" C-00107 C-00231
    """
    from cs_cli.services.segments.members import add_members

    with _runtime.session() as (session, actor):
        added, already = add_members(session, actor, segment, customers, as_of=today(None), now=now(None))
    note = f" ({already} already members)" if already else ""
    message(f"added {added} customer{'s' if added != 1 else ''} to '{segment}'{note}")


@app.command()
def remove(
    segment: Annotated[str, typer.Argument(help="A static segment's name.")],
    customers: Annotated[list[str], typer.Argument(help="External ids of customers.", metavar="CUSTOMER...")],
) -> None:
    """Take customers out of a static segment (their stay is kept in history)."""
    from cs_cli.services.segments.members import remove_members

    with _runtime.session() as (session, actor):
        removed, absent = remove_members(session, actor, segment, customers, as_of=today(None), now=now(None))
    note = f" ({absent} were not members)" if absent else ""
    message(f"removed {removed} customer{'s' if removed != 1 else ''} from '{segment}'{note}")


@app.command()
def preview(
    rules: RulesOpt = None,
    rules_file: RulesFileOpt = None,
    sample: Annotated[int, typer.Option(help="How many customers to show, largest ARR first.", min=0)] = 10,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Try rules without saving: how many customers they select, their ARR,
    average health and a sample.

    Example:

      cs segments preview --rules '{"renewal_date": {"within_next_days": 90}}'
    """
    from cs_cli.errors import BadInput
    from cs_cli.services.segments.definitions import preview as run_preview

    document = _rules(rules, rules_file)
    if document is None:
        raise BadInput("give the rules to try: --rules JSON or --rules-file FILE")
    with _runtime.session() as (session, actor):
        result = run_preview(session, actor, document, as_of=today(as_of), sample=sample)
        _warn_about_attributes(session, document)
    if fmt == OutputFormat.JSON:
        emit_object(plain(result), fmt)
        return
    if fmt == OutputFormat.CSV:
        emit_rows(dataclass_rows(result.sample), MEMBER_COLUMNS, fmt)
        return
    emit_rows(dataclass_rows(result.sample), MEMBER_COLUMNS, fmt, headers={"health_score": "health"})
    message(
        f"{result.count:,} customers match; total ARR {cell(result.total_arr) or '-'}, "
        f"average health {cell(result.avg_health_score) or '-'}"
    )


def _warn_about_attributes(session, document) -> None:
    from cs_cli.services.segments.checks import attribute_warnings

    for text in attribute_warnings(session, document):
        warn(text)


def _active_dynamic(session) -> int:
    """How many segments a whole refresh evaluates (for its progress bar)."""
    import sqlalchemy as sa

    from cs_cli.db.models import Segment

    return session.scalar(
        sa.select(sa.func.count()).where(
            Segment.is_active,
            Segment.segment_type.in_([SegmentType.DYNAMIC, SegmentType.AI_GENERATED]),
        )
    )


@app.command()
def refresh(
    segments: Annotated[
        list[str] | None,
        typer.Argument(help="Segments to refresh (default: every active one).", metavar="[NAME]..."),
    ] = None,
    all_segments: Annotated[bool, typer.Option("--all", help="Every active segment (the default).")] = False,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Re-evaluate dynamic segments: customers who now match enter, those who
    no longer match exit (both recorded with the time, and as segment.entered
    / segment.exited events); members, ARR and average health are recounted.
    A segment that cannot be evaluated is named and skipped, the others are
    refreshed, and the exit code is 1.

    Examples:

      cs segments refresh --all

      cs segments refresh "At-risk enterprise"
    """
    import time

    from cs_cli.errors import BadInput, CsError
    from cs_cli.services.segments.refresh import refresh as run_refresh

    if segments and all_segments:
        raise BadInput("name segments or pass --all, not both")
    started = time.perf_counter()
    with _runtime.session() as (session, actor):
        total = len(segments) if segments else _active_dynamic(session)
        with progress_bar(total, "refreshing segments", least=2) as advance:
            results = run_refresh(
                session, actor, segments or None, as_of=today(as_of), now=now(as_of), progress=advance
            )
    elapsed = time.perf_counter() - started
    emit_rows(dataclass_rows(results), ["segment", "members", "entered", "exited"], fmt)
    entered = sum(r.entered for r in results)
    exited = sum(r.exited for r in results)
    skipped = [r for r in results if r.error]
    for r in skipped:
        warn(f"segment '{r.segment}' skipped, its members unchanged: {r.error}")
    done = len(results) - len(skipped)
    message(f"refreshed {done} segments: {entered:,} entered, {exited:,} exited in {elapsed:.1f} s")
    if skipped:
        # The others are refreshed and kept; the exit code tells cron.
        raise CsError(f"{len(skipped)} of {len(results)} segments could not be refreshed (see above)")


@app.command()
def customers(
    segment: Annotated[str, typer.Argument(help="Segment name (or id).")],
    limit: LimitOpt = None,
    offset: OffsetOpt = 0,
    all_rows: AllOpt = False,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """List a segment's current members you can see, largest ARR first."""
    from cs_cli.services.segments.members import members

    with _runtime.session() as (session, actor):
        page = members(session, actor, segment, offset=offset, limit=rows_wanted(fmt, limit, all_rows))
    emit_rows(dataclass_rows(page.rows), MEMBER_COLUMNS, fmt, headers={"health_score": "health"})
    paging_note(fmt, offset=page.offset, shown=len(page.rows), total=page.total, noun="members")


@app.command()
def export(
    segment: Annotated[str, typer.Argument(help="Segment name (or id).")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv or jsonl.")] = "csv",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file instead of stdout.", dir_okay=False),
    ] = None,
) -> None:
    """Export a segment's members you can see as customer records, in the
    shape `cs import customers` reads back.

    Example: cs segments export "Renewing soon" --format jsonl -o renewing.jsonl
    """
    from cs_cli.cli.data import FileFormat, write_records
    from cs_cli.errors import BadInput
    from cs_cli.services.exporters import attribute_names, export_columns, export_rows
    from cs_cli.services.segments.definitions import find_segment
    from cs_cli.services.segments.members import member_condition

    try:
        file_format = FileFormat(fmt)
    except ValueError:
        raise BadInput(f"--format is csv or jsonl, not '{fmt}'") from None
    columns = export_columns("customers")
    with _runtime.session() as (session, actor):
        only = member_condition(find_segment(session, segment).id)
        if file_format == FileFormat.CSV:
            columns += [a for a in attribute_names(session, actor, only=only) if a not in columns]
        count = write_records(
            export_rows(session, actor, "customers", only=only), columns, file_format, output
        )
    if output:
        message(f"exported {count:,} customers of '{segment}' to {output}")


@app.command()
def overlap(
    segments: Annotated[list[str], typer.Argument(help="Two or three segment names.", metavar="A B [C]")],
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """How two or three segments overlap: customers and ARR in each
    combination, among the members you can see.

    Example: cs segments overlap "Renewing soon" "At-risk enterprise"
    """
    from cs_cli.services.segments.members import overlap as run_overlap

    with _runtime.session() as (session, actor):
        rows = run_overlap(session, actor, segments)
    emit_rows(rows, ["members", "customers", "total_arr"], fmt)


@app.command()
def history(
    segment: Annotated[str, typer.Argument(help="Segment name (or id).")],
    limit: LimitOpt = None,
    all_rows: AllOpt = False,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Who entered and left a segment, newest first."""
    from cs_cli.services.segments.members import history as run_history

    wanted = rows_wanted(fmt, limit, all_rows)
    with _runtime.session() as (session, actor):
        rows, more = cut(run_history(session, actor, segment, limit=peek(wanted)), wanted)
    emit_rows(dataclass_rows(rows), ["external_id", "name", "entered_at", "exited_at"], fmt)
    paging_note(
        fmt, offset=0, shown=len(rows), total=len(rows), exact=not more, noun="changes", pageable=False
    )


@app.command()
def fields(fmt: FormatOpt = OutputFormat.TABLE) -> None:
    """List the fields and operators rules can use."""
    from cs_cli.rules.fields import FIELDS, OPERATORS_BY_KIND, USAGE_MEASURES, USAGE_OPERATORS

    rows = [
        {
            "field": f.name,
            "kind": f.kind.value,
            "what": f.help + (f" ({', '.join(f.values)})" if f.values else ""),
            "operators": ", ".join(OPERATORS_BY_KIND[f.kind]),
        }
        for f in FIELDS.values()
    ]
    rows.append(
        {
            "field": "attributes.NAME",
            "kind": "by value",
            "what": "a custom attribute from your imports",
            "operators": "any, by the value's kind",
        }
    )
    rows.append(
        {
            "field": "in_segment",
            "kind": "segment",
            "what": "a current member of the named segment(s)",
            "operators": "a name or a list",
        }
    )
    rows.append(
        {
            "field": "usage",
            "kind": "aggregate",
            "what": "{feature, last_days, measure: " + "|".join(USAGE_MEASURES) + ", <op>: N}",
            "operators": ", ".join(USAGE_OPERATORS),
        }
    )
    emit_rows(rows, ["field", "kind", "what", "operators"], fmt)


SUGGEST_COLUMNS = ["number", "name", "customers", "total_arr", "churn_risk", "expansion_rate", "confidence"]
SUGGEST_HEADERS = {"number": "#", "churn_risk": "churn", "expansion_rate": "grew", "confidence": "conf."}


@app.command()
def suggest(
    k: Annotated[
        str,
        typer.Option(
            "--k",
            help="How many clusters: 2 to 8, or auto (the best silhouette on a sample of the book).",
            metavar="N|auto",
        ),
    ] = "auto",
    focus: Annotated[
        str | None,
        typer.Option(
            help="churn: weigh health (and its relationship, support and financial parts), usage, "
            "sentiment and renewal up and list the riskiest first; "
            "expansion: weigh ARR, usage, health and tenure up and list the most grown first.",
            metavar="churn|expansion",
            show_default="none: largest first",
        ),
    ] = None,
    accept: Annotated[
        int | None,
        typer.Option(
            "--accept",
            help="Save suggestion N (as numbered with the same --k, --focus and --as-of) as an "
            "ai_generated segment; needs --name.",
            metavar="N",
        ),
    ] = None,
    name: Annotated[str | None, typer.Option(help="The accepted segment's name.")] = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Suggest segments: cluster the active book on health (overall,
    relationship, support, financial), usage, ARR, tenure, renewal and
    touchpoint sentiment, and propose for each cluster
    rules in the rule language that select it, with their confidence (F1 of
    the rules' precision and recall against the cluster) and its profile in
    words. Saves nothing unless --accept. The same book and options always
    give the same suggestions; docs/segments.md says how they are found.

    Examples:

      cs segments suggest

      cs segments suggest --k 4 --focus churn --format json

      cs segments suggest --focus churn --accept 1 --name "Quiet and renewing"

    An accepted suggestion refreshes like a dynamic segment:
    `cs segments refresh NAME`.
    """
    from cs_cli.errors import BadInput
    from cs_cli.services.segments.suggest import accept as run_accept
    from cs_cli.services.segments.suggest import parse_k
    from cs_cli.services.segments.suggest import suggest as run_suggest

    clusters = parse_k(k)
    if (accept is None) != (name is None):
        raise BadInput("--accept N and --name NAME go together")
    if accept is not None:
        with _runtime.session() as (session, actor):
            row, chosen = run_accept(
                session,
                actor,
                accept,
                name=name or "",
                k=clusters,
                focus=focus,
                as_of=today(as_of),
                now=now(as_of),
            )
        message(
            f"created ai_generated segment '{row.name}' from suggestion {chosen.number} "
            f"({chosen.name}; confidence {chosen.confidence:.2f}); fill it with "
            f'`cs segments refresh "{row.name}"`'
        )
        return
    with _runtime.session() as (session, actor), progress_bar(100, "suggesting", least=1) as advance:
        found = run_suggest(session, actor, k=clusters, focus=focus, as_of=today(as_of), progress=advance)
    if fmt == OutputFormat.JSON:
        emit_object(plain(found), fmt)
        return
    columns = [*SUGGEST_COLUMNS, "precision", "recall", "rules", "reasoning"]
    rows = dataclass_rows(found.suggestions)
    if fmt == OutputFormat.CSV:
        emit_rows(rows, columns, fmt)
        return
    emit_rows(_percent(found.suggestions), SUGGEST_COLUMNS, fmt, headers=SUGGEST_HEADERS)
    _explain(found)


def _percent(suggestions) -> list[dict[str, Any]]:
    rows = []
    for row in dataclass_rows(suggestions):
        for column in ("churn_risk", "expansion_rate"):
            row[column] = "" if row[column] is None else f"{row[column]:.0%}"
        row["confidence"] = f"{row['confidence']:.2f}"
        rows.append(row)
    return rows


def _explain(found) -> None:
    """Each suggestion's rules and reasoning under the table, wrapped to the terminal."""
    import json
    import textwrap

    from cs_cli.cli._output import stdout_console

    console = stdout_console(max_width=100)
    width = max(40, console.width)
    for s in found.suggestions:
        console.print()
        console.print(f"{s.number}. {s.name}", markup=False, highlight=False)
        rules_text = json.dumps(s.rules, ensure_ascii=False)
        for label, text in (("rules", rules_text), ("why", s.reasoning)):
            lines = textwrap.wrap(text, width - 9, break_on_hyphens=False) or [""]
            console.print(f"   {label:<5} {lines[0]}", markup=False, highlight=False, soft_wrap=True)
            for line in lines[1:]:
                console.print(f"         {line}", markup=False, highlight=False, soft_wrap=True)
    chosen = (
        f"k={found.k}, the best silhouette on a sample ({found.silhouette:.2f})"
        if found.k_chosen_by == "silhouette"
        else f"k={found.k}, as asked"
    )
    message(
        f"{found.customers:,} active customers as of {found.as_of}; {chosen}. "
        "Save one with --accept N --name NAME (and the same --k, --focus, --as-of)."
    )
