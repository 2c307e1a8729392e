"""`cs automation`: the event triggers (a YAML rules file) applied to the
domain event log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cs_cli.cli import _runtime
from cs_cli.cli._options import AsOfOpt, FormatOpt, now, today
from cs_cli.cli._output import OutputFormat, emit_rows, message

app = typer.Typer(
    help="""Event triggers: rules that act on the domain event log (alert,
playbook, task, email the CSM).

The rules come from a YAML file: the one shipped, or your own named by the
automation_rules setting (CS_AUTOMATION_RULES). See docs/automation.md.

In a day's work:

  cs automation rules          what each rule does, when it last fired
  cs automation validate FILE  check a rules file
  cs automation run            act on the events not acted on yet (cron)""",
    no_args_is_help=True,
)

PathOpt = Annotated[
    Path | None,
    typer.Option(
        "--rules",
        help="Rules file (default: the automation_rules setting, else the one shipped).",
        envvar="CS_AUTOMATION_RULES",
        show_default=False,
        metavar="FILE",
    ),
]


def _rules(path: Path | None):
    from cs_cli.services.automation.config import configured_rules

    return configured_rules(str(path) if path else _runtime.STATE.settings().automation_rules)


@app.command()
def rules(path: PathOpt = None, fmt: FormatOpt = OutputFormat.TABLE) -> None:
    """List the rules: the events each reacts to, its condition, its actions,
    and when it last fired (from its cursor: the last event read, how many it
    acted on). The triggers that the journey engine and `cs recalc` handle
    are listed too, marked with who handles them."""
    from cs_cli.cli._output import dataclass_rows
    from cs_cli.services.automation.config import list_rules

    loaded = _rules(path)
    with _runtime.session() as (session, actor):
        views = list_rules(session, actor, loaded)
    rows = []
    for row in dataclass_rows(views):
        if fmt == OutputFormat.TABLE:
            row["events"] = ", ".join(row["events"])
            row["actions"] = "; ".join(row["actions"])
        rows.append(row)
    emit_rows(
        rows,
        [
            "name",
            "events",
            "condition",
            "actions",
            "handled_by",
            "enabled",
            "position",
            "acted_count",
            "last_acted_at",
        ],
        fmt,
        headers={"position": "read up to", "acted_count": "acted on", "last_acted_at": "last fired"},
    )
    if fmt == OutputFormat.TABLE:
        message(f"rules from {loaded.path}")


@app.command()
def validate(
    path: Annotated[Path | None, typer.Argument(help="Rules file (default: the configured one).")] = None,
) -> None:
    """Check a rules file: its keys and values, and (with a database) that
    the playbooks it names exist. Errors name file:line:column; exit 2.

    Example: cs automation validate ./automation.yaml
    """
    from cs_cli.services.automation.config import check_rules

    loaded = _rules(path)
    with _runtime.session() as (session, _):
        check_rules(session, loaded)
    count = len(loaded.spec.rules)
    message(f"ok: {count} rule{'s' if count != 1 else ''} in {loaded.path}")


@app.command()
def run(as_of: AsOfOpt = None, path: PathOpt = None, fmt: FormatOpt = OutputFormat.TABLE) -> None:
    """Act on every event the rules have not acted on yet (admins; cron runs
    it every few minutes). First the daily renewal scan records
    customer.renewal_within for renewals coming within the window (once per
    renewal date); then each rule reads its events from its cursor up to the
    newest committed event, acts, and moves its cursor. Running it again acts
    on nothing twice.

    Example: cs automation run --as-of 2026-03-01
    """
    from cs_cli.services.automation.run import run_automation, scan_renewals

    loaded = _rules(path)
    # Two transactions, as run_job does: the scan's events are committed
    # before the rules read up to the event horizon, so they act on them now.
    with _runtime.session() as (session, actor):
        found = scan_renewals(
            session, actor, days=loaded.spec.renewal_within_days, as_of=today(as_of), now=now(as_of)
        )
    with _runtime.session() as (session, actor):
        result = run_automation(session, actor, loaded, as_of=today(as_of), now=now(as_of))
    rows = [
        {
            "rule": o.rule,
            "events": o.events,
            "acted": o.acted,
            "alerts": o.alerts,
            "runs": o.runs,
            "tasks": o.tasks,
            "messages": o.messages,
        }
        for o in result.rules
    ]
    if fmt != OutputFormat.TABLE:
        emit_rows(rows, list(rows[0]) if rows else ["rule"], fmt)
        return
    acted = sum(o.acted for o in result.rules)
    if acted:
        emit_rows(rows, ["rule", "events", "acted", "alerts", "runs", "tasks", "messages"], fmt)
    message(
        f"automation: {acted:,} event{'s' if acted != 1 else ''} acted on, up to event {result.horizon:,}; "
        f"{found:,} renewal{'s' if found != 1 else ''} within "
        f"{loaded.spec.renewal_within_days} days recorded"
    )
