"""`cs journeys`: automated, branching programs customers are enrolled in."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from cs_cli.cli import _runtime
from cs_cli.cli._options import DryRunOpt, FormatOpt
from cs_cli.cli._output import OutputFormat, dataclass_rows, emit_object, emit_rows, message, plain

app = typer.Typer(
    help="Journeys: automated, branching programs of emails, tasks, waits and checks.", no_args_is_help=True
)

PathArg = Annotated[
    Path | None,
    typer.Argument(
        help="A journey file, or a folder of them (default: the shipped journeys/). Email templates "
        "of your own go in templates/emails/ beside the files.",
        show_default=False,
    ),
]


def _read(path: Path | None):
    """The journeys at `path`, every error printed, exit 2 if there is one."""
    from cs_cli.cli._catalog import read_specs
    from cs_cli.services.journeys.catalog import default_folder
    from cs_cli.specs.journey_file import load_folder

    folder = path if path is not None else default_folder()
    return folder, read_specs(folder, load_folder, "journey")


@app.command()
def validate(path: PathArg = None) -> None:
    """Check journey files without touching the database: the schema (unknown
    keys, step types and wrong types are errors), the flow (every next, then,
    else and branch names a step of the file, every step can be reached, no
    loop without a wait), the rules, and every template (it must exist, read
    only known fields and render in the sandbox). Prints each error as
    file:line:column: message (exit 2).

    Examples:

      cs journeys validate

      cs journeys validate my_journeys/onboarding.yaml
    """
    _, files = _read(path)
    print(f"ok: {len(files)} journey{'s' if len(files) != 1 else ''}")


@app.command()
def load(path: PathArg = None, dry_run: DryRunOpt = False, fmt: FormatOpt = OutputFormat.TABLE) -> None:
    """Sync journey files into the database (admins): prints the plan (what
    is added, changed and deactivated, with a diff of each change) and
    applies it. Segments, playbooks and journeys the files name must exist.
    A changed journey gets a new version: running enrollments go on with the
    version they started on, new ones start on the new version. Loading the
    same files again changes nothing. Loading a folder deactivates journeys
    no longer in it (they enroll no one new); loading one file touches only
    that journey.

    Examples:

      cs journeys load --dry-run

      cs journeys load

      cs journeys load my_journeys/onboarding.yaml
    """
    from cs_cli.cli._catalog import print_plan
    from cs_cli.services.journeys.catalog import plan, sync

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
        ["kind", "key", "name", "version", "path", "diff"],
        noun="journey",
        files=len(files),
        folder=folder,
        dry_run=dry_run,
        label=lambda c: c.name if c.kind == "deactivated" else f"{c.name}, version {c.version}",
    )


LIST_COLUMNS = [
    "key",
    "name",
    "journey_type",
    "trigger",
    "version",
    "steps",
    "duration_days",
    "active_enrollments",
    "total_enrolled",
    "total_completed",
    "success_rate",
    "avg_completion_days",
    "is_active",
]
HEADERS = {
    "journey_type": "type",
    "duration_days": "days",
    "active_enrollments": "active",
    "total_enrolled": "enrolled",
    "total_completed": "completed",
    "success_rate": "success",
    "avg_completion_days": "avg days",
    "is_active": "on",
}


@app.command("list")
def list_(
    all_: Annotated[bool, typer.Option("--all", help="Include deactivated journeys.")] = False,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """List journeys with their triggers and what they have achieved:
    active enrollments (among the customers you can see), customers enrolled
    and completed in all, success rate and average days to complete.

    Example: cs journeys list --format json
    """
    from cs_cli.services.journeys.views import list_journeys

    with _runtime.session() as (session, actor):
        rows = list_journeys(session, actor, include_inactive=all_)
    emit_rows(dataclass_rows(rows), LIST_COLUMNS, fmt, headers=HEADERS)
    if fmt == OutputFormat.TABLE and not rows:
        message("no journeys yet: `cs journeys load` loads the standard ones")


@app.command()
def show(
    key: Annotated[str, typer.Argument(help="The journey's key (its file name), e.g. onboarding.")],
    metrics: Annotated[
        bool,
        typer.Option(
            "--metrics", help="Add the funnel: enrollments that reached each step, and those on it now."
        ),
    ] = False,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Show a journey: its trigger, goal and exit criteria, and its flow as a
    tree (branches labelled yes/no, task outcomes, timeouts and split
    shares; a step reached again is drawn once and pointed back to).

    Examples:

      cs journeys show onboarding

      cs journeys show onboarding --metrics
    """
    from cs_cli.services.journeys.views import journey_detail

    with _runtime.session() as (session, actor):
        detail = journey_detail(session, actor, key, metrics=metrics)
    if fmt == OutputFormat.JSON:
        emit_object(plain(detail), fmt)
        return
    if fmt == OutputFormat.CSV:
        columns = ["order", "key", "name", "step_type", "summary", "branches"]
        if metrics:
            columns += ["reached", "current"]
        rows = [
            {**row, "branches": " ".join(f"{label}={target}" for label, target in row["branches"])}
            for row in dataclass_rows(detail.steps)
        ]
        emit_rows(rows, columns, fmt)
        return
    _render(detail, metrics)


def _render(detail, metrics: bool) -> None:
    from rich.console import Group
    from rich.markup import escape
    from rich.panel import Panel
    from rich.table import Table

    from cs_cli.cli._output import stdout_console
    from cs_cli.services.journeys.views import criteria_in_words

    j = detail.journey
    head = Table.grid(padding=(0, 2))
    head.add_column(style="dim")
    head.add_column()
    if detail.description:
        head.add_row("about", escape(detail.description.strip()))
    head.add_row("type", j.journey_type.value)
    head.add_row("trigger", escape(j.trigger))
    enrolling = "again after an enrollment ends" if detail.allow_re_enrollment else "once per customer"
    if detail.max_concurrent_enrollments:
        enrolling += f"; at most {detail.max_concurrent_enrollments:,} active at once"
    head.add_row("enrolls", enrolling)
    if j.duration_days:
        head.add_row("duration", f"{j.duration_days} days expected")
    head.add_row("goal", escape(criteria_in_words(detail.goal)))
    if detail.exit_when:
        head.add_row("exits when", escape(criteria_in_words(detail.exit_when)))
    rate = "-" if j.success_rate is None else f"{j.success_rate:.0%}"
    days = "-" if j.avg_completion_days is None else f"{j.avg_completion_days:.1f}"
    head.add_row(
        "enrollments",
        f"{j.active_enrollments} active, {j.total_enrolled} enrolled, {j.total_completed} completed, "
        f"success {rate}, {days} days on average",
    )
    if not j.is_active:
        head.add_row("[bold]status[/]", "deactivated (no longer in the journey files): enrolls no one new")
    title = f"[bold]{escape(j.name)}[/] ({escape(j.key)}, version {j.version})"
    parts = [Panel(head, title=title, title_align="left"), flow_tree(detail, metrics)]
    stdout_console(max_width=160).print(Group(*parts))


# How a branch's label reads in the tree.
_LABELS = {"yes": "[green]yes[/]", "no": "[red]no[/]", "timeout": "[yellow]timeout[/]"}
# What `next` means on a step that also branches.
_OTHERWISE = {"wait": "event seen", "human_touchpoint": "logged", "task": "other outcomes"}


def flow_tree(detail, metrics: bool):
    """The journey's flow from its first step: a chain of steps reads down,
    each branch nests under the step that branches, labelled (yes, no, an
    outcome, timeout, a split's share); a step reached again is drawn once
    and pointed back to."""
    from rich.markup import escape
    from rich.tree import Tree

    steps = {s.key: s for s in detail.steps}
    total = detail.enrollments or 0
    drawn: set[str] = set()
    root = Tree("[bold]start[/]" + (f" [dim]{total} enrolled[/]" if metrics else ""))

    def line(step) -> str:
        text = f"[bold]{escape(step.key)}[/]  {escape(step.summary)}"
        if metrics:
            share = f" ({step.reached / total:.0%})" if total else ""
            now = f", {step.current} here now" if step.current else ""
            text += f"  [cyan]reached {step.reached}{share}{now}[/]"
        return text

    def branch(parent, label: str, key: str) -> None:
        if key in drawn:
            parent.add(f"{_label(label)} [dim]-> {escape(key)} (drawn above)[/]")
        else:
            chain(parent.add(_label(label)), key)

    def chain(parent, key: str | None) -> None:
        while key is not None:
            step = steps[key]
            if key in drawn:
                parent.add(f"[dim]-> {escape(key)} (drawn above)[/]")
                return
            drawn.add(key)
            node = parent.add(line(step))
            others = [(name, target) for name, target in step.branches if name != "next"]
            follow = next((target for name, target in step.branches if name == "next"), None)
            if others:
                for name, target in others:
                    branch(node, name, target)
                if follow is not None:
                    branch(node, _OTHERWISE.get(step.step_type, "otherwise"), follow)
                return
            if follow is None and step.step_type != "exit":
                parent.add("[dim]end (the goal decides success)[/]")
            key = follow

    if detail.steps:
        chain(root, detail.steps[0].key)
    return root


def _label(label: str) -> str:
    return _LABELS.get(label, f"[magenta]{label}[/]")
