"""`cs touchpoints`: log and read every interaction with a customer."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from cs_cli.cli import _runtime
from cs_cli.cli._options import AllOpt, FormatOpt, LimitOpt, OffsetOpt, in_range, parse_date
from cs_cli.cli._output import (
    OutputFormat,
    cell,
    dataclass_rows,
    emit_object,
    emit_rows,
    message,
    paging_note,
    plain,
    rows_wanted,
    text_cell,
)
from cs_cli.enums import Channel, Direction, Sentiment, TouchpointType

app = typer.Typer(help="Touchpoints: every call, meeting and email with a customer.", no_args_is_help=True)

LIST_COLUMNS = [
    "id",
    "occurred_at",
    "customer",
    "touchpoint_type",
    "subject",
    "direction",
    "user",
    "sentiment_label",
    "duration_minutes",
    "task_id",
]
CSV_COLUMNS = [
    "id",
    "occurred_at",
    "customer",
    "touchpoint_type",
    "subject",
    "direction",
    "channel",
    "user",
    "contact",
    "sentiment_label",
    "sentiment_score",
    "duration_minutes",
    "task_id",
]
HEADERS = {
    "occurred_at": "when",
    "touchpoint_type": "type",
    "sentiment_label": "sentiment",
    "duration_minutes": "min",
    "task_id": "task",
}


def _emit(rows, fmt: OutputFormat, columns: list[str]) -> None:
    emit_rows(
        dataclass_rows(rows), columns if fmt == OutputFormat.TABLE else CSV_COLUMNS, fmt, headers=HEADERS
    )


def parse_moment(text: str) -> dt.datetime:
    """A date and time (ISO 8601; UTC unless it carries an offset), or a date (its midnight UTC)."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(
            f"'{text}' is not a date and time (use YYYY-MM-DDTHH:MM, UTC unless it has an offset)"
        ) from None
    moment = in_range(moment, text)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@app.command("list")
def list_(
    customer: Annotated[
        str | None, typer.Option("--customer", "-c", help="Only this customer (external id).", metavar="ID")
    ] = None,
    touchpoint_type: Annotated[
        list[TouchpointType] | None, typer.Option("--type", "-t", help="Only this type (repeat for more).")
    ] = None,
    since: Annotated[
        dt.date | None,
        typer.Option(parser=parse_date, metavar="DATE", help="Only on or after this day (UTC)."),
    ] = None,
    user: Annotated[
        str | None, typer.Option(help="Only those by this team member (login or email).", metavar="USER")
    ] = None,
    limit: LimitOpt = None,
    offset: OffsetOpt = 0,
    all_rows: AllOpt = False,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """List touchpoints of the customers you can see, newest first.

    Examples:

      cs touchpoints list --customer C-00107 --since 2026-10-01

      cs touchpoints list --type call --user ana@example.com --format csv
    """
    from cs_cli.services.touchpoints import TouchpointFilter, list_touchpoints

    flt = TouchpointFilter(customer=customer, types=tuple(touchpoint_type or ()), since=since, user=user)
    with _runtime.session() as (session, actor):
        page = list_touchpoints(session, actor, flt, offset=offset, limit=rows_wanted(fmt, limit, all_rows))
    _emit(page.rows, fmt, LIST_COLUMNS)
    paging_note(fmt, offset=page.offset, shown=len(page.rows), total=page.total, noun="touchpoints")


@app.command()
def show(
    touchpoint_id: Annotated[int, typer.Argument(help="The touchpoint's ID.", metavar="ID")],
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Show one touchpoint in full.

    Example: cs touchpoints show 311 --format json
    """
    from cs_cli.services.touchpoints import touchpoint_detail

    with _runtime.session() as (session, actor):
        detail = touchpoint_detail(session, actor, touchpoint_id)
    _emit_detail(detail, fmt)


def _emit_detail(detail, fmt: OutputFormat) -> None:
    if fmt != OutputFormat.TABLE:
        flat = {**plain(detail.row), **{k: v for k, v in plain(detail).items() if k != "row"}}
        emit_object(flat, fmt)
        return
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    from cs_cli.cli._output import stdout_console

    r = detail.row
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()
    sentiment = cell(r.sentiment_label) + (
        f" ({r.sentiment_score:+.2f})" if r.sentiment_score is not None else ""
    )
    for label, value in (
        ("customer", f"{detail.customer_name} ({r.customer})"),
        ("when", r.occurred_at),
        ("type", r.touchpoint_type),
        ("direction", r.direction),
        ("channel", r.channel),
        ("by", r.user),
        ("contact", r.contact),
        ("attendees", ", ".join(detail.attendees)),
        ("sentiment", sentiment),
        ("minutes", r.duration_minutes),
        ("task", r.task_id),
        ("topics", ", ".join(detail.key_topics or [])),
        ("recording", detail.recording_url),
        ("notes", detail.description),
    ):
        if value is not None and cell(value):
            grid.add_row(label, text_cell(value))
    title = Text.assemble((f"touchpoint {r.id}", "bold"), f": {r.subject or cell(r.touchpoint_type)}")
    stdout_console(max_width=110).print(Panel(grid, title=title, title_align="left"))


@app.command()
def log(
    customer: Annotated[str, typer.Argument(help="External id of the customer.")],
    touchpoint_type: Annotated[
        TouchpointType, typer.Option("--type", "-t", help="What kind of interaction.")
    ],
    subject: Annotated[str, typer.Option(help="A one-line summary (at most 255 characters).")],
    notes: Annotated[str | None, typer.Option(help="What was said or agreed.")] = None,
    minutes: Annotated[int | None, typer.Option(help="How long it took, in minutes.", min=0)] = None,
    direction: Annotated[
        Direction | None,
        typer.Option(help="Who started it (default: inbound for replies, tickets, logins; else outbound)."),
    ] = None,
    channel: Annotated[
        Channel | None, typer.Option(help="How (default from the type: a call is phone...).")
    ] = None,
    contact: Annotated[
        str | None, typer.Option(help="The customer's contact you spoke with (their email).", metavar="EMAIL")
    ] = None,
    sentiment: Annotated[
        Sentiment | None,
        typer.Option(help="How it felt (default: read from the subject and notes; see docs/text.md)."),
    ] = None,
    at: Annotated[
        dt.datetime | None,
        typer.Option(
            "--at",
            parser=parse_moment,
            metavar="DATETIME",
            help="When it happened (YYYY-MM-DDTHH:MM, UTC unless it has an offset; default: now).",
        ),
    ] = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Log an interaction with a customer as yours (emits touchpoint.logged).

    Example:

      cs touchpoints log C-00107 --type call --subject Check-in --sentiment positive
    """
    from cs_cli.services.text.sentiment import configured_analyser
    from cs_cli.services.touchpoints import log_touchpoint

    analyser = configured_analyser(_runtime.STATE.settings().text_lexicon)
    with _runtime.session() as (session, actor):
        detail = log_touchpoint(
            session,
            actor,
            customer,
            touchpoint_type=touchpoint_type,
            subject=subject,
            notes=notes,
            minutes=minutes,
            direction=direction,
            channel=channel,
            contact=contact,
            sentiment=sentiment,
            occurred_at=at,
            now=dt.datetime.now(dt.UTC),
            analyser=analyser,
        )
    if fmt != OutputFormat.TABLE:
        _emit_detail(detail, fmt)
    r = detail.row
    message(f"logged {r.touchpoint_type.value} touchpoint {r.id} for {r.customer} at {cell(r.occurred_at)}")


@app.command()
def timeline(
    customer: Annotated[str, typer.Argument(help="External id of the customer.")],
    limit: LimitOpt = None,
    all_rows: AllOpt = False,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """A customer's touchpoints, newest first, with their sentiment.

    Example: cs touchpoints timeline C-00107 -n 20
    """
    from cs_cli.services.touchpoints import timeline as customer_timeline

    with _runtime.session() as (session, actor):
        external_id, page = customer_timeline(
            session, actor, customer, limit=rows_wanted(fmt, limit, all_rows)
        )
    columns = ["occurred_at", "touchpoint_type", "direction", "subject", "user", "sentiment_label", "task_id"]
    _emit(page.rows, fmt, columns)
    if fmt != OutputFormat.TABLE:
        paging_note(fmt, offset=0, shown=len(page.rows), total=page.total, noun="touchpoints", pageable=False)
    else:
        if not page.rows:
            message(f"{external_id} has no touchpoints yet; `cs touchpoints log {external_id} ...` adds one")
            return
        moods = {s: sum(1 for r in page.rows if r.sentiment_label == s) for s in Sentiment}
        mood = ", ".join(f"{n} {s.value}" for s, n in moods.items() if n)
        more = f" (latest {len(page.rows)} of {page.total:,})" if page.total > len(page.rows) else ""
        message(f"{external_id}: {page.total:,} touchpoints{more}" + (f"; sentiment: {mood}" if mood else ""))


@app.command()
def analyze(
    everything: Annotated[
        bool, typer.Option("--all", help="Read every row again, not only those never read.")
    ] = False,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Replace sentiment given by the source system or the person who logged it "
            "(where cs can read the text).",
        ),
    ] = False,
    only: Annotated[
        str | None,
        typer.Option("--only", help="Only touchpoints or only tickets.", metavar="touchpoints|tickets"),
    ] = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Read the text of touchpoints and support tickets: sentiment and key topics.

    Each row's subject and notes get a sentiment score (-1..1) and label,
    and up to five key topics, read on this machine (nothing leaves it).
    Empty or non-English text gets no score: NULL, not neutral. A label
    that came with the row is kept unless --overwrite. New rows are read
    when imported or logged; run this for rows stored before, or with
    --all after changing your lexicon (the text_lexicon setting,
    CS_TEXT_LEXICON). Needs the admin role. See docs/text.md.

    Examples:

      cs touchpoints analyze

      cs touchpoints analyze --all --overwrite --format json
    """
    from cs_cli.cli._output import progress_bar
    from cs_cli.services.text.analyze import KINDS, pending_count
    from cs_cli.services.text.analyze import analyze as analyze_rows
    from cs_cli.services.text.sentiment import configured_analyser

    if only is not None and only not in KINDS:
        raise typer.BadParameter(f"'{only}' is not touchpoints or tickets", param_hint="--only")
    kinds = [only] if only else list(KINDS)
    settings = _runtime.STATE.settings()
    analyser = configured_analyser(settings.text_lexicon)
    results = []
    with _runtime.session() as (session, actor):
        total = sum(pending_count(session, k, everything=everything) for k in kinds)
        with progress_bar(total, "reading text") as advance:
            for kind in kinds:
                results.append(
                    analyze_rows(
                        session,
                        actor,
                        kind,
                        analyser=analyser,
                        everything=everything,
                        overwrite=overwrite,
                        batch_size=settings.batch_size,
                        progress=advance,
                    )
                )
    columns = ["kind", "read", "scored", "kept", "unscored", "with_topics"]
    emit_rows(dataclass_rows(results), columns, fmt, headers={"with_topics": "with topics"})
    if fmt == OutputFormat.TABLE:
        read = sum(r.read for r in results)
        if not read:
            message("nothing to read: every row has been read (--all reads them again)")
        else:
            message(
                f"read {read:,} rows; scored: cs's reading; kept: a given label; "
                "unscored: no text, or not English"
            )


THEME_COLUMNS = ["topic", "mentions", "customers", "mean_sentiment", "negative", "previous", "trend"]


@app.command()
def topics(
    segment: Annotated[
        str | None, typer.Option("--segment", "-s", help="Only this segment's members.", metavar="NAME")
    ] = None,
    start: Annotated[
        dt.date | None,
        typer.Option(
            "--from", parser=parse_date, metavar="DATE", help="First day (default: 30 days before --to)."
        ),
    ] = None,
    end: Annotated[
        dt.date | None,
        typer.Option("--to", parser=parse_date, metavar="DATE", help="Last day (default: today)."),
    ] = None,
    limit: LimitOpt = None,
    all_rows: AllOpt = False,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """The themes of your book: key topics of touchpoints and tickets over a period.

    For each topic: how many touchpoints and tickets mention it (and of how
    many customers), their mean sentiment (-1..1), how many were negative,
    the mentions in the period just before of the same length, and the
    trend: new, rising, steady, falling or gone (docs/text.md). Most
    mentioned first; a table shows the top 50, json and csv every topic.

    Examples:

      cs touchpoints topics

      cs touchpoints topics --segment Enterprise --from 2026-10-01

      cs touchpoints topics --format csv > themes.csv
    """
    from cs_cli.cli._options import today
    from cs_cli.services.text.themes import book_themes, period

    first, last = period(start, end, today(None))
    with _runtime.session() as (session, actor):
        result = book_themes(session, actor, start=first, end=last, segment=segment)
    wanted = rows_wanted(fmt, limit, all_rows)
    shown = result.themes if wanted is None else result.themes[:wanted]
    emit_rows(
        dataclass_rows(shown),
        THEME_COLUMNS,
        fmt,
        headers={"mean_sentiment": "sentiment", "negative": "neg", "previous": "before"},
    )
    if fmt == OutputFormat.TABLE:
        if not result.themes:
            message(
                f"no topics from {first} to {last}; touchpoints and tickets get them when "
                "imported or logged, or by `cs touchpoints analyze`"
            )
            return
        message(
            f"{first} to {last}"
            + (f", segment {segment}" if segment else "")
            + f"; before: {result.previous_start} to {first - dt.timedelta(days=1)}"
        )
    paging_note(fmt, offset=0, shown=len(shown), total=len(result.themes), noun="topics", pageable=False)
