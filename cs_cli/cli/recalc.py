"""`cs recalc`: score the book as of a day, or a run of days."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Annotated

import typer

from cs_cli.cli import _runtime
from cs_cli.cli._options import (
    AsOfOpt,
    DryRunOpt,
    FormatOpt,
    parse_date,
    parse_days,
    today,
)
from cs_cli.cli._output import (
    OutputFormat,
    emit_rows,
    message,
    progress_bar,
    warn,
)
from cs_cli.enums import UNJUDGED_STATUSES, HealthStatus


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
    every: Annotated[
        int,
        typer.Option(
            parser=parse_days,
            metavar="DAYS",
            help="Backfill: score every this many days, counted back from --to (7d: weekly history).",
            show_default="1d",
        ),
    ] = 1,
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

      cs recalc --from 2025-11-01 --to 2026-11-01 --every 7d
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
    if every != 1 and since is None:
        raise BadInput("--every goes with --from and --to")
    days = (
        [today(as_of)]
        if since is None
        else sorted(until - dt.timedelta(d) for d in range(0, (until - since).days + 1, every))
    )
    if every > 7:
        from cs_cli.services.health.recalc import PREVIOUS_SLACK_DAYS

        warn(
            f"with --every above {PREVIOUS_SLACK_DAYS + 1}d, no score lies 30 to {30 + PREVIOUS_SLACK_DAYS}"
            " days before each day: the 30-day change and the trend stay empty"
        )
    settings = _runtime.STATE.settings()
    plan = load_scorecards(scorecard or (Path(settings.scorecard) if settings.scorecard else None))
    started = time.perf_counter()
    with _runtime.session() as (session, actor):
        ids = target_ids(session, actor, customer)
        with progress_bar(len(ids) * len(days)) as advance:
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
    judged = [HealthStatus.HEALTHY, HealthStatus.AT_RISK, HealthStatus.CRITICAL, HealthStatus.CHURNED]
    statuses = ", ".join(f"{counts[s]} {s.replace('_', ' ')}" for s in judged)
    apart = [f"{counts[s]} {s.replace('_', ' ')}" for s in UNJUDGED_STATUSES if counts[s]]
    note = f"; {' and '.join(apart)} (not judged by the score)" if apart else ""
    not_yet = sum(r.not_yet for r in results)
    note += f"; {not_yet} not yet customers" if not_yet else ""
    extra = sum(r.without_data for r in results)
    note += f"; {extra} without any data" if extra else ""
    drops = sum(r.dropped for r in results)
    note += f"; {drops} dropped a status" if drops else ""
    below = sum(r.fell_below for r in results)
    note += f"; {below} fell below a threshold" if below else ""
    if not ids:
        message("no customers to score: load some with `cs import customers FILE` (or try `cs demo`)")
        return
    verb = "would score" if dry_run else "scored"
    message(f"{verb} {scored:,} customer-days as of {span}: {statuses}{note} in {elapsed:.1f} s")
