"""`cs churn`: learn churn from the book's own past, judge it honestly,
predict every customer's probability and say what drives it."""

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
    now,
    parse_days,
    today,
)
from cs_cli.cli._output import (
    OutputFormat,
    auc_text,
    dataclass_rows,
    emit_object,
    emit_rows,
    message,
    plain,
    progress_bar,
    stdout_console,
)

# Drivers shown in the table (JSON has them all).
DRIVERS = 5

app = typer.Typer(
    help="Churn prediction: train, evaluate, predict, explain (scikit-learn, offline).",
    no_args_is_help=True,
)

EveryOpt = Annotated[
    int,
    typer.Option(parser=parse_days, metavar="DAYS", help="Days between snapshots.", show_default="30d"),
]


def _scorecard():
    from cs_cli.specs.scorecard import load_scorecard

    settings = _runtime.STATE.settings()
    return load_scorecard(Path(settings.scorecard) if settings.scorecard else None)


def _learn(session, actor, since, until, every, horizon, as_of, *, shuffle: bool):
    """Read the book's past and learn from it: (scorecard, trained)."""
    from cs_cli.services.churn.train import plan_days
    from cs_cli.services.churn.train import train as run

    scorecard = _scorecard()
    days, history = plan_days(
        session, since=since, until=until, every_days=every, horizon_days=horizon, today=today(as_of)
    )
    with progress_bar(len(days), "reading the book's past", least=2) as advance:
        trained = run(
            session,
            actor,
            scorecard,
            days=days,
            history=history,
            horizon_days=horizon,
            every_days=every,
            shuffle=shuffle,
            progress=advance,
        )
    return scorecard, trained


def train(
    since: SnapshotFromOpt = None,
    until: SnapshotToOpt = None,
    every: EveryOpt = 30,
    horizon: HorizonOpt = 90,
    activate: Annotated[
        bool | None,
        typer.Option(
            "--activate/--no-activate",
            help="Make it the model predictions use.",
            show_default="only when no model is active yet",
        ),
    ] = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Learn churn from the book's own history and store the model.

    Snapshot days run back from the last day whose horizon has passed,
    --every days apart, over a year (or --from/--to). Each active customer
    on each day is one observation: its features as of that day only
    (usage by event name over 7, 28 and 90 days and its trend, health and
    its changes, tenure, renewal, ARR, seats, plan, tickets, NPS,
    touchpoints, champions, invoices, attributes), labelled by whether it
    churned within --horizon days after.

    A logistic regression and gradient boosting are validated out of time
    (each test day predicted by a model that saw only earlier days whose
    horizon had passed); the simpler wins unless the other is clearly
    better. Probabilities are calibrated. A book with no dated history is
    learned from its facts and attributes, cross-validated, and says so.

    Examples:

      cs churn train

      cs churn train --horizon 60d --every 14d --from 2025-06-01
    """
    from cs_cli.services.churn.store import active_id, save

    with _runtime.session() as (session, actor):
        scorecard, trained = _learn(session, actor, since, until, every, horizon, as_of, shuffle=False)
        model_id = save(
            session,
            actor,
            trained,
            scorecard=scorecard if trained.features.history else None,
            now=now(as_of),
            activate=activate,
        )
        is_active = active_id(session) == model_id
    _show(trained.report, fmt, model_id=model_id)
    if fmt == OutputFormat.TABLE:
        state = "active" if is_active else f"not active: cs churn activate {model_id}"
        message(f"stored as churn model {model_id} ({state})")


def evaluate(
    since: SnapshotFromOpt = None,
    until: SnapshotToOpt = None,
    every: EveryOpt = 30,
    horizon: HorizonOpt = 90,
    shuffle_labels: Annotated[
        bool,
        typer.Option(
            "--shuffle-labels",
            help="Sanity check: learn from shuffled labels; the AUC must come out near 0.5.",
        ),
    ] = False,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Validate churn prediction on the book as it is now, storing nothing.

    The same time-split validation `cs churn train` runs: ROC AUC with a
    95% interval (customers resampled), PR AUC, Brier score beside the base
    rate's, the churn rate of the riskiest tenth over the base rate (lift),
    a calibration table, and beside the model the health score's own AUC
    and a plain logistic regression on 28-day events and tenure, on the
    same test days. An AUC over 0.95 is flagged as probable leakage, with
    the features that alone come closest.

    Examples:

      cs churn evaluate

      cs churn evaluate --shuffle-labels
    """
    with _runtime.session() as (session, actor):
        _, trained = _learn(session, actor, since, until, every, horizon, as_of, shuffle=shuffle_labels)
        session.rollback()
    _show(trained.report, fmt)


def show(
    model: Annotated[int | None, typer.Argument(help="Model id.", show_default="the active model")] = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """A stored model's validation report, as its training measured it."""
    from cs_cli.services.churn.store import report

    with _runtime.session() as (session, _):
        model_id, got = report(session, model)
    _show(got, fmt, model_id=model_id)


def models(fmt: FormatOpt = OutputFormat.TABLE) -> None:
    """Every stored churn model, newest first; * marks the active one."""
    from cs_cli.services.churn.store import models as listed

    with _runtime.session() as (session, _):
        rows = listed(session)
    if fmt != OutputFormat.TABLE:
        emit_rows(dataclass_rows(rows), None, fmt)
        return
    if not rows:
        message("no churn models yet: cs churn train")
        return
    from rich.table import Table

    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    for column in ("", "id", "trained", "algorithm", "horizon", "snapshots", "churned", "AUC"):
        table.add_column(column)
    for r in rows:
        snapshots = "no history" if "history" in r.method else f"to {r.trained_to}"
        table.add_row(
            "*" if r.active else "",
            str(r.id),
            r.created_at.strftime("%Y-%m-%d"),
            r.algorithm,
            f"{r.horizon_days}d",
            snapshots,
            f"{r.positives:,}",
            "-" if r.auc is None else f"{r.auc:.2f}",
        )
    stdout_console(max_width=80).print(table)


def activate(
    model: Annotated[int, typer.Argument(help="Model id (see cs churn models).")], as_of: AsOfOpt = None
) -> None:
    """Make a stored model the one predictions use."""
    from cs_cli.services.churn.store import activate as run

    with _runtime.session() as (session, actor):
        run(session, actor, model, now=now(as_of))
    message(f"churn model {model} is active: cs churn predict to use it now")


def predict(as_of: AsOfOpt = None, fmt: FormatOpt = OutputFormat.TABLE) -> None:
    """Every active customer's churn probability, into its health score.

    Writes churn_probability into the current health score and that day's
    history row (the churn-jump alert compares them); the churn-predict job
    runs this every night. Customers with no health score yet are counted
    and left (cs recalc first).
    """
    from cs_cli.services.churn.predict import predict as run

    with _runtime.session() as (session, actor):
        result = run(session, actor, as_of=today(as_of), now=now(as_of))
    if fmt != OutputFormat.TABLE:
        emit_object(plain(result), fmt)
        return
    mean = "-" if result.mean is None else f"{result.mean:.1%}"
    unscored = f"; {result.unscored:,} have no health score yet (cs recalc)" if result.unscored else ""
    message(
        f"predicted {result.predicted:,} customers as of {result.as_of} with model {result.model_id}: "
        f"mean {mean}, {result.high_risk:,} at 50% or more{unscored}"
    )


def explain(
    customer: Annotated[str, typer.Argument(help="Customer external id (or numeric id).")],
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Why this customer's churn probability is what it is.

    The customer is compared with a usual one (every feature at its median,
    or commonest value, on the model's last training day). Features that
    move together are taken together (usage, health, support, NPS,
    relationship, billing, renewal, tenure, size, each attribute), and each
    group's effect is its Shapley value: the points of probability it adds
    (or takes away) averaged over every order of switching the groups from
    the usual values to the customer's. The effects add up to the
    customer's probability minus the usual customer's.

    Examples:

      cs churn explain C-00085

      cs churn explain C-00085 --format json
    """
    from cs_cli.services.churn.predict import explain as run

    with _runtime.session() as (session, actor):
        got = run(session, actor, customer, as_of=today(as_of))
        session.rollback()
    if fmt != OutputFormat.TABLE:
        emit_object(plain(got), fmt)
        return
    from rich.markup import escape
    from rich.table import Table

    console = stdout_console(max_width=80)
    console.print(
        f"[bold]{escape(got.name)}[/] ({escape(got.external_id)}): churn probability "
        f"{_share(got.probability)} within the horizon as of {got.as_of}; a usual customer's "
        f"{_share(got.usual)} (model {got.model_id})"
    )
    shown = [d for d in got.drivers if abs(d.effect) >= 0.005][:DRIVERS]
    if not shown:
        console.print("nothing moves it by half a point or more from a usual customer's")
        return
    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    for column in ("driver", "value", "usual", "effect"):
        table.add_column(column, overflow="fold")
    for d in shown:
        table.add_row(escape(d.words), escape(d.value), escape(d.usual), f"{d.effect * 100:+.1f} pts")
    rest = sum(d.effect for d in got.drivers if d not in shown)
    if abs(rest) >= 0.0005:
        table.add_row("everything else", "", "", f"{rest * 100:+.1f} pts")
    console.print(table)


def _share(value: float) -> str:
    """A share with the digits a small one needs: 15.3%, 0.42%, 0%."""
    if value == 0:
        return "0%"
    if value < 0.0001:
        return "<0.01%"
    return f"{value:.1%}" if value >= 0.01 else f"{value:.2%}"


def _show(report, fmt: OutputFormat, *, model_id: int | None = None) -> None:
    if fmt == OutputFormat.JSON:
        emit_object({"model_id": model_id, **plain(report), "enough": report.enough}, fmt)
        return
    if fmt == OutputFormat.CSV:
        emit_rows(
            ({"bin": i + 1, **plain(b)} for i, b in enumerate(report.calibration)),
            ["bin", "observations", "predicted", "observed"],
            fmt,
        )
        return
    from rich.markup import escape
    from rich.table import Table

    console = stdout_console(max_width=80)
    if "no dated history" in report.method:
        message(
            f"[yellow]no dated history:[/] learned from {report.customers:,} customers' facts and "
            "attributes as they stand, cross-validated (not a test on later days)"
        )
    else:
        message(
            f"{len(report.days)} snapshot days, {report.days[0]} to {report.days[-1]} every "
            f"{report.every_days} days; tested out of time on {', '.join(report.test_days)}"
        )
    within = "" if "no dated history" in report.method else f" within {report.horizon_days} days"
    message(
        f"{report.observations:,} observations of {report.customers:,} customers, {report.churned:,} churned"
        f"{within}; test: {report.test_observations:,}, {report.test_churned:,} churned"
        f" (base rate {report.base_rate:.1%})"
    )
    if report.shuffled:
        message("[yellow]labels shuffled:[/] a sanity check; the AUC should be near 0.5")
    if not report.enough:
        message(
            f"[yellow]few churns to judge by:[/] {report.test_churned} in the test; "
            f"about {report.needed} are needed for an AUC interval of ±0.1"
        )
    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    for column in ("ranking churn", "AUC (95% interval)"):
        table.add_column(column)
    table.add_row(f"churn model ({report.algorithm})", auc_text(report.model))
    if report.health:
        table.add_row("health score", auc_text(report.health))
    if report.baseline:
        table.add_row("baseline: 28-day events + tenure", auc_text(report.baseline))
    console.print(table)
    lift = "-" if report.top_decile_lift is None else f"{report.top_decile_lift:.1f}x"
    pr = "-" if report.pr_auc is None else f"{report.pr_auc:.2f}"
    console.print(
        f"PR AUC {pr} (base rate {report.base_rate:.2f}); Brier {report.brier:.3f} "
        f"(base rate alone {report.brier_base_rate:.3f}); riskiest tenth: {lift} the base rate"
    )
    table = Table(
        show_edge=False, header_style="bold", pad_edge=False, title="calibration (tenths by prediction)"
    )
    for column in ("tenth", "observations", "predicted", "churned"):
        table.add_column(column, justify="right")
    for i, b in enumerate(report.calibration, start=1):
        table.add_row(str(i), f"{b.observations:,}", _share(b.predicted), _share(b.observed))
    console.print(table)
    candidates = ", ".join(
        f"{name} {'-' if auc is None else f'{auc:.3f}'}" for name, auc in report.candidates.items()
    )
    message(f"candidates (pooled test AUC): {candidates}")
    if report.leakage:
        closest = ", ".join(f"{escape(s.signal)} {s.auc:.2f}" for s in report.leakage)
        message(
            "[red]AUC over 0.95: check for leakage[/] (a feature recorded after the churn it predicts); "
            f"alone, these come closest: {closest}"
        )


for command in (train, evaluate, show, models, activate, predict, explain):
    app.command(command.__name__)(command)
