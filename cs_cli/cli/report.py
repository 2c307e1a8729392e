"""`cs report`: files to share, made from the analytics (docs/analytics.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from cs_cli.cli import _runtime
from cs_cli.cli._output import message, write_file
from cs_cli.cli.analytics import CsmOpt, FromOpt, PlanOpt, ScopeOpt, SegmentOpt, ToOpt, _filters, _span

app = typer.Typer(
    help="""Reports as files to share: the book's management report (HTML with
its charts inline, or Markdown). Self-contained: no script, nothing fetched
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
    start: FromOpt = None,
    end: ToOpt = None,
    scope: ScopeOpt = "all",
    csm: CsmOpt = None,
    segment: SegmentOpt = None,
    plan: PlanOpt = None,
) -> None:
    """The management report of the book over a period: success metrics
    against their targets, retention by month (churn, GRR, NRR), NPS by
    month, the renewal pipeline after the period and health at its end,
    with charts. The period and the filters are on its first lines. Give
    --html, --markdown or both.

    Example: cs report book --html book.html --from 2026-01-01 --segment Enterprise
    """
    from cs_cli.cli._options import now
    from cs_cli.domain.metrics import parse_targets
    from cs_cli.errors import BadInput
    from cs_cli.services.reports.book import book_report, render_html, render_markdown

    if not html and not markdown:
        raise BadInput("say where to write the report: --html FILE, --markdown FILE or both")
    first, last = _span(start, end)
    settings = _runtime.STATE.settings()
    with _runtime.session() as (session, actor):
        report = book_report(
            session,
            actor,
            _filters(scope, csm, segment, plan),
            start=first,
            end=last,
            now=now(None),
            goals=parse_targets(settings.success_targets),
            first_value_event=settings.first_value_event,
        )
    for path, render in ((html, render_html), (markdown, render_markdown)):
        if path:
            write_file(path, render(report).encode("utf-8"))
            if path != "-":
                message(f"wrote the book report for {first} to {last} to {path}")
