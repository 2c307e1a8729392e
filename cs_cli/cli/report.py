"""`cs report`: files to share, made from the analytics (docs/analytics.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from cs_cli.cli import _runtime
from cs_cli.cli._options import AsOfOpt
from cs_cli.cli._output import message, write_file
from cs_cli.cli.analytics_options import (
    CsmOpt,
    FromOpt,
    PlanOpt,
    ScopeOpt,
    SegmentOpt,
    TeamOpt,
    ToOpt,
    filters_from,
    span,
)

app = typer.Typer(
    help="""Reports as files to share: the book's management report (HTML with
its charts inline, Markdown, or PDF) and a customer's QBR pack.
Self-contained: no script, nothing fetched
from elsewhere; open it in a browser or attach it to an email.""",
    no_args_is_help=True,
)


@app.command()
def book(
    html: Annotated[
        str | None,
        typer.Option("--html", help="Write the report as HTML here (- for stdout).", metavar="FILE"),
    ] = None,
    markdown: Annotated[
        str | None,
        typer.Option("--markdown", help="Write the report as Markdown here (- for stdout).", metavar="FILE"),
    ] = None,
    pdf: Annotated[
        str | None,
        typer.Option("--pdf", help="Write the report as PDF here (needs the pdf extra).", metavar="FILE"),
    ] = None,
    start: FromOpt = None,
    end: ToOpt = None,
    scope: ScopeOpt = "all",
    csm: CsmOpt = None,
    segment: SegmentOpt = None,
    plan: PlanOpt = None,
    team: TeamOpt = None,
) -> None:
    """The management report of the book over a period: success metrics
    against their targets, retention by month (churn, GRR, NRR), NPS by
    month, the renewal pipeline after the period and health at its end,
    with charts. The period and the filters are on its first lines. Give
    --html, --markdown or both.

    Example: cs report book --html book.html --from 2026-01-01
    """
    from cs_cli.cli._options import now
    from cs_cli.cli._output import progress_bar
    from cs_cli.domain.metrics import parse_targets
    from cs_cli.errors import BadInput
    from cs_cli.services.reports.book import SECTIONS, book_report, render_html, render_markdown

    if not html and not markdown and not pdf:
        raise BadInput("say where to write the report: --html FILE, --markdown FILE, --pdf FILE")
    if pdf:
        _check_pdf()
    first, last = span(start, end)
    settings = _runtime.STATE.settings()
    with _runtime.session() as (session, actor), progress_bar(SECTIONS, "report", least=1) as advance:
        report = book_report(
            session,
            actor,
            filters_from(scope, csm, segment, plan, team),
            start=first,
            end=last,
            now=now(None),
            goals=parse_targets(settings.success_targets),
            first_value_event=settings.first_value_event,
            progress=advance,
        )
    for path, render in ((html, render_html), (markdown, render_markdown), (pdf, _pdf(render_html))):
        if path:
            data = render(report)
            write_file(path, data if isinstance(data, bytes) else data.encode("utf-8"))
            if path != "-":
                message(f"wrote the book report for {first} to {last} to {path}")


@app.command()
def qbr(
    customer: Annotated[str, typer.Argument(help="The customer (external id).", metavar="CUSTOMER")],
    html: Annotated[
        str | None, typer.Option("--html", help="Write the pack as HTML here (- for stdout).", metavar="FILE")
    ] = None,
    pdf: Annotated[
        str | None,
        typer.Option("--pdf", help="Write the pack as PDF here (needs the pdf extra).", metavar="FILE"),
    ] = None,
    templates: Annotated[
        str | None,
        typer.Option(
            "--templates",
            help="A folder whose qbr.html replaces the shipped template (sandboxed like email templates).",
            metavar="DIR",
        ),
    ] = None,
    as_of: AsOfOpt = None,
) -> None:
    """The quarterly business review pack of one customer you can see: health
    over the quarter (the 91 days to --as-of) and what moved it, product use
    by week, tasks and playbooks done, touchpoints and their sentiment, open
    risks and churn drivers, renewal and expansion outlook, and the open
    tasks as goals for the next quarter.

    Examples:

      cs report qbr C-00107 --html qbr-C-00107.html

      cs report qbr C-00107 --pdf qbr-C-00107.pdf
    """
    from pathlib import Path

    from cs_cli.cli._options import now, today
    from cs_cli.errors import BadInput
    from cs_cli.services.reports.qbr import qbr_context, render_qbr

    if not html and not pdf:
        raise BadInput("say where to write the pack: --html FILE, --pdf FILE or both")
    if pdf:
        _check_pdf()
    day = today(as_of)
    with _runtime.session() as (session, actor):
        context = qbr_context(session, actor, customer, as_of=day, now=now(as_of))
    text = render_qbr(context, templates=Path(templates).expanduser() if templates else None)
    for path, data in ((html, lambda: text.encode("utf-8")), (pdf, lambda: _to_pdf(text))):
        if path:
            write_file(path, data())
            if path != "-":
                start = context["quarter"]["start"]
                message(f"wrote the QBR pack of {customer} for {start} to {day} to {path}")


def _check_pdf() -> None:
    """Fail before the work, not after it, when PDF cannot be made here."""
    from cs_cli.services.reports.pdf import to_pdf

    to_pdf("<p></p>")


def _to_pdf(html: str) -> bytes:
    from cs_cli.services.reports.pdf import to_pdf

    return to_pdf(html)


def _pdf(render_html):
    return lambda report: _to_pdf(render_html(report))
