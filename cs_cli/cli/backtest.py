"""`cs health backtest`: how well the scores ranked who churned."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cs_cli.cli import _runtime
from cs_cli.cli._options import (
    AsOfOpt,
    FormatOpt,
    HorizonOpt,
    SnapshotFromOpt,
    SnapshotToOpt,
    parse_days,
    today,
)
from cs_cli.cli._output import (
    OutputFormat,
    auc_text,
    emit_object,
    emit_rows,
    message,
    notice,
    plain,
    progress_bar,
)


def backtest(
    since: SnapshotFromOpt = None,
    until: SnapshotToOpt = None,
    every: Annotated[
        int,
        typer.Option(
            parser=parse_days, metavar="DAYS", help="Days between snapshots (7d, 2w...).", show_default="7d"
        ),
    ] = 7,
    horizon: HorizonOpt = 90,
    scorecard: Annotated[
        list[Path] | None,
        typer.Option(
            help="Scorecard YAML to judge (repeat to compare several side by side).",
            dir_okay=False,
            metavar="FILE",
            show_default="CS_SCORECARD, else the shipped one",
        ),
    ] = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Would the health score have warned of the churn that happened?

    For each snapshot day, every active customer is scored as it would have
    been that day (only what was known by then), and the scores are set
    against who churned within the horizon after. Reported: ROC AUC (0.5 is
    chance, 1 a perfect ranking) with a 95% interval, beside a baseline
    (usage events in the last 28 days alone); the churn rate of the
    lowest-scored tenth of each day over the base rate (lift); churn rates
    by status and by score band; each component's and measure's own AUC
    ("which signals predict churn in this book"); and weights suggested
    from them. Days whose horizon has not passed are left out.

    Examples:

      cs health backtest

      cs health backtest --every 30d --horizon 60d

      cs health backtest --scorecard mine.yaml --scorecard theirs.yaml

      cs health backtest --format json > backtest.json
    """
    from cs_cli.services.health.backtest import backtest as run
    from cs_cli.services.health.backtest import snapshot_days
    from cs_cli.specs.scorecard import load_scorecard

    settings = _runtime.STATE.settings()
    if not scorecard:
        scorecard = [Path(settings.scorecard)] if settings.scorecard else [None]
    cards = [load_scorecard(p) for p in scorecard]
    with _runtime.session() as (session, actor):
        days, censored = snapshot_days(
            session, since=since, until=until, every_days=every, horizon_days=horizon, today=today(as_of)
        )
        if not days:
            message(
                f"no snapshot day has a horizon that has passed ({censored} wait for theirs):"
                " an earlier --to, or a shorter --horizon"
            )
            return
        with progress_bar(len(days) * 1000) as advance:
            result = run(
                session,
                actor,
                cards,
                days=days,
                every_days=every,
                horizon_days=horizon,
                censored=censored,
                progress=(lambda n: advance(1000 * n)) if advance else None,
            )
        session.rollback()
    if not result.observations and fmt == OutputFormat.TABLE:
        message("no active customers on those days: nothing to judge (cs import customers FILE, or cs demo)")
        return
    if fmt == OutputFormat.JSON:
        emit_object({**plain(result), "base_rate": result.base_rate, "enough": result.enough}, fmt)
        return
    if fmt == OutputFormat.CSV:
        emit_rows(_ranking_rows(result), _RANKING_COLUMNS, fmt)
        return
    _render_backtest(result)


_RANKING_COLUMNS = ["scorecard", "kind", "signal", "auc", "low", "high", "coverage"]


def _ranking_rows(result):
    if result.baseline:
        yield {"scorecard": "", **_ranking(result.baseline)}
    for card in result.scorecards:
        for signal in [card.score, *card.signals]:
            yield {"scorecard": card.label, **_ranking(signal)}


def _ranking(s) -> dict:
    return {
        "kind": s.kind,
        "signal": s.signal,
        "auc": s.auc,
        "low": s.low,
        "high": s.high,
        "coverage": s.coverage,
    }


def _render_backtest(result) -> None:
    from rich.markup import escape
    from rich.table import Table

    from cs_cli.cli._output import stdout_console

    console = stdout_console(max_width=80)
    first, last = result.days[0], result.days[-1]
    waiting = f"; {result.censored} later days wait for their horizon" if result.censored else ""
    span = f"{first}" if first == last else f"{first} to {last} every {result.every_days} days"
    days = "1 day" if len(result.days) == 1 else f"{len(result.days)} days"
    message(f"health as of {days}, {span}, against churn within {result.horizon_days} days{waiting}")
    rate = f"{result.base_rate:.1%}" if result.base_rate is not None else "-"
    message(
        f"{result.customers:,} customers, {result.observations:,} customer-days;"
        f" {result.churned_customers:,} customers churned ({result.churned_observations:,}"
        f" customer-days, base rate {rate})"
    )
    if not result.enough:
        notice(
            "too few churns to judge:",
            f"{result.churned_customers} churned customers; about"
            f" {result.needed} are needed for an AUC interval of ±0.1 (a longer window, or --horizon)",
        )
    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    for column in ("scorecard", "AUC (95% interval)", "lowest tenth: lift"):
        table.add_column(column)
    for card in result.scorecards:
        lift = f"{card.top_decile_lift:.1f}x" if card.top_decile_lift is not None else "-"
        table.add_row(escape(card.label), auc_text(card.score), lift)
    if result.baseline and result.baseline.coverage:
        table.add_row("baseline: events, last 28 days", auc_text(result.baseline), "")
    elif result.baseline:
        table.add_row("baseline: events, last 28 days", "no usage events", "")
    table.add_row("chance", "0.50", "1.0x")
    console.print(table)
    for card in result.scorecards:
        if card.days_from_history:
            rest = "" if card.days_from_history == len(result.days) else "; the others scored afresh"
            message(
                f"{card.label}: {card.days_from_history} of {len(result.days)} days read from stored"
                f" history (same scorecard, point in time){rest}"
            )
    for card in result.scorecards:
        _render_card(console, card)


def _render_card(console, card) -> None:
    from rich.markup import escape
    from rich.table import Table

    console.print()
    rates = Table(
        title=f"{escape(card.name)}: churn rate", show_edge=False, header_style="bold", pad_edge=False
    )
    for column in ("status", "days", "churned", "rate", "score", "days ", "churned ", "rate "):
        rates.add_column(
            column, justify="left" if column.strip() in ("status", "score") else "right", no_wrap=True
        )
    statuses, bands = card.by_status, list(reversed(card.by_band))
    for i in range(max(len(statuses), len(bands))):
        left = _rate_cells(statuses[i], words=True) if i < len(statuses) else ["", "", "", ""]
        right = _rate_cells(bands[i]) if i < len(bands) else ["", "", "", ""]
        rates.add_row(*left, *right)
    console.print(rates)
    signals = Table(
        title=f"{escape(card.label)}: what predicts churn (each signal alone)",
        show_edge=False,
        header_style="bold",
        pad_edge=False,
    )
    for column in ("signal", "kind", "AUC (95% interval)", "data"):
        signals.add_column(column, justify="right" if column == "data" else "left")
    for s in card.signals:
        signals.add_row(escape(s.signal), s.kind, auc_text(s), f"{s.coverage:.0%}")
    console.print(signals)
    if card.suggested_weights:
        weights = ", ".join(f"{c} {w}" for c, w in card.suggested_weights.items())
        console.print("suggested weights (each component's AUC above 0.5, scaled to 100):")
        console.print(f"  {weights}")
        if card.suggested_auc is not None:
            console.print(
                f"  with them the base score reaches AUC {card.suggested_auc:.2f} on these days\n"
                "  (no multipliers; measured on the days it was fitted to, so optimistic)"
            )
    else:
        console.print("no component ranks churn better than chance: no weights to suggest")


def _rate_cells(rate, words: bool = False) -> list[str]:
    label = rate.group.replace("_", " ") if words else rate.group
    share = f"{rate.rate:.1%}" if rate.rate is not None else "-"
    return [label, f"{rate.observations:,}", f"{rate.churned:,}", share]
