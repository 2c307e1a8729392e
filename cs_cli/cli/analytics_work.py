"""`cs analytics` on how the work goes: playbooks, journeys (with a
journey's step funnel) and CSMs, and the dashboard."""

from __future__ import annotations

from typing import Annotated

import typer

from cs_cli.cli import _runtime
from cs_cli.cli._options import AsOfOpt, FormatOpt, today
from cs_cli.cli._output import OutputFormat, emit_rows, message
from cs_cli.cli.analytics_options import (
    CsmOpt,
    FromOpt,
    PlanOpt,
    ScopeOpt,
    SegmentOpt,
    TeamOpt,
    ToOpt,
    bar,
    columns_of,
    filters_from,
    for_scripts,
    pct,
    span,
)


def register(app: typer.Typer) -> None:
    """Add these commands to the `cs analytics` group."""
    app.command("playbook-performance")(playbook_performance)
    app.command("journey-performance")(journey_performance)
    app.command("csm-performance")(csm_performance)
    app.command()(dashboard)


def playbook_performance(
    start: FromOpt = None,
    end: ToOpt = None,
    scope: ScopeOpt = "all",
    csm: CsmOpt = None,
    segment: SegmentOpt = None,
    plan: PlanOpt = None,
    team: TeamOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Each playbook's runs started in the period: completed, cancelled,
    still active, the completion rate (completed of those ended), the
    success rate (of completed runs judged) and their tasks done.

    Example: cs analytics playbook-performance --from 2026-07-01
    """
    from cs_cli.services.metrics.performance import playbook_performance as compute

    first, last = span(start, end)
    with _runtime.session() as (session, actor):
        rows = compute(session, actor, filters_from(scope, csm, segment, plan, team), start=first, end=last)
    if for_scripts([vars(r) for r in rows], _PLAYBOOK_COLUMNS, fmt):
        return
    table = [
        {
            "playbook": r.key,
            "started": r.started,
            "completed": r.completed,
            "cancelled": r.cancelled,
            "active": r.active,
            "completion": pct(r.completion, 0),
            "success": pct(r.success, 0),
            "tasks done": f"{r.tasks_done}/{r.tasks}",
        }
        for r in rows
    ]
    emit_rows(table, columns_of(table, ["playbook", "started", "completed", "cancelled", "active"]), fmt)
    message(f"{sum(r.started for r in rows):,} runs started from {first} to {last}")


_PLAYBOOK_COLUMNS = [
    "key",
    "name",
    "started",
    "completed",
    "cancelled",
    "active",
    "completion",
    "success",
    "tasks",
    "tasks_done",
]


def journey_performance(
    journey: Annotated[
        str | None,
        typer.Option("--journey", help="Show this journey's step funnel instead.", metavar="KEY"),
    ] = None,
    start: FromOpt = None,
    end: ToOpt = None,
    scope: ScopeOpt = "all",
    csm: CsmOpt = None,
    segment: SegmentOpt = None,
    plan: PlanOpt = None,
    team: TeamOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Each journey's enrollments that began in the period: completed,
    exited, failed, active, and the success rate (of those ended, the share
    that met the journey's success criteria). With --journey, its step
    funnel: how many of them ran each step.

    Example: cs analytics journey-performance --journey onboarding
    """
    from cs_cli.services.metrics import performance

    first, last = span(start, end)
    filters = filters_from(scope, csm, segment, plan, team)
    with _runtime.session() as (session, actor):
        if journey:
            total, steps = performance.journey_funnel(
                session, actor, filters, journey=journey, start=first, end=last
            )
        else:
            rows = performance.journey_performance(session, actor, filters, start=first, end=last)
    if journey:
        data = [{"step": s.key, "name": s.name, "reached": s.reached, "share": s.share} for s in steps]
        if fmt != OutputFormat.TABLE:
            emit_rows(data, ["step", "name", "reached", "share"], fmt)
            return
        table = [
            {
                "step": d["step"],
                "reached": d["reached"],
                "share": pct(d["share"], 0),
                "": bar(d["reached"], total, 20),
            }
            for d in data
        ]
        emit_rows(table, columns_of(table, ["step", "reached", "share"]), fmt)
        message(f"{total:,} enrollments in {journey} began from {first} to {last}")
        return
    if for_scripts(
        [vars(r) for r in rows],
        ["key", "name", "enrolled", "completed", "exited", "failed", "active", "success"],
        fmt,
    ):
        return
    table = [
        {
            "journey": r.key,
            "enrolled": r.enrolled,
            "completed": r.completed,
            "exited": r.exited,
            "failed": r.failed,
            "active": r.active,
            "success": pct(r.success, 0),
        }
        for r in rows
    ]
    emit_rows(
        table, columns_of(table, ["journey", "enrolled", "completed", "exited", "failed", "active"]), fmt
    )
    message(f"{sum(r.enrolled for r in rows):,} enrollments began from {first} to {last}")


def csm_performance(
    start: FromOpt = None,
    end: ToOpt = None,
    scope: ScopeOpt = "all",
    csm: CsmOpt = None,
    segment: SegmentOpt = None,
    plan: PlanOpt = None,
    team: TeamOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Each CSM's load on the period's last day (active accounts, ARR, ARR
    at risk or critical) and output over the period (tasks completed, a
    week's worth, time spent, share of outcomes successful), and their
    overdue tasks.

    Example: cs analytics csm-performance --from 2026-09-01 --scope team
    """
    from cs_cli.services.metrics.performance import csm_performance as compute

    first, last = span(start, end)
    with _runtime.session() as (session, actor):
        rows = compute(session, actor, filters_from(scope, csm, segment, plan, team), start=first, end=last)
    if for_scripts(
        [vars(r) for r in rows],
        [
            "csm",
            "accounts",
            "arr",
            "at_risk_arr",
            "tasks_done",
            "tasks_a_week",
            "minutes_spent",
            "successful",
            "overdue",
        ],
        fmt,
    ):
        return
    table = [
        {
            "csm": r.csm,
            "accounts": r.accounts,
            "ARR": round(r.arr),
            "at risk": round(r.at_risk_arr),
            "done/wk": f"{r.tasks_a_week:.1f}",
            "hours": round(r.minutes_spent / 60),
            "success": pct(r.successful, 0),
            "overdue": r.overdue,
        }
        for r in rows
    ]
    emit_rows(table, columns_of(table, ["csm", "accounts"]), fmt)
    message(f"{len(rows)} CSMs, {first} to {last}")


def dashboard(
    as_of: AsOfOpt = None,
    scope: ScopeOpt = "all",
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """How the book is doing at a glance, as the board's dashboard shows it:
    customers and ARR by health, tasks due and overdue, journeys, open
    alerts, NPS, churn and time to value over 12 months, what renews within
    30, 60, 90 and 180 days, and the customers most at risk.

    Example: cs analytics dashboard --scope team
    """
    from cs_cli.cli._output import emit_object, stdout_console
    from cs_cli.services.analytics import dashboard as compute

    day = today(as_of)
    settings = _runtime.STATE.settings()
    with _runtime.session() as (session, actor):
        board = compute(session, actor, as_of=day, scope=scope, first_value_event=settings.first_value_event)
    m = board.metrics
    if fmt != OutputFormat.TABLE:
        from dataclasses import asdict

        emit_object(asdict(board), fmt)
        return
    console = stdout_console()
    arr = f", ARR {board.arr:,.0f}" if board.arr is not None else ""
    console.print(f"[bold]{board.customers:,} customers[/]{arr} ({scope}, {day})", highlight=False)
    most = max((s.customers for s in board.health), default=0)
    rows = [
        {
            "health": s.status.value.replace("_", " "),
            "customers": s.customers,
            "ARR": None if s.arr is None else round(float(s.arr)),
            "": bar(s.customers, most, 20),
        }
        for s in board.health
    ]
    rows.append(
        {"health": "not scored", "customers": board.unscored, "ARR": None, "": bar(board.unscored, most, 20)}
    )
    emit_rows(rows, list(rows[0]), fmt)
    alerts = ", ".join(f"{n} {kind}" for kind, n in board.open_alerts.items() if n) or "none"
    lines = [
        f"tasks: {board.tasks_due_today} due today, {board.tasks_due_week} this week,"
        f" {board.tasks_overdue} overdue",
        f"journeys: {board.active_enrollments} customers in {board.active_journeys} active journeys",
        f"open alerts: {alerts}",
        "NPS (12 months): "
        + ("n/a" if m.nps is None else f"{m.nps:+d} ({m.nps_responses} responses, mean {m.nps_average})"),
        "logo churn (12 months): "
        + ("n/a" if m.churn_rate is None else f"{pct(m.churn_rate)} ({m.churned_12m} of {m.active_12m_ago})"),
        "time to value: "
        + (
            "n/a"
            if m.time_to_value_days is None
            else f"{m.time_to_value_days:g} days (median of {m.time_to_value_customers})"
        ),
    ]
    lines += [
        f"renewals within {w.days} days: {w.customers} customers, ARR {w.arr:,.0f}"
        f" ({w.at_risk_arr:,.0f} at risk or critical)"
        for w in board.renewals
    ]
    for line in lines:
        console.print(line, markup=False, highlight=False)
    if board.at_risk:
        console.print("\n[bold]most at risk[/]", highlight=False)
        risky = [
            {
                "customer": c.external_id,
                "name": c.name,
                "score": c.overall_score,
                "30d": c.score_change_30d,
                "ARR": None if c.arr is None else round(float(c.arr)),
                "renewal": c.renewal_date,
            }
            for c in board.at_risk
        ]
        emit_rows(risky, list(risky[0]), fmt)
