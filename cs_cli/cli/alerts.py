"""`cs alerts`: risk alerts raised about customers; check, list, show,
acknowledge, resolve."""

from __future__ import annotations

from typing import Annotated

import typer

from cs_cli.cli import _runtime
from cs_cli.cli._options import AllOpt, AsOfOpt, FormatOpt, LimitOpt, OffsetOpt, now, today
from cs_cli.cli._output import (
    OutputFormat,
    cell,
    dataclass_rows,
    emit_object,
    emit_rows,
    message,
    paging_note,
    rows_wanted,
)
from cs_cli.enums import AlertSeverity, AlertStatus

app = typer.Typer(
    help="""Risk alerts: health drops, churn jumps, usage declines, open
escalations and renewals at risk. `cs alerts check` raises them (cron, hourly;
never a second alert for a condition still open) and emails each CSM as they
chose (`cs users set-notify`); CSMs see their own customers' alerts, managers
their team's. See docs/alerts.md.""",
    no_args_is_help=True,
)

# The table's columns, most important first: at 80 columns the last ones give way.
LIST_COLUMNS = ["id", "severity", "customer", "title", "raised_at", "status", "alert_type", "health_score"]
ALL_COLUMNS = [
    "id",
    "customer",
    "customer_name",
    "alert_type",
    "severity",
    "status",
    "title",
    "reason",
    "raised_at",
    "acknowledged_at",
    "acknowledged_by",
    "resolved_at",
    "resolved_by",
    "health_score",
    "health_status",
]
IdsArg = Annotated[list[int], typer.Argument(help="Alert ids (see `cs alerts list`).", metavar="ID...")]


@app.command()
def check(
    as_of: AsOfOpt = None,
    path: Annotated[
        str | None,
        typer.Option(
            "--rules",
            help="Rules file whose `alerts:` thresholds apply (default: the automation_rules setting).",
            envvar="CS_AUTOMATION_RULES",
            show_default=False,
            metavar="FILE",
        ),
    ] = None,
) -> None:
    """Raise the risk alerts the conditions call for over the whole book
    (admins; cron runs it hourly): health drop, churn probability jump, usage
    decline, open escalation, renewal at risk. A customer with an alert of a
    type still open (open or acknowledged) gets no second one. Alerts whose
    condition has cleared (health back, ticket closed, usage recovered,
    renewal signed) are resolved first, with the reason in their history. New alerts are
    emailed to CSMs who want them at once; CSMs on a daily digest get one
    email listing the day before's alerts.

    Example: cs alerts check --as-of 2026-03-01
    """
    from cs_cli.services.alert_checks import check_alerts
    from cs_cli.services.automation.config import configured_rules

    loaded = configured_rules(path or _runtime.STATE.settings().automation_rules)
    with _runtime.session() as (session, actor):
        result = check_alerts(
            session, actor, as_of=today(as_of), now=now(as_of), thresholds=loaded.spec.alerts
        )
    total = sum(result.raised.values())
    kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(result.raised.items()))
    cleared = sum(result.resolved.values())
    cleared_kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(result.resolved.items()))
    message(
        f"checked as of {result.as_of}: raised {total:,} alert{'s' if total != 1 else ''}"
        + (f" ({kinds})" if kinds else "")
        + (f"; resolved {cleared:,} whose condition cleared ({cleared_kinds})" if cleared else "")
        + f"; {result.notified:,} email{'s' if result.notified != 1 else ''}, "
        f"{result.digests:,} digest{'s' if result.digests != 1 else ''} queued"
    )


@app.command("list")
def list_(
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status",
            help="open, acknowledged, resolved, unresolved (open and acknowledged: the default) "
            "or all; repeat for several.",
            metavar="STATUS",
        ),
    ] = None,
    severity: Annotated[
        list[AlertSeverity] | None,
        typer.Option("--severity", help="Only these severities; repeat for several."),
    ] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", "-c", help="Only this customer's alerts.", metavar="ID")
    ] = None,
    scope: Annotated[str, typer.Option(help="mine, team or all (what you may see).")] = "all",
    limit: LimitOpt = None,
    offset: OffsetOpt = 0,
    all_rows: AllOpt = False,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """List the alerts of the customers you can see, newest first.

    Examples:

      cs alerts list --severity critical

      cs alerts list --status all --customer C-00107 --format json
    """
    from cs_cli.errors import BadInput
    from cs_cli.services.alerts import UNRESOLVED, list_alerts

    statuses: set[AlertStatus] = set()
    for word in status or ["unresolved"]:
        if word == "unresolved":
            statuses.update(UNRESOLVED)
        elif word == "all":
            statuses.update(AlertStatus)
        elif word in {s.value for s in AlertStatus}:
            statuses.add(AlertStatus(word))
        else:
            raise BadInput(f"--status {word!r}: use open, acknowledged, resolved, unresolved or all")
    with _runtime.session() as (session, actor):
        page = list_alerts(
            session,
            actor,
            as_of=today(None),
            statuses=sorted(statuses),
            severities=severity or (),
            customer=customer,
            scope=scope,
            offset=offset,
            limit=rows_wanted(fmt, limit, all_rows, page=100),
        )
    emit_rows(
        dataclass_rows(page.rows),
        LIST_COLUMNS if fmt == OutputFormat.TABLE else ALL_COLUMNS,
        fmt,
        headers={"alert_type": "type", "health_score": "health", "raised_at": "raised"},
    )
    paging_note(fmt, offset=page.offset, shown=len(page.rows), total=page.total, noun="alerts")


@app.command()
def show(
    alert_id: Annotated[int, typer.Argument(help="Alert id.", metavar="ID")],
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Show one alert: its reason and details, and its history (raised,
    acknowledged by whom and when, resolved by whom, when and with what note)."""
    from cs_cli.services.alerts import alert_detail

    with _runtime.session() as (session, actor):
        detail = alert_detail(session, actor, alert_id, as_of=today(None))
    a = detail.alert
    if fmt != OutputFormat.TABLE:
        obj = {c: getattr(a, c) for c in ALL_COLUMNS}
        obj["details"] = detail.details
        obj["history"] = [{"at": h.at, "what": h.what, "by": h.by, "note": h.note} for h in detail.history]
        emit_object(obj, fmt)
        return
    from rich.markup import escape

    from cs_cli.cli._output import stdout_console

    console = stdout_console()
    console.print(f"[bold]Alert {a.id}[/] {escape(f'[{a.severity.value}] {a.title}')}", highlight=False)
    plain_lines = [f"{a.customer_name} ({a.customer}), type {a.alert_type}, {a.status.value}"]
    if a.health_score is not None:
        plain_lines.append(f"health now: {a.health_score} ({cell(a.health_status)})")
    if a.reason:
        plain_lines += ["", a.reason]
    for line in plain_lines:
        console.print(line, markup=False, highlight=False)
    console.print("\n[bold]history[/]")
    for h in detail.history:
        who = f" by {h.by}" if h.by else ""
        note = f": {h.note}" if h.note and h.what != "raised" else ""
        console.print(f"  {cell(h.at)}  {h.what}{who}{note}", markup=False, highlight=False)


@app.command()
def ack(alert_ids: IdsArg, as_of: AsOfOpt = None) -> None:
    """Acknowledge alerts: you have seen them and are on it. Already
    acknowledged alerts stay as they were; resolved ones are refused (exit 2).

    Example: cs alerts ack 12 15
    """
    from cs_cli.services.alerts import acknowledge_alert

    with _runtime.session() as (session, actor):
        for alert_id in alert_ids:
            acknowledge_alert(session, actor, alert_id, now=now(as_of))
    message(f"acknowledged {len(alert_ids)} alert{'s' if len(alert_ids) != 1 else ''}")


@app.command()
def resolve(
    alert_ids: IdsArg,
    note: Annotated[str | None, typer.Option(help="What was done about it (kept in the history).")] = None,
    as_of: AsOfOpt = None,
) -> None:
    """Resolve alerts: the condition is dealt with. When it comes back, the
    next `cs alerts check` raises a new alert for it.

    Example: cs alerts resolve 12 --note "exec call held, plan agreed"
    """
    from cs_cli.services.alerts import resolve_alert

    with _runtime.session() as (session, actor):
        for alert_id in alert_ids:
            resolve_alert(session, actor, alert_id, note=note, now=now(as_of))
    message(f"resolved {len(alert_ids)} alert{'s' if len(alert_ids) != 1 else ''}")
