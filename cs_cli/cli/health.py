"""`cs recalc` and `cs health`: score the book, and read the scores."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Annotated

import typer

from cs_cli.cli import _runtime
from cs_cli.cli._options import AsOfOpt, DryRunOpt, FormatOpt, LimitOpt, OffsetOpt, parse_date, today
from cs_cli.cli._output import (
    OutputFormat,
    cell,
    dataclass_rows,
    emit_object,
    emit_rows,
    is_terminal,
    message,
    plain,
)
from cs_cli.enums import HealthStatus, ScoreTrend

app = typer.Typer(help="Health scores: list, explain, history.", no_args_is_help=True)


def recalc(
    customer: Annotated[
        list[str] | None,
        typer.Option("--customer", "-c", help="Only this customer (repeat for more).", metavar="ID"),
    ] = None,
    as_of: AsOfOpt = None,
    since: Annotated[
        dt.date | None,
        typer.Option("--from", parser=parse_date, metavar="DATE", help="Backfill: first day (with --to)."),
    ] = None,
    until: Annotated[
        dt.date | None,
        typer.Option("--to", parser=parse_date, metavar="DATE", help="Backfill: last day (with --from)."),
    ] = None,
    scorecard: Annotated[
        Path | None,
        typer.Option(help="Scorecard YAML (default: CS_SCORECARD, else the shipped one).", dir_okay=False),
    ] = None,
    dry_run: DryRunOpt = False,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Recalculate health scores for every customer you can see (or --customer).

    Writes one history row per customer per day (re-running a day replaces it),
    moves the current score, trend and 30-day change forward, and records a
    health.status_dropped event when a status falls and a
    health.below_threshold event when a score crosses one of the scorecard's
    below_thresholds (50).
    With --from/--to it backfills every day of the range, oldest first.

    Examples:

      cs recalc

      cs recalc --customer C-00107 --dry-run

      cs recalc --from 2026-08-01 --to 2026-11-01
    """
    from cs_cli.errors import BadInput
    from cs_cli.services.health.recalc import recalc_days, status_counts, target_ids
    from cs_cli.specs.scorecard import load_scorecards

    if (since is None) != (until is None):
        raise BadInput("--from and --to go together")
    if since and as_of:
        raise BadInput("use either --as-of or --from/--to")
    if since and until and since > until:
        raise BadInput("--from must not be after --to")
    days = (
        [today(as_of)]
        if since is None
        else [since + dt.timedelta(d) for d in range((until - since).days + 1)]
    )
    settings = _runtime.STATE.settings()
    plan = load_scorecards(scorecard or (Path(settings.scorecard) if settings.scorecard else None))
    started = time.perf_counter()
    with _runtime.session() as (session, actor):
        ids = target_ids(session, actor, customer)
        with _progress(len(ids) * len(days)) as advance:
            results = recalc_days(
                session,
                actor,
                plan,
                ids,
                days=days,
                now=dt.datetime.now(dt.UTC),
                named=bool(customer),
                dry_run=dry_run,
                progress=advance,
            )
        if dry_run:
            session.rollback()
    elapsed = time.perf_counter() - started
    if dry_run:
        preview = {k: v for r in results if r.as_of == days[-1] for k, v in r.preview.items()}
        rows = [{"external_id": k, "score": v[0], "status": v[1]} for k, v in sorted(preview.items())]
        emit_rows(rows, ["external_id", "score", "status"], fmt)
    counts = status_counts(results)
    scored = sum(r.scored for r in results)
    span = f"{days[0]}" if len(days) == 1 else f"{days[0]} to {days[-1]} ({len(days)} days)"
    statuses = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in counts.items())
    extra = sum(r.without_data for r in results)
    note = f"; {extra} without any data" if extra else ""
    drops = sum(r.dropped for r in results)
    note += f"; {drops} dropped a status" if drops else ""
    below = sum(r.fell_below for r in results)
    note += f"; {below} fell below a threshold" if below else ""
    if not ids:
        message("no customers to score: load some with `cs import customers FILE` (or try `cs demo`)")
        return
    verb = "would score" if dry_run else "scored"
    message(f"{verb} {scored:,} customer-days as of {span}: {statuses}{note} in {elapsed:.1f} s")


class _progress:
    def __init__(self, total: int) -> None:
        self.total = total
        self._bar = None

    def __enter__(self):
        if not is_terminal() or self.total < 1000:
            return None
        from rich.progress import Progress

        from cs_cli.cli._output import err_console

        self._bar = Progress(console=err_console(), transient=True)
        self._bar.start()
        task = self._bar.add_task("scoring", total=self.total)
        return lambda n: self._bar.advance(task, n)

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()


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
    csm: Annotated[str | None, typer.Option(help="Only this CSM's customers (email or login).")] = None,
    min_score: Annotated[int | None, typer.Option(help="Score at least this.", min=0, max=100)] = None,
    max_score: Annotated[int | None, typer.Option(help="Score at most this.", min=0, max=100)] = None,
    trend: Annotated[ScoreTrend | None, typer.Option(help="Only this trend.")] = None,
    sort: Annotated[str, typer.Option(help="score, change, name or renewal; prefix - to reverse.")] = "score",
    limit: LimitOpt = 50,
    offset: OffsetOpt = 0,
    all_rows: Annotated[bool, typer.Option("--all", help="Every row, no paging.")] = False,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """List current health scores, worst first by default.

    Churned customers are left out (they would top a worst-first list):
    --include-churned lists them too, --status churned only them.

    Example: cs health list --status critical --sort -change
    """
    from cs_cli.services.health.views import HealthFilter, list_scores

    flt = HealthFilter(
        status=status,
        csm=csm,
        min_score=min_score,
        max_score=max_score,
        trend=trend,
        churned=include_churned,
    )
    with _runtime.session() as (session, actor):
        page = list_scores(
            session,
            actor,
            flt,
            as_of=today(None),
            sort=sort,
            offset=offset,
            limit=None if all_rows else limit,
        )
    emit_rows(dataclass_rows(page.rows), LIST_COLUMNS, fmt, headers=HEADERS)
    if fmt == OutputFormat.TABLE:
        shown = page.offset + len(page.rows)
        more = f"; next page: --offset {shown}" if page.total > shown else ""
        left_out = "" if status or include_churned else " (churned ones left out: --include-churned)"
        message(f"{len(page.rows)} of {page.total} scored customers{left_out}{more}")


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

    from cs_cli.cli._output import stdout_console
    from cs_cli.specs.scorecard import MEASURES

    e = detail.explanation
    head = Table.grid(padding=(0, 2))
    head.add_column(style="dim")
    head.add_column()
    status = cell(detail.health_status)
    head.add_row("score", f"[bold]{detail.overall_score}[/] {_gauge(detail.overall_score)} {status}")
    if detail.score_change_30d is not None:
        head.add_row("30 days", f"{detail.score_change_30d:+d} ({cell(detail.score_trend)})")
    if detail.override:
        o = detail.override
        head.add_row(
            "[bold]override[/]",
            f"[bold]{o['overall_score']}[/] {cell(o['health_status'])} by {o['set_by']} "
            f"until {o['expires_on']}: {o['reason']} (the computed score below goes on being recalculated)",
        )
    head.add_row("as of", cell(detail.as_of))
    head.add_row("base", f"{e.get('base', '-')} points before multipliers")
    for name, factor, *label in e.get("multipliers", []):
        head.add_row("multiplier", f"x{factor} {label[0] if label else name.replace('_', ' ')}")
    if e.get("missing"):
        head.add_row("missing", ", ".join(e["missing"]) + " (no data; weight shared out among the others)")
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
                "no data"
                if raw is None and name != "-"
                else (f"{raw:.3g}" if isinstance(raw, float) else cell(raw)),
                cell(values.get("score")),
                MEASURES[name][2] if name in MEASURES else "",
            )
    title = f"[bold]{detail.name}[/] ({detail.external_id})"
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

    Example: cs health override C-00107 45 --reason "CFO says budget is cut" --until 2026-12-31
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
    """The five component scores of a customer, their weights and the points each adds."""
    from cs_cli.services.health.views import score_detail
    from cs_cli.specs.scorecard import Component

    with _runtime.session() as (session, actor):
        detail = score_detail(session, actor, customer)
    contributions = detail.explanation.get("contributions", {})
    missing = set(detail.explanation.get("missing", []))
    rows = [
        {
            "component": c.value,
            "score": detail.components.get(c.value),
            "points": contributions.get(c.value),
            "missing": c.value in missing,
        }
        for c in Component
    ]
    emit_rows(rows, ["component", "score", "points", "missing"], fmt)


@app.command()
def distribution(fmt: FormatOpt = OutputFormat.TABLE) -> None:
    """How many customers (and how much ARR) are healthy, at risk, critical, churned."""
    from cs_cli.services.health.views import distribution as counts

    with _runtime.session() as (session, actor):
        rows = counts(session, actor)
    emit_rows(rows, ["health_status", "customers", "share", "arr", "average_score"], fmt)


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
