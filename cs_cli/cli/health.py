"""`cs health`: read the scores and explain them (`cs recalc` writes them,
see recalc.py; `cs health backtest` checks them, see backtest.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from cs_cli.cli import _runtime
from cs_cli.cli._options import (
    AllOpt,
    ColumnsOpt,
    FormatOpt,
    LimitOpt,
    OffsetOpt,
    parse_date,
    pick_columns,
    today,
)
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
    table_cell,
)
from cs_cli.cli.backtest import backtest
from cs_cli.enums import HealthStatus, ScoreTrend

app = typer.Typer(help="Health scores: list, explain, history.", no_args_is_help=True)


LIST_COLUMNS = [
    "external_id",
    "name",
    "overall_score",
    "health_status",
    "score_trend",
    "score_change_30d",
    "product_adoption_score",
    "engagement_score",
    "relationship_score",
    "financial_score",
    "support_score",
    "days_to_renewal",
    "csm_email",
    "overridden",
]
# The table's columns, most important first: at 80 columns the last ones give way.
TABLE_COLUMNS = [
    "external_id",
    "name",
    "overall_score",
    "health_status",
    "score_change_30d",
    "score_trend",
    "days_to_renewal",
    "overridden",
    "product_adoption_score",
    "engagement_score",
    "relationship_score",
    "financial_score",
    "support_score",
    "csm_email",
]
HEADERS = {
    "overridden": "override",
    "overall_score": "score",
    "health_status": "status",
    "score_trend": "trend",
    "score_change_30d": "30d",
    "product_adoption_score": "adopt",
    "engagement_score": "engage",
    "relationship_score": "relat",
    "financial_score": "financ",
    "support_score": "support",
    "days_to_renewal": "renewal in",
}


@app.command("list")
def list_(
    status: Annotated[HealthStatus | None, typer.Option(help="Only this status.")] = None,
    include_churned: Annotated[
        bool, typer.Option("--include-churned", help="List churned customers too (left out by default).")
    ] = False,
    include_unjudged: Annotated[
        bool,
        typer.Option(
            "--include-unjudged",
            help="List onboarding customers and those with insufficient data too (left out by default:"
            " their scores are not judged).",
        ),
    ] = False,
    csm: Annotated[str | None, typer.Option(help="Only this CSM's customers (email or login).")] = None,
    min_score: Annotated[int | None, typer.Option(help="Score at least this.", min=0, max=100)] = None,
    max_score: Annotated[int | None, typer.Option(help="Score at most this.", min=0, max=100)] = None,
    trend: Annotated[ScoreTrend | None, typer.Option(help="Only this trend.")] = None,
    sort: Annotated[str, typer.Option(help="score, change, name or renewal; prefix - to reverse.")] = "score",
    limit: LimitOpt = None,
    offset: OffsetOpt = 0,
    all_rows: AllOpt = False,
    columns: ColumnsOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """List current health scores, worst first by default.

    Churned customers are left out (they would top a worst-first list):
    --include-churned lists them too, --status churned only them. So are
    customers still onboarding and those with too little data for their
    score to be judged: --include-unjudged, or --status onboarding or
    --status insufficient_data.

    Example: cs health list --status critical --sort -change
    """
    from cs_cli.services.health.views import HealthFilter, list_scores

    chosen = pick_columns(columns, LIST_COLUMNS)
    flt = HealthFilter(
        status=status,
        csm=csm,
        min_score=min_score,
        max_score=max_score,
        trend=trend,
        churned=include_churned,
        unjudged=include_unjudged,
    )
    with _runtime.session() as (session, actor):
        page = list_scores(
            session,
            actor,
            flt,
            as_of=today(None),
            sort=sort,
            offset=offset,
            limit=rows_wanted(fmt, limit, all_rows),
        )
    shown = TABLE_COLUMNS if fmt == OutputFormat.TABLE else LIST_COLUMNS
    emit_rows(dataclass_rows(page.rows), shown, fmt, headers=HEADERS, chosen=chosen, pickable=True)
    paging_note(
        fmt,
        offset=page.offset,
        shown=len(page.rows),
        total=page.total,
        noun="scored customers",
        extra=_left_out(page, flt) if fmt == OutputFormat.TABLE else "",
    )


def _left_out(page, flt) -> str:
    """What the listing left out by default, and the flag that lists it."""
    if flt.status:
        return ""
    parts = []
    if not flt.churned:
        parts.append("churned: --include-churned")
    unjudged = {s: n for s, n in page.left_out.items() if n}
    if unjudged and not flt.unjudged:
        counted = " and ".join(f"{n} {s.replace('_', ' ')}" for s, n in unjudged.items())
        parts.append(f"{counted}: --include-unjudged")
    return f" (left out: {'; '.join(parts)})" if parts else ""


@app.command()
def show(
    customer: Annotated[str, typer.Argument(help="External id of the customer.")],
    as_of: Annotated[
        dt.date | None,
        typer.Option(
            "--as-of", parser=parse_date, metavar="DATE", help="Explain the score of this past day."
        ),
    ] = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Explain a customer's score: each component, the measures and raw values
    behind it, the points it adds, the multipliers applied and missing data."""
    from cs_cli.services.health.views import score_detail

    with _runtime.session() as (session, actor):
        detail = score_detail(session, actor, customer, as_of=as_of, today=today(None))
    if fmt == OutputFormat.JSON:
        emit_object(plain(detail), fmt)
        return
    if fmt == OutputFormat.CSV:
        rows = [
            {"component": c, "measure": m, "raw": v.get("raw"), "score": v.get("score")}
            for c, m, v in _measure_rows(detail)
        ]
        emit_rows(rows, ["component", "measure", "raw", "score"], fmt)
        return
    _render(detail)


def _measure_rows(detail):
    from cs_cli.specs.scorecard import MEASURES

    measures = detail.explanation.get("measures", {})
    for name, values in measures.items():
        component = MEASURES[name][0].value if name in MEASURES else "?"
        yield component, name, values


def _gauge(score: int, width: int = 30) -> str:
    filled = round(score / 100 * width)
    return "█" * filled + "░" * (width - filled)


def _render(detail) -> None:
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    from cs_cli.cli._output import stdout_console
    from cs_cli.specs.scorecard import MEASURES

    e = detail.explanation
    head = Table.grid(padding=(0, 2))
    head.add_column(style="dim")
    head.add_column()
    status = table_cell(detail.health_status)
    head.add_row("score", f"[bold]{detail.overall_score}[/] {_gauge(detail.overall_score)} {status}")
    if detail.score_change_30d is not None:
        head.add_row("30 days", f"{detail.score_change_30d:+d} ({table_cell(detail.score_trend)})")
    if detail.override:
        o = detail.override
        head.add_row(
            "[bold]override[/]",
            Text.assemble(
                (str(o["overall_score"]), "bold"),
                f" {table_cell(o['health_status'])} by {o['set_by']} until {o['expires_on']}: {o['reason']}"
                " (the computed score below goes on being recalculated)",
            ),
        )
    head.add_row("as of", cell(detail.as_of))
    head.add_row("base", f"{e.get('base', '-')} points before multipliers")
    for name, factor, *label in e.get("multipliers", []):
        head.add_row("multiplier", f"x{factor} {label[0] if label else name.replace('_', ' ')}")
    if e.get("missing"):
        head.add_row("missing", ", ".join(e["missing"]) + " (no data; weight shared out among the others)")
    if e.get("coverage") is not None:
        needs = f"; below {e['min_coverage']:.0%} it is insufficient data" if e.get("min_coverage") else ""
        head.add_row("coverage", f"{e['coverage']:.0%} of the weights have data beyond size alone{needs}")
    if e.get("tenure_days") is not None:
        under = e.get("min_tenure_days") or 0
        onboarding = f" (onboarding under {under})" if under else ""
        head.add_row("tenure", f"{e['tenure_days']} days a customer{onboarding}")
    if detail.days_since_last_login is not None:
        days = detail.days_since_last_login
        head.add_row("last activity", "today" if days == 0 else f"{days} day{'s' if days != 1 else ''} ago")
    if detail.days_to_renewal is not None:
        head.add_row("renewal", f"in {detail.days_to_renewal} days")
    head.add_row("scorecard", f"{e.get('scorecard', '-')} ({detail.scorecard_version})")

    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    for column in ("component", "score", "points", "measure", "raw value", "measure score", "what it is"):
        table.add_column(column, justify="right" if column in ("score", "points", "raw value") else "left")
    contributions = e.get("contributions", {})
    by_component: dict[str, list] = {}
    for component, name, values in _measure_rows(detail):
        by_component.setdefault(component, []).append((name, values))
    for component, score in detail.components.items():
        rows = by_component.get(component, [("-", {})])
        for index, (name, values) in enumerate(rows):
            raw = values.get("raw")
            table.add_row(
                component if index == 0 else "",
                cell(score) if index == 0 else "",
                cell(contributions.get(component)) if index == 0 else "",
                name,
                "no data" if raw is None and name != "-" else table_cell(raw),
                cell(values.get("score")),
                MEASURES[name][2] if name in MEASURES else "",
            )
    title = Text.assemble((detail.name, "bold"), f" ({detail.external_id})")
    stdout_console(max_width=130).print(Group(Panel(head, title=title, title_align="left"), table))


@app.command()
def override(
    customer: Annotated[str, typer.Argument(help="External id of the customer.")],
    score: Annotated[
        int | None, typer.Argument(help="The score to show instead (0-100).", min=0, max=100)
    ] = None,
    reason: Annotated[str | None, typer.Option(help="Why (required): shown with the score.")] = None,
    until: Annotated[
        dt.date | None, typer.Option(parser=parse_date, metavar="DATE", help="Last day the override holds.")
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="End the override in force.")] = False,
) -> None:
    """Override a customer's health score with your judgement, with a reason
    and an expiry. Everyone sees the override, marked as one, until it
    expires or is cleared; recalculation goes on underneath and never loses it.

    Example:

      cs health override C-00107 45 --reason "budget cut" --until 2026-12-31
    """
    from cs_cli.errors import BadInput
    from cs_cli.services.health.overrides import clear_override, set_override
    from cs_cli.specs.scorecard import load_scorecards

    now = dt.datetime.now(dt.UTC)
    with _runtime.session() as (session, actor):
        if clear:
            if score is not None or reason or until:
                raise BadInput("--clear takes no score, --reason or --until")
            external_id = clear_override(session, actor, customer, now=now)
            message(f"cleared the override on {external_id}")
            return
        if score is None or reason is None or until is None:
            raise BadInput("give a SCORE, --reason and --until (or --clear)")
        settings = _runtime.STATE.settings()
        # Status thresholds of the default scorecard (of an assignment file).
        card = load_scorecards(Path(settings.scorecard) if settings.scorecard else None).default.card
        done = set_override(
            session,
            actor,
            customer,
            card,
            score=score,
            reason=reason,
            expires_on=until,
            as_of=today(None),
            now=now,
        )
    message(
        f"{done['customer']} shows {done['score']} ({done['status']}) as an override until {done['until']}"
    )


@app.command()
def components(
    customer: Annotated[str, typer.Argument(help="External id of the customer.")],
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """The five component scores of a customer, their weights in the
    scorecard that made the score, and the points each adds to it."""
    from cs_cli.services.health.views import score_detail
    from cs_cli.specs.scorecard import Component

    with _runtime.session() as (session, actor):
        detail = score_detail(session, actor, customer)
    contributions = detail.explanation.get("contributions", {})
    missing = set(detail.explanation.get("missing", []))
    weights = detail.explanation.get("weights", {})
    rows = [
        {
            "component": c.value,
            "score": detail.components.get(c.value),
            "weight": weights.get(c.value),
            "points": contributions.get(c.value),
            "missing": c.value in missing,
        }
        for c in Component
    ]
    emit_rows(rows, ["component", "score", "weight", "points", "missing"], fmt)
    if fmt == OutputFormat.TABLE and missing:
        message("a missing component's weight is shared out among the others in proportion to theirs")


@app.command()
def distribution(fmt: FormatOpt = OutputFormat.TABLE) -> None:
    """How many customers (and how much ARR) are healthy, at risk, critical,
    churned, onboarding or with insufficient data."""
    from cs_cli.services.health.views import distribution as counts

    with _runtime.session() as (session, actor):
        rows = counts(session, actor)
    emit_rows(rows, ["health_status", "customers", "share", "arr", "average_score"], fmt)
    if fmt == OutputFormat.TABLE:
        message("onboarding and insufficient data are not judged by the score (docs/health.md)")


@app.command("history")
def history_(
    customer: Annotated[str, typer.Argument(help="External id of the customer.")],
    since: Annotated[
        dt.date | None, typer.Option("--from", parser=parse_date, metavar="DATE", help="First day shown.")
    ] = None,
    until: Annotated[
        dt.date | None, typer.Option("--to", parser=parse_date, metavar="DATE", help="Last day shown.")
    ] = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """A customer's daily scores, oldest first, with a sparkline."""
    from cs_cli.services.health.views import history

    with _runtime.session() as (session, actor):
        external_id, points = history(session, actor, customer, since=since, until=until)
    columns = [
        "as_of",
        "overall_score",
        "health_status",
        "product_adoption_score",
        "engagement_score",
        "relationship_score",
        "financial_score",
        "support_score",
    ]
    emit_rows(dataclass_rows(points), columns, fmt, headers=HEADERS)
    if fmt == OutputFormat.TABLE:
        if points:
            message(
                f"{external_id}: {sparkline([p.overall_score for p in points])} "
                f"{points[0].overall_score} -> {points[-1].overall_score}"
                f" from {points[0].as_of} to {points[-1].as_of} ({len(points)} scores)"
            )
        else:
            message(f"{external_id} has no history yet; `cs recalc --from DATE --to DATE` backfills it")


def sparkline(values: list[int]) -> str:
    bars = "▁▂▃▄▅▆▇█"
    return "".join(bars[min(len(bars) - 1, max(0, v) * len(bars) // 101)] for v in values)


# Its own module (the longest command of the group); registered here.
app.command()(backtest)
