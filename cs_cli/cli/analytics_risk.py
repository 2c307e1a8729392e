"""`cs analytics` on what may be lost and how fast new customers get
going: churn risk (by model, else by health) and time to value by the
month customers started."""

from __future__ import annotations

from typing import Annotated

import typer

from cs_cli.cli import _runtime
from cs_cli.cli._options import AsOfOpt, FormatOpt, today
from cs_cli.cli._output import OutputFormat, emit_rows, message, warn
from cs_cli.cli.analytics_options import (
    CsmOpt,
    PlanOpt,
    ScopeOpt,
    SegmentOpt,
    TeamOpt,
    bar,
    filters_from,
    for_scripts,
    month,
    pct,
)


def register(app: typer.Typer) -> None:
    """Add these commands to the `cs analytics` group."""
    app.command("churn-risk")(churn_risk)
    app.command("time-to-value")(time_to_value)


_BAND_COLUMNS = ["band", "customers", "arr", "expected_churns", "expected_arr"]
_CUSTOMER_COLUMNS = [
    "external_id",
    "name",
    "arr",
    "churn_probability",
    "health_status",
    "overall_score",
    "renewal_date",
]


def churn_risk(
    as_of: AsOfOpt = None,
    top: Annotated[
        int, typer.Option("--top", min=0, help="How many of the riskiest accounts to list (0: none).")
    ] = 10,
    customers: Annotated[
        bool,
        typer.Option(
            "--customers",
            help="With --format json|csv: every active customer, riskiest first, instead of the bands.",
        ),
    ] = False,
    scope: ScopeOpt = "all",
    csm: CsmOpt = None,
    segment: SegmentOpt = None,
    plan: PlanOpt = None,
    team: TeamOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """The active book by churn risk on a day: bands of predicted churn
    probability (the latest prediction on or before the day: cs churn
    predict) with their ARR and the churn the model expects of them, and the
    riskiest accounts. With no prediction, the bands are health statuses,
    and it says so.

    Example: cs analytics churn-risk --team East --top 20
    """
    from cs_cli.services.metrics.risk import churn_risk as compute

    day = today(as_of)
    every = customers and fmt != OutputFormat.TABLE
    with _runtime.session() as (session, actor):
        risk = compute(
            session,
            actor,
            filters_from(scope, csm, segment, plan, team),
            as_of=day,
            top=None if every else top,
        )
    if every:
        emit_rows([vars(c) for c in risk.riskiest], _CUSTOMER_COLUMNS, fmt)
        return
    bands = [
        {
            "band": b.band,
            "customers": b.customers,
            "arr": round(b.arr, 2),
            "expected_churns": None if b.expected_churns is None else round(b.expected_churns, 2),
            "expected_arr": None if b.expected_arr is None else round(b.expected_arr, 2),
        }
        for b in risk.bands
    ]
    if for_scripts(bands, _BAND_COLUMNS, fmt):
        return
    by_model = risk.source == "model"
    most = max((b.arr for b in risk.bands), default=0)
    table = [
        {
            ("churn probability" if by_model else "health"): b["band"].replace("_", " "),
            "customers": b["customers"],
            "ARR": b["arr"],
            **({"expected ARR lost": f"{b['expected_arr']:,.0f}"} if b["expected_arr"] is not None else {}),
            "": bar(b["arr"], most, 16),
        }
        for b in bands
    ]
    emit_rows(table, list(table[0]), fmt)
    if by_model:
        churns = sum(b.expected_churns or 0 for b in risk.bands)
        lost = sum(b.expected_arr or 0 for b in risk.bands)
        auc = f" (test AUC {risk.model_auc:.2f})" if risk.model_auc is not None else ""
        horizon = f"{risk.horizon_days} days" if risk.horizon_days else "its horizon"
        message(
            f"as of {day}: {risk.predicted:,} of {risk.customers:,} active customers predicted; "
            f"the model{auc} expects {churns:,.1f} churns and ARR {lost:,.0f} lost within {horizon}"
        )
    else:
        message(
            f"as of {day}: no churn prediction for these customers (cs churn train, then cs churn "
            "predict); bands by health status instead"
        )
    if top and risk.riskiest:
        message(f"the {len(risk.riskiest)} riskiest:")
        riskiest = [
            {
                "customer": c.external_id,
                "name": c.name,
                "ARR": round(c.arr, 2),
                "churn p": pct(c.churn_probability, 0),
                "health": None if c.health_status is None else c.health_status.replace("_", " "),
                "renews": c.renewal_date,
            }
            for c in risk.riskiest
        ]
        if not by_model:
            for row, c in zip(riskiest, risk.riskiest, strict=True):
                del row["churn p"]
                row["score"] = c.overall_score
        emit_rows(riskiest, list(riskiest[0]), fmt)


_COHORT_COLUMNS = ["month", "started", "reached", "within_target", "median_days", "p25_days", "p75_days"]


def time_to_value(
    as_of: AsOfOpt = None,
    event: Annotated[
        str | None,
        typer.Option(
            "--event",
            metavar="NAME",
            help="The first-value event (default: the first_value_event setting, else any use).",
        ),
    ] = None,
    target: Annotated[
        int, typer.Option("--target", min=1, max=3650, help="Days within which first value is on target.")
    ] = 30,
    scope: ScopeOpt = "all",
    csm: CsmOpt = None,
    segment: SegmentOpt = None,
    plan: PlanOpt = None,
    team: TeamOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Time to value of the customers whose contract started in the year to
    the day, by the month they started: how many reached their first value
    (the first use of the product, or the first --event), how many within
    --target days, and the median and quartiles of the days it took.

    Example: cs analytics time-to-value --event report_exported --target 14
    """
    from cs_cli.services.metrics.value import cohorts

    day = today(as_of)
    name = event if event is not None else _runtime.STATE.settings().first_value_event
    with _runtime.session() as (session, actor):
        rows = cohorts(
            session, actor, filters_from(scope, csm, segment, plan, team), day, name, target_days=target
        )
    data = [{**vars(r), "month": month(r.month)} for r in rows]
    if for_scripts(data, _COHORT_COLUMNS, fmt):
        return
    what = f"first {name}" if name else "first use"
    if not rows:
        message(f"no customer started in the year to {day}")
        return
    most = max((r.median_days or 0 for r in rows), default=0)
    table = [
        {
            "started in": d["month"],
            "customers": r.started,
            "reached": pct(r.reached / r.started, 0),
            f"in {target}d": pct(r.within_target / r.started, 0),
            "median days": None if r.median_days is None else f"{r.median_days:.0f}",
            "p25-p75": None if r.p25_days is None else f"{r.p25_days:.0f}-{r.p75_days:.0f}",
            "": bar(r.median_days, most, 14),
        }
        for d, r in zip(data, rows, strict=True)
    ]
    emit_rows(table, list(table[0]), fmt)
    started = sum(r.started for r in rows)
    reached = sum(r.reached for r in rows)
    within = sum(r.within_target for r in rows)
    message(
        f"as of {day}: {reached:,} of {started:,} new customers reached their {what}; "
        f"{within:,} ({pct(within / started, 0)}) within {target} days"
    )
    from cs_cli.services.metrics.filters import THIN

    if started < THIN:
        warn(f"only {started} new customers: the shares move a lot with one customer")
