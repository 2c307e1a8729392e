"""`cs demo`: load a realistic demo book of business."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from cs_cli.cli import _runtime
from cs_cli.cli._options import AsOfOpt, YesOpt, confirm_or_abort, today
from cs_cli.cli._output import err_console, is_terminal, message

if TYPE_CHECKING:
    from cs_cli.services.demo import DemoSummary, Progress


def demo(
    customers: Annotated[
        int, typer.Option("--customers", help="How many customers (accounts) to create.", metavar="N")
    ] = 200,
    months: Annotated[
        int, typer.Option("--months", help="Months of history: usage, tickets, invoices, NPS...", metavar="M")
    ] = 12,
    seed: Annotated[
        int,
        typer.Option("--seed", help="Random seed: the same seed and date give the same book.", metavar="S"),
    ] = 42,
    reset: Annotated[
        bool,
        typer.Option(
            "--reset",
            help="First delete ALL data in the database but the audit trail (you stay, as an admin).",
        ),
    ] = False,
    score: Annotated[
        bool,
        typer.Option(
            "--score/--no-score",
            help="Score health as of the last day and five earlier days (for trends); "
            "--no-score leaves that to your own `cs recalc`.",
        ),
    ] = True,
    as_of: AsOfOpt = None,
    yes: YesOpt = False,
) -> None:
    """Load a demo book of business: teams of CSMs, customers with a long tail of
    ARR, contacts, and months of product usage, support tickets, invoices, NPS,
    touchpoints and tasks. About 70% of accounts are healthy, 20% at risk and 10%
    churned or about to. Admins only.

    Examples:

      cs demo

      cs demo --customers 2000 --months 24 --seed 7

      cs demo --reset --as-of 2025-01-31
    """
    import datetime as dt

    from cs_cli import paths
    from cs_cli.services.demo import load_demo
    from cs_cli.services.journeys import catalog as journeys
    from cs_cli.services.playbooks import catalog

    if reset:
        confirm_or_abort("--reset deletes every row in the database but the audit trail", yes)
    day = today(as_of)
    # The demo may set up any empty database, not only the embedded default.
    with _runtime.session(any_empty_database=True) as (session, actor), _progress() as progress:
        summary = load_demo(
            session,
            actor,
            customers=customers,
            months=months,
            seed=seed,
            as_of=day,
            reset=reset,
            progress=progress,
        )
        # The standard playbooks, as `cs playbooks load` would load them.
        moment = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
        playbooks = catalog.sync(session, actor, catalog.read(paths.playbooks_dir()), full=True, now=moment)
        # The standard journeys too; they name the playbooks, so they come after.
        flows = journeys.sync(session, actor, journeys.read(paths.journeys_dir()), full=True, now=moment)
        # Scored, with a little history, so that health, trends and "why at
        # risk" show from the first look (the board, cs health list).
        scored = _score(session, actor, day, moment) if score else None
    _report(
        summary,
        as_of_given=as_of is not None,
        playbooks=sum(1 for c in playbooks if c.kind != "deactivated"),
        journeys=sum(1 for c in flows if c.kind != "deactivated"),
    )
    if scored is not None:
        message(f"Scored health as of {day} (and {len(HISTORY_DAYS) - 1} earlier days, for trends): {scored}")


# The days before the book's last day that the demo scores too: the 30-day
# change and the trends read them, the sparklines draw them.
HISTORY_DAYS = (91, 60, 30, 14, 7, 0)


def _score(session, actor, day, moment) -> str:
    import datetime as dt
    from pathlib import Path

    from cs_cli.services.health.recalc import recalc_days, status_counts, target_ids
    from cs_cli.specs.scorecard import load_scorecards

    settings = _runtime.STATE.settings()
    plan = load_scorecards(Path(settings.scorecard) if settings.scorecard else None)
    ids = target_ids(session, actor)
    days = [day - dt.timedelta(days=back) for back in HISTORY_DAYS]
    results = recalc_days(session, actor, plan, ids, days=days, now=moment)
    counts = status_counts([r for r in results if r.as_of == day])
    return ", ".join(f"{n:,} {status.replace('_', ' ')}" for status, n in counts.items() if n)


@contextmanager
def _progress() -> Iterator[Progress | None]:
    """A progress bar on stderr when it is a terminal; nothing otherwise."""
    if not is_terminal():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    with Bar(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console(),
        transient=True,
    ) as bar:
        task = bar.add_task("planning the book", total=None)

        def update(phase: str, done: int, total: int) -> None:
            bar.update(task, description=f"writing {phase}", completed=done, total=total)

        yield update


def _report(summary: DemoSummary, *, as_of_given: bool, playbooks: int, journeys: int) -> None:
    counts = summary.counts
    if summary.deleted_rows:
        message(f"--reset: deleted {_count(summary.deleted_rows, 'row', 'rows')}")
    kinds = [
        ("teams", "team", "teams"),
        ("api_users", "user", "users"),
        ("customers", "customer", "customers"),
        ("contacts", "contact", "contacts"),
        ("usage_events", "usage event", "usage events"),
        ("support_tickets", "support ticket", "support tickets"),
        ("invoices", "invoice", "invoices"),
        ("nps_responses", "NPS response", "NPS responses"),
        ("cs_touchpoints", "touchpoint", "touchpoints"),
        ("cs_tasks", "task", "tasks"),
        ("cs_segments", "segment", "segments"),
    ]
    parts = [_count(counts.get(table, 0), one, many) for table, one, many in kinds]
    parts.append(_count(playbooks, "playbook", "playbooks"))
    parts.append(_count(journeys, "journey", "journeys"))
    parts.append(_count(counts.get("cs_alerts", 0), "risk alert", "risk alerts"))
    parts[2] += (
        f" ({summary.churned:,} churned, {summary.at_risk:,} at risk,"
        f" {summary.renewing_within_90:,} renewing within 90 days)"
    )
    message(
        f"Loaded the demo book (seed {summary.seed}, {_count(summary.months, 'month', 'months')}"
        f" to {summary.as_of}): " + ", ".join(parts)
    )
    as_of = f" --as-of {summary.as_of}" if as_of_given else ""
    tries = [
        ("cs board", "the CSM's day: tasks, Customer 360, alerts (? for keys)"),
        ("cs health list --status critical", "who needs help first"),
        (f"cs segments refresh{as_of}", "fill the segments, then: cs segments list"),
        (f"cs playbooks evaluate{as_of}", "start the standard playbooks where they apply"),
        (f"cs recalc{as_of}", "score health again (the demo scored it once)"),
        (
            f"cs journeys tick --no-deliver{as_of}",
            "run the journeys: triggers enroll, steps run, emails queue",
        ),
        ("cs customers list", "the whole book"),
        (f"cs customers list --renewal-within 90 --sort -arr{as_of}", "renewals coming up, largest first"),
    ]
    if summary.largest_at_risk:
        tries.append((f"cs customers show {summary.largest_at_risk}", "the largest account at risk"))
        tries.append((f"cs health show {summary.largest_at_risk}", "why its score is what it is"))
        tries.append(
            (
                f"cs board --customer {summary.largest_at_risk}{as_of}",
                "all of it on one screen",
            )
        )
    if summary.sample_csm:
        tries.append((f"cs --user {summary.sample_csm} customers list", "what that account's CSM sees"))
    tries += [("cs users list", "the CS team"), ("cs export customers --format csv", "the book as CSV")]
    width = max(len(command) for command, _ in tries)
    message("\nWhat to try next:")
    for command, why in tries:
        message(f"  {command.ljust(width)}  # {why}")


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"
