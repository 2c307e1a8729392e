"""`cs churn`, `cs expansion` and `cs nps`: learn each from the book's own
past, judge it honestly, predict every customer and say what drives it.
One set of commands, made for each target by `make_app`."""

# No `from __future__ import annotations`: the commands are made in
# make_app, and Typer must see their option types, local to it, evaluated.
from pathlib import Path
from typing import Annotated

import typer

from cs_cli.cli import _runtime
from cs_cli.cli._options import (
    AsOfOpt,
    FormatOpt,
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
    notice,
    plain,
    progress_bar,
    stdout_console,
    warn,
)
from cs_cli.services.churn.targets import EXPANSION_SHARE, TARGETS

# Drivers shown in the table (JSON has them all).
DRIVERS = 5

EveryOpt = Annotated[
    int,
    typer.Option(parser=parse_days, metavar="DAYS", help="Days between snapshots.", show_default="30d"),
]


def parse_share(text: str | float) -> float:
    """'10%' or '0.1' as a share above zero."""
    raw = str(text).strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 10:
        raise typer.BadParameter(f"'{text}' is not a share (like 10% or 0.1)")
    return value


ShareOpt = Annotated[
    float,
    typer.Option(
        parser=parse_share,
        metavar="SHARE",
        help="Expansion is ARR up by at least this share within the horizon (10% or 0.1).",
        show_default="10%",
    ),
]

# What each target's commands say about it: the group's help, the label in
# words (the horizon option's and the train command's), examples.
_ABOUT = {
    "churn": {
        "help": "Churn prediction: train, evaluate, predict, explain (scikit-learn, offline).",
        "horizon": "Churn counts within this many days after a snapshot.",
        "label": "labelled by whether it churned within --horizon days after",
        "predicts": "churn probability",
        "noun": "churn",
        "examples": "cs churn train --horizon 60d --every 14d --from 2025-06-01",
    },
    "expansion": {
        "help": "Expansion prediction: the probability that a customer's ARR rises by --share within "
        "the horizon, learned from the ARR history (train, evaluate, predict, explain).",
        "horizon": "Expansion counts within this many days after a snapshot.",
        "label": "labelled by whether its ARR rose by --share (10%) or more within --horizon days "
        "after, as the ARR history shows (customers with ARR only)",
        "predicts": "expansion probability",
        "noun": "expansion",
        "examples": "cs expansion train --share 20% --horizon 180d",
    },
    "nps": {
        "help": "NPS prediction: each customer's next NPS response (0-10), judged against "
        '"the same as the last response" (train, evaluate, predict, explain).',
        "horizon": "The next NPS response within this many days after a snapshot is predicted.",
        "label": "labelled by the score of its next NPS response within --horizon days after "
        "(customers who responded only)",
        "predicts": "predicted NPS",
        "noun": "the next NPS response",
        "examples": "cs nps train --horizon 180d",
    },
}


def _scorecard():
    from cs_cli.specs.scorecard import load_scorecard

    settings = _runtime.STATE.settings()
    return load_scorecard(Path(settings.scorecard) if settings.scorecard else None)


def make_app(name: str) -> typer.Typer:
    """The commands for one target: train, evaluate, show, models,
    activate, predict, explain."""
    target = TARGETS[name]
    about = _ABOUT[name]
    app = typer.Typer(help=about["help"], no_args_is_help=True)
    HorizonOpt = Annotated[int, typer.Option(parser=parse_days, metavar="DAYS", help=about["horizon"])]
    probability = target.kind == "probability"

    def learn(session, actor, since, until, every, horizon, as_of, share, *, shuffle: bool):
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
                target=target,
                share=share,
                shuffle=shuffle,
                progress=advance,
            )
        return scorecard, trained

    def train(
        since: SnapshotFromOpt = None,
        until: SnapshotToOpt = None,
        every: EveryOpt = 30,
        horizon: HorizonOpt = 90,
        share: ShareOpt = EXPANSION_SHARE,
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
        from cs_cli.services.churn.store import active_id, save

        with _runtime.session() as (session, actor):
            scorecard, trained = learn(
                session, actor, since, until, every, horizon, as_of, share, shuffle=False
            )
            model_id = save(
                session,
                actor,
                trained,
                scorecard=scorecard if trained.features.history else None,
                now=now(as_of),
                activate=activate,
            )
            is_active = active_id(session, name) == model_id
        _show(trained.report, fmt, model_id=model_id)
        if fmt == OutputFormat.TABLE:
            state = "active" if is_active else f"not active: cs {name} activate {model_id}"
            message(f"stored as {name} model {model_id} ({state})")

    linear = "A logistic regression" if probability else "A ridge regression"
    extra = " Probabilities are calibrated." if probability else ""
    if name == "churn":
        extra += (
            " A book with no dated history is learned from its facts and attributes, "
            "cross-validated, and says so."
        )
    train.__doc__ = _doc(
        f"Learn {about['noun']} from the book's own history and store the model.",
        "Snapshot days run back from the last day whose horizon has passed, --every days apart, over a "
        "year (or --from/--to). Each customer on each day is one observation: its features as of that "
        "day only (usage by event name over 7, 28 and 90 days and its trend, health and its changes, "
        "tenure, renewal, ARR, seats, plan, tickets, NPS, touchpoints, champions, invoices, attributes), "
        f"{about['label']}.",
        f"{linear} and gradient boosting are validated out of time (each test day predicted by a model "
        "that saw only earlier days whose horizon had passed); the simpler wins unless the other is "
        f"clearly better.{extra}",
        examples=[f"cs {name} train", about["examples"]],
    )

    def evaluate(
        since: SnapshotFromOpt = None,
        until: SnapshotToOpt = None,
        every: EveryOpt = 30,
        horizon: HorizonOpt = 90,
        share: ShareOpt = EXPANSION_SHARE,
        shuffle_labels: Annotated[
            bool,
            typer.Option(
                "--shuffle-labels",
                help="Sanity check: learn from shuffled labels; the model must do no better than chance.",
            ),
        ] = False,
        as_of: AsOfOpt = None,
        fmt: FormatOpt = OutputFormat.TABLE,
    ) -> None:
        with _runtime.session() as (session, actor):
            _, trained = learn(
                session, actor, since, until, every, horizon, as_of, share, shuffle=shuffle_labels
            )
            session.rollback()
        _show(trained.report, fmt)

    judged = (
        "ROC AUC with a 95% interval (customers resampled), PR AUC, Brier score beside the base rate's, "
        "the rate of the top tenth over the base rate (lift), a calibration table, and beside the model "
        "the health score's own AUC and a plain logistic regression on 28-day events and tenure, on the "
        "same test days. An AUC over 0.95 is flagged as probable leakage."
        if probability
        else "the mean absolute error in points of NPS with a 95% interval (customers resampled) and the "
        'root mean square error, beside "the same as the last response" (on the responses that had one) '
        "and the book's mean response."
    )
    evaluate.__doc__ = _doc(
        f"Validate {about['noun']} prediction on the book as it is now, storing nothing.",
        f"The same time-split validation `cs {name} train` runs: {judged}",
        examples=[f"cs {name} evaluate", f"cs {name} evaluate --shuffle-labels"],
    )

    def show(
        model: Annotated[
            int | None, typer.Argument(help="Model id.", show_default="the active model")
        ] = None,
        fmt: FormatOpt = OutputFormat.TABLE,
    ) -> None:
        """A stored model's validation report, as its training measured it."""
        from cs_cli.services.churn.store import report

        with _runtime.session() as (session, _):
            model_id, got = report(session, model, name)
        _show(got, fmt, model_id=model_id)

    def models(fmt: FormatOpt = OutputFormat.TABLE) -> None:
        from cs_cli.services.churn.store import models as listed

        with _runtime.session() as (session, _):
            rows = listed(session, name)
        if fmt != OutputFormat.TABLE:
            emit_rows(dataclass_rows(rows), None, fmt)
            return
        if not rows:
            message(f"no {name} models yet: cs {name} train")
            return
        from rich.table import Table

        table = Table(show_edge=False, header_style="bold", pad_edge=False)
        quality = "AUC" if probability else "error"
        for column in ("", "id", "trained", "algorithm", "horizon", "snapshots", target.happened, quality):
            table.add_column(column)
        for r in rows:
            snapshots = "no history" if "history" in r.method else f"to {r.trained_to}"
            measured = r.auc if probability else r.mae
            table.add_row(
                "*" if r.active else "",
                str(r.id),
                r.created_at.strftime("%Y-%m-%d"),
                r.algorithm,
                f"{r.horizon_days}d",
                snapshots,
                f"{r.positives:,}",
                "-" if measured is None else f"{measured:.2f}",
            )
        stdout_console(max_width=80).print(table)

    models.__doc__ = f"Every stored {name} model, newest first; * marks the active one."

    def activate(
        model: Annotated[int, typer.Argument(help=f"Model id (see cs {name} models).")], as_of: AsOfOpt = None
    ) -> None:
        """Make a stored model the one predictions use."""
        from cs_cli.services.churn.store import activate as run

        with _runtime.session() as (session, actor):
            run(session, actor, model, now=now(as_of), target=name)
        message(f"{name} model {model} is active: cs {name} predict to use it now")

    def predict(as_of: AsOfOpt = None, fmt: FormatOpt = OutputFormat.TABLE) -> None:
        from cs_cli.services.churn.predict import predict as run

        with _runtime.session() as (session, actor):
            result = run(session, actor, as_of=today(as_of), now=now(as_of), target=name)
        if fmt != OutputFormat.TABLE:
            emit_object(plain(result), fmt)
            return
        if probability:
            mean = "-" if result.mean is None else f"{result.mean:.1%}"
            high = f"{result.high_risk:,} at 50% or more"
        else:
            mean = "-" if result.mean is None else f"{result.mean:.1f}"
            high = f"{result.high_risk:,} detractors (6 or less)"
        notes = []
        if result.newer:
            if result.history:
                kept = "kept; that day's history has it"
            elif name == "churn":
                kept = f"kept; no history of that day takes it: cs recalc --as-of {result.as_of} first"
            else:
                kept = "kept; nothing written for them"
            notes.append(f"{result.newer:,} current scores are of a later day ({kept})")
        if result.unscored:
            notes.append(f"{result.unscored:,} have no health score yet (cs recalc)")
        message(
            f"predicted {result.predicted:,} customers as of {result.as_of} with {name} model "
            f"{result.model_id}: mean {mean}, {high}" + "".join(f"; {n}" for n in notes)
        )

    history = " and that day's history row (the churn-jump alert compares them)" if name == "churn" else ""
    predict.__doc__ = _doc(
        f"Every active customer's {about['predicts']}, into its health score.",
        f"Writes {target.column} into the current health score{history}; the churn-predict job runs "
        "this every night for each target with an active model. Customers with no health score yet "
        "are counted and left (cs recalc first).",
    )

    def explain(
        customer: Annotated[str, typer.Argument(help="Customer external id (or numeric id).")],
        as_of: AsOfOpt = None,
        fmt: FormatOpt = OutputFormat.TABLE,
    ) -> None:
        from cs_cli.services.churn.predict import explain as run

        with _runtime.session() as (session, actor):
            got = run(session, actor, customer, as_of=today(as_of), target=name)
            session.rollback()
        if fmt != OutputFormat.TABLE:
            emit_object(plain(got), fmt)
            return
        _show_explanation(got, about["predicts"], probability)

    unit = "points of probability" if probability else "points of NPS"
    explain.__doc__ = _doc(
        f"Why this customer's {about['predicts']} is what it is.",
        "The customer is compared with a usual one (every feature at its median, or commonest value, on "
        "the model's last training day). Features that move together are taken together (usage, health, "
        "support, NPS, relationship, billing, renewal, tenure, size, each attribute), and each group's "
        f"effect is its Shapley value: the {unit} it adds (or takes away) averaged over every order of "
        "switching the groups from the usual values to the customer's. The effects add up to the "
        "customer's prediction minus the usual customer's.",
        examples=[f"cs {name} explain C-00085", f"cs {name} explain C-00085 --format json"],
    )

    for command in (train, evaluate, show, models, activate, predict, explain):
        if name != "expansion" and command in (train, evaluate):
            command = _without_share(command)
        app.command(command.__name__)(command)
    return app


def _doc(*paragraphs: str, examples: list[str] = ()) -> str:
    """A command's help from unwrapped paragraphs (the first is the summary)."""
    import textwrap

    parts = [textwrap.fill(p, 76) for p in paragraphs]
    if examples:
        parts.append("Examples:")
        parts += [f"  {e}" for e in examples]
    return "\n\n".join(parts)


def _without_share(command):
    """The command without its --share option (only expansion has one)."""
    import functools
    import inspect

    signature = inspect.signature(command)
    kept = [p for p in signature.parameters.values() if p.name != "share"]

    @functools.wraps(command)
    def wrapper(**kwargs):
        return command(share=EXPANSION_SHARE, **kwargs)

    wrapper.__signature__ = signature.replace(parameters=kept)  # type: ignore[attr-defined]
    return wrapper


def _show_explanation(got, predicts: str, probability: bool) -> None:
    from rich.markup import escape
    from rich.table import Table

    shown_value = _share if probability else (lambda v: f"{v:.1f}")
    console = stdout_console(max_width=80)
    within = " within the horizon" if probability else " (next response)"
    console.print(
        f"[bold]{escape(got.name)}[/] ({escape(got.external_id)}): {predicts} "
        f"{shown_value(got.probability)}{within} as of {got.as_of}; a usual customer's "
        f"{shown_value(got.usual)} (model {got.model_id})"
    )
    least = 0.005 if probability else 0.05
    shown = [d for d in got.drivers if abs(d.effect) >= least][:DRIVERS]
    if not shown:
        what = "half a point" if probability else "a twentieth of a point"
        console.print(f"nothing moves it by {what} or more from a usual customer's")
        return
    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    for column in ("driver", "value", "usual", "effect"):
        table.add_column(column, overflow="fold")

    def effect(value: float) -> str:
        return f"{value * 100:+.1f} pts" if probability else f"{value:+.2f}"

    for d in shown:
        table.add_row(escape(d.words), escape(d.value), escape(d.usual), effect(d.effect))
    rest = sum(d.effect for d in got.drivers if d not in shown)
    if abs(rest) >= least / 10:
        table.add_row("everything else", "", "", effect(rest))
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
    if report.target == "nps":
        _show_score(report, fmt)
        return
    if fmt == OutputFormat.CSV:
        emit_rows(
            ({"bin": i + 1, **plain(b)} for i, b in enumerate(report.calibration)),
            ["bin", "observations", "predicted", "observed"],
            fmt,
        )
        return
    from rich.table import Table

    happened = TARGETS[report.target].happened
    console = stdout_console(max_width=80)
    if "no dated history" in report.method:
        notice(
            "no dated history:",
            f"learned from {report.customers:,} customers' facts and "
            "attributes as they stand, cross-validated (not a test on later days)",
        )
    else:
        _days_line(report)
    within = "" if "no dated history" in report.method else f" within {report.horizon_days} days"
    rise = f" (ARR up {report.expansion_share:.0%} or more)" if report.expansion_share else ""
    message(
        f"{report.observations:,} observations of {report.customers:,} customers, {report.churned:,} "
        f"{happened}{within}{rise}; test: {report.test_observations:,}, {report.test_churned:,} "
        f"{happened} (base rate {report.base_rate:.1%})"
    )
    if report.shuffled:
        warn("labels shuffled: a sanity check; the AUC should be near 0.5")
    if not report.enough:
        notice(
            "few to judge by:",
            f"{report.test_churned} {happened} in the test; "
            f"about {report.needed} are needed for an AUC interval of ±0.1",
        )
    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    for column in (f"ranking {report.target}", "AUC (95% interval)"):
        table.add_column(column)
    table.add_row(f"{report.target} model ({report.algorithm})", auc_text(report.model))
    if report.health:
        table.add_row("health score", auc_text(report.health))
    if report.baseline:
        table.add_row("baseline: 28-day events + tenure", auc_text(report.baseline))
    console.print(table)
    lift = "-" if report.top_decile_lift is None else f"{report.top_decile_lift:.1f}x"
    pr = "-" if report.pr_auc is None else f"{report.pr_auc:.2f}"
    top = "riskiest" if report.target == "churn" else "likeliest"
    console.print(
        f"PR AUC {pr} (base rate {report.base_rate:.2f}); Brier {report.brier:.3f} "
        f"(base rate alone {report.brier_base_rate:.3f}); {top} tenth: {lift} the base rate"
    )
    table = Table(
        show_edge=False, header_style="bold", pad_edge=False, title="calibration (tenths by prediction)"
    )
    for column in ("tenth", "observations", "predicted", happened):
        table.add_column(column, justify="right")
    for i, b in enumerate(report.calibration, start=1):
        table.add_row(str(i), f"{b.observations:,}", _share(b.predicted), _share(b.observed))
    console.print(table)
    candidates = ", ".join(
        f"{name} {'-' if auc is None else f'{auc:.3f}'}" for name, auc in report.candidates.items()
    )
    message(f"candidates (pooled test AUC): {candidates}")
    if report.leakage:
        closest = ", ".join(f"{s.signal} {s.auc:.2f}" for s in report.leakage)
        notice(
            "AUC over 0.95: check for leakage",
            f"(a feature recorded after the {report.target} it "
            f"predicts); alone, these come closest: {closest}",
            style="red",
        )


def _days_line(report) -> None:
    message(
        f"{len(report.days)} snapshot days, {report.days[0]} to {report.days[-1]} every "
        f"{report.every_days} days; tested out of time on {', '.join(report.test_days)}"
    )


def _show_score(report, fmt: OutputFormat) -> None:
    """An NPS model's report: its error beside the baselines'."""
    rows = [
        ("nps model", report.model),
        ("  on responses with an earlier one", report.model_on_last),
        ("baseline: same as the last response", report.same_as_last),
        ("baseline: the book's mean response", report.book_mean),
    ]
    if fmt == OutputFormat.CSV:
        emit_rows(
            ({"predictor": label.strip(), **plain(e)} for label, e in rows if e is not None),
            ["predictor", "mae", "low", "high", "observations"],
            fmt,
        )
        return
    from rich.table import Table

    _days_line(report)
    message(
        f"{report.observations:,} observations of {report.customers:,} customers (a snapshot day "
        f"followed by an NPS response within {report.horizon_days} days); test: {report.test_observations:,}"
    )
    if report.shuffled:
        warn("labels shuffled: a sanity check; the model should do no better than the mean")
    if not report.enough:
        notice(
            "few to judge by:",
            f"{report.test_observations} responses in the test; "
            f"about {report.needed} are needed for an error worth reading",
        )
    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    for column in ("predicting the next response", "observations", "mean error (95% interval)"):
        table.add_column(column)
    for label, e in rows:
        if e is not None:
            interval = "" if e.low is None else f" ({e.low:.2f} to {e.high:.2f})"
            table.add_row(label, f"{e.observations:,}", f"{e.mae:.2f}{interval}")
    stdout_console(max_width=80).print(table)
    candidates = ", ".join(f"{n} {'-' if m is None else f'{m:.3f}'}" for n, m in report.candidates.items())
    rmse = "-" if report.rmse is None else f"{report.rmse:.2f}"
    message(
        f"model: {report.algorithm}, root mean square error {rmse}; candidates (mean error): {candidates}"
    )


APPS = {name: make_app(name) for name in TARGETS}
