"""`cs playbooks`: reviewed YAML procedures that turn signals into tasks."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Annotated

import typer

from cs_cli.cli import _runtime
from cs_cli.cli._options import AllOpt, AsOfOpt, DryRunOpt, FormatOpt, LimitOpt, OffsetOpt, now, today
from cs_cli.cli._output import (
    OutputFormat,
    cell,
    dataclass_rows,
    emit_object,
    emit_rows,
    message,
    paging_note,
    plain,
    rows_wanted,
)
from cs_cli.enums import PlaybookRunStatus

app = typer.Typer(
    help="Playbooks: reviewed YAML procedures that turn signals into tasks.", no_args_is_help=True
)

PathArg = Annotated[
    Path | None,
    typer.Argument(
        help="A playbook file, or a folder of them (default: CS_PLAYBOOKS, else the shipped playbooks/).",
        show_default=False,
    ),
]


def _folder(path: Path | None) -> Path:
    from cs_cli.services.playbooks.catalog import default_folder

    return path if path is not None else default_folder(_runtime.STATE.settings().playbooks)


def _read(path: Path | None):
    """The playbooks at `path`, every error printed, exit 2 if there is one."""
    from cs_cli.cli._catalog import read_specs
    from cs_cli.specs.playbook import load_folder

    folder = _folder(path)
    return folder, read_specs(folder, load_folder, "playbook")


@app.command()
def validate(path: PathArg = None) -> None:
    """Check playbook files without touching the database: the schema
    (unknown keys and wrong types are errors), unique step orders and names,
    and every template (it must parse, name only known fields and render in
    the sandbox). Prints each error as file:line:column: message (exit 2).

    Examples:

      cs playbooks validate

      cs playbooks validate playbooks/risk_response.yaml
    """
    _, files = _read(path)
    print(f"ok: {len(files)} playbook{'s' if len(files) != 1 else ''}")


@app.command()
def load(path: PathArg = None, dry_run: DryRunOpt = False, fmt: FormatOpt = OutputFormat.TABLE) -> None:
    """Sync playbook files into the database (admins): prints the plan (what
    is added, changed and deactivated, with a diff of each change) and applies
    it. Loading the same files again changes nothing; ids, runs and metrics
    are kept. Loading a folder deactivates playbooks that are no longer in it;
    loading one file touches only that playbook.

    Examples:

      cs playbooks load --dry-run

      cs playbooks load

      cs playbooks load my_playbooks/renewal_prep.yaml
    """
    from cs_cli.cli._catalog import print_plan
    from cs_cli.services.playbooks.catalog import plan, sync

    folder, files = _read(path)
    full = folder.is_dir()
    with _runtime.session() as (session, actor):
        if dry_run:
            changes = plan(session, files, full=full)
        else:
            changes = sync(session, actor, files, full=full, now=dt.datetime.now(dt.UTC))
    print_plan(
        changes,
        fmt,
        ["kind", "key", "name", "path", "diff"],
        noun="playbook",
        files=len(files),
        folder=folder,
        dry_run=dry_run,
    )


LIST_COLUMNS = [
    "key",
    "name",
    "category",
    "priority",
    "triggers",
    "steps",
    "estimated_hours",
    "cooldown_days",
    "active_runs",
    "times_triggered",
    "times_completed",
    "avg_completion_days",
    "success_rate",
    "is_active",
]
HEADERS = {
    "estimated_hours": "hours",
    "cooldown_days": "cooldown",
    "active_runs": "active",
    "times_triggered": "triggered",
    "times_completed": "completed",
    "avg_completion_days": "avg days",
    "success_rate": "success",
    "is_active": "on",
}


@app.command("list")
def list_(
    all_: Annotated[bool, typer.Option("--all", help="Include deactivated playbooks.")] = False,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """List playbooks with their triggers and what they have achieved: runs
    triggered and completed, average days to complete, success rate.

    Example: cs playbooks list --format json
    """
    from cs_cli.services.playbooks.views import list_playbooks

    with _runtime.session() as (session, actor):
        rows = list_playbooks(session, actor, include_inactive=all_)
    emit_rows(dataclass_rows(rows), LIST_COLUMNS, fmt, headers=HEADERS)
    if fmt == OutputFormat.TABLE and not rows:
        message("no playbooks yet: `cs playbooks load` loads the standard ones")


@app.command()
def show(
    key: Annotated[str, typer.Argument(help="The playbook's key (its file name), e.g. risk_response.")],
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Show a playbook: settings, triggers, metrics and every step with its
    timing, assignee role, agenda and talk track.

    Example: cs playbooks show risk_response
    """
    from cs_cli.services.playbooks.views import playbook_detail

    with _runtime.session() as (session, actor):
        detail = playbook_detail(session, actor, key)
    if fmt == OutputFormat.JSON:
        emit_object(plain(detail), fmt)
        return
    if fmt == OutputFormat.CSV:
        columns = [
            "order",
            "name",
            "step_type",
            "assignee_role",
            "days_from_start",
            "due_days",
            "recurring",
            "duration_weeks",
            "email_template",
            "required_artifacts",
        ]
        emit_rows(dataclass_rows(detail.steps), columns, fmt)
        return
    _render(detail)


def _render(detail) -> None:
    from rich.console import Group
    from rich.markup import escape
    from rich.panel import Panel
    from rich.table import Table

    from cs_cli.cli._output import stdout_console
    from cs_cli.services.playbooks.texts import describe_criteria

    p = detail.playbook
    head = Table.grid(padding=(0, 2))
    head.add_column(style="dim")
    head.add_column()
    if detail.description:
        head.add_row("about", escape(detail.description.strip()))
    head.add_row("category", f"{p.category.value}, priority {p.priority.value}")
    head.add_row("triggers", escape(p.triggers))
    if p.cooldown_days:
        head.add_row("cooldown", f"{p.cooldown_days} days after a run ends")
    if detail.success_criteria:
        head.add_row("success", describe_criteria(detail.success_criteria))
    head.add_row("effort", f"{cell(p.estimated_hours) or '?'} hours, {p.steps} steps")
    head.add_row("assign", "to the step's role" if detail.auto_assign else "left for a manager to assign")
    rate = "-" if p.success_rate is None else f"{p.success_rate:.0%}"
    days = "-" if p.avg_completion_days is None else f"{p.avg_completion_days:.1f}"
    head.add_row(
        "runs",
        f"{p.active_runs} active, {p.times_triggered} triggered, {p.times_completed} completed, "
        f"{days} days on average, success {rate}",
    )
    if not p.is_active:
        head.add_row("[bold]status[/]", "deactivated (no longer in the playbook files)")
    steps = Table(show_edge=False, header_style="bold", pad_edge=False, show_lines=True)
    for column in ("#", "step", "type", "who", "due", "what"):
        steps.add_column(column)
    for s in detail.steps:
        start = s.days_from_start or 0
        due = f"day {start + (s.due_days or 0)}"
        if s.recurring:
            due += f", {s.recurring} for {s.duration_weeks} weeks"
        what = []
        if s.description:
            what.append(escape(s.description.strip()))
        if s.meeting_agenda:
            what.append("[dim]agenda[/]\n" + escape(s.meeting_agenda.strip()))
        if s.talk_track:
            what.append("[dim]talk track[/]\n" + escape(s.talk_track.strip()))
        if s.email_template:
            what.append(f"[dim]email template[/] {escape(s.email_template)}")
        if s.required_artifacts:
            what.append("[dim]artifacts[/] " + escape(", ".join(s.required_artifacts)))
        if s.success_criteria:
            what.append("[dim]success[/] " + describe_criteria(s.success_criteria))
        steps.add_row(
            str(s.order), escape(s.name), s.step_type.value, s.assignee_role or "", due, "\n".join(what)
        )
    title = f"[bold]{escape(p.name)}[/] ({escape(p.key)})"
    stdout_console(max_width=140).print(Group(Panel(head, title=title, title_align="left"), steps))


RUN_COLUMNS = [
    "id",
    "playbook",
    "customer",
    "customer_name",
    "status",
    "triggered_by",
    "trigger_reason",
    "started_at",
    "completed_at",
    "baseline_health_score",
    "success",
    "tasks_open",
    "tasks_total",
]
RUN_HEADERS = {
    "customer_name": "name",
    "triggered_by": "by",
    "trigger_reason": "reason",
    "started_at": "started",
    "completed_at": "ended",
    "baseline_health_score": "baseline",
    "tasks_open": "open",
    "tasks_total": "tasks",
}


@app.command()
def runs(
    key: Annotated[str | None, typer.Argument(help="Only runs of this playbook (its key).")] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", "-c", help="Only this customer's runs (external id).")
    ] = None,
    status: Annotated[PlaybookRunStatus | None, typer.Option(help="Only runs with this status.")] = None,
    limit: LimitOpt = None,
    offset: OffsetOpt = 0,
    all_rows: AllOpt = False,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """List playbook runs of the customers you can see, newest first, with
    their open and total tasks and, once judged, their success.

    Examples:

      cs playbooks runs risk_response --status active

      cs playbooks runs --customer C-00107
    """
    from cs_cli.services.playbooks.views import list_runs

    with _runtime.session() as (session, actor):
        page = list_runs(
            session,
            actor,
            playbook=key,
            customer=customer,
            status=status,
            offset=offset,
            limit=rows_wanted(fmt, limit, all_rows),
        )
    emit_rows(dataclass_rows(page.rows), RUN_COLUMNS, fmt, headers=RUN_HEADERS)
    paging_note(fmt, offset=page.offset, shown=len(page.rows), total=page.total, noun="runs")


@app.command()
def trigger(
    key: Annotated[str, typer.Argument(help="The playbook's key, e.g. risk_response.")],
    customer: Annotated[str, typer.Argument(help="External id of the customer.")],
    reason: Annotated[str | None, typer.Option(help="Why you start it (kept with the run).")] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Start it even within the cooldown after the last run.")
    ] = False,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Start a playbook for one customer: a run and its tasks, dated from
    today, assigned by role and with agendas and talk tracks written for the
    customer. Refused (exit 2) while a run of it is active, or within its
    cooldown unless --force.

    Example:

      cs playbooks trigger risk_response C-00107 --reason "exec escalation"
    """
    from cs_cli.services.playbooks.trigger import trigger as start

    with _runtime.session() as (session, actor):
        started = start(
            session, actor, key, customer, reason=reason, force=force, as_of=today(as_of), now=now(as_of)
        )
    emit_rows(
        dataclass_rows(started.tasks),
        ["id", "title", "task_type", "due_date", "assignee", "assigned_to_role"],
        fmt,
        headers={"task_type": "type", "due_date": "due", "assigned_to_role": "role"},
    )
    run = started.run
    message(f"started run {run.id} of {run.playbook} for {run.customer}: {len(started.tasks)} tasks")


@app.command()
def evaluate(as_of: AsOfOpt = None, dry_run: DryRunOpt = False) -> None:
    """Fire the automatic triggers over the whole book (admins; cron runs
    this daily): health below a threshold, renewal within N days (once per
    renewal), entering a segment, a named domain event. Never two active runs
    of a playbook for one customer, and no new run within a playbook's
    cooldown. Also judges the success of completed runs still open.

    Examples:

      cs playbooks evaluate --dry-run

      cs playbooks evaluate --as-of 2026-11-01
    """
    from cs_cli.services.playbooks.evaluate import evaluate as run

    started = time.perf_counter()
    with _runtime.session() as (session, actor):
        result = run(session, actor, as_of=today(as_of), now=now(as_of))
        if dry_run:
            session.rollback()
    elapsed = time.perf_counter() - started
    total = sum(result.runs_started.values())
    per = ", ".join(f"{key} {n:,}" for key, n in sorted(result.runs_started.items()))
    verb = "would start" if dry_run else "started"
    made = "would create" if dry_run else "created"
    line = f"evaluated as of {result.as_of}: {verb} {total:,} run{'s' if total != 1 else ''}"
    line += f" ({per})" if per else ""
    line += f", {made} {result.tasks_created:,} tasks"
    if result.runs_judged:
        line += f"; judged {result.runs_judged:,} completed runs"
    message(f"{line} in {elapsed:.1f} s")


@app.command()
def cancel(
    run_id: Annotated[int, typer.Argument(help="The run's id (see `cs playbooks runs`).")],
    reason: Annotated[str | None, typer.Option(help="Why (kept in the audit log).")] = None,
) -> None:
    """Cancel an active playbook run and its open tasks.

    Example: cs playbooks cancel 42 --reason "customer asked to pause"
    """
    from cs_cli.services.tasks.run_cancel import cancel_run

    with _runtime.session() as (session, actor):
        cancelled = cancel_run(session, actor, run_id, now=dt.datetime.now(dt.UTC), reason=reason)
    message(f"cancelled run {run_id} and its {cancelled} open task{'s' if cancelled != 1 else ''}")
