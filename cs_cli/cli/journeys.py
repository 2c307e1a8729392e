"""`cs journeys`: automated, branching programs customers are enrolled in."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from cs_cli.cli import _runtime
from cs_cli.cli._options import AllOpt, DryRunOpt, FormatOpt, LimitOpt, OffsetOpt
from cs_cli.cli._output import (
    OutputFormat,
    dataclass_rows,
    emit_object,
    emit_rows,
    message,
    paging_note,
    plain,
    rows_wanted,
)

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


def _moment(text: str) -> dt.datetime:
    from cs_cli.cli.outbox import parse_moment

    return parse_moment(text)


AsOfTimeOpt = Annotated[
    dt.datetime | None,
    typer.Option(
        "--as-of",
        parser=_moment,
        metavar="TIME",
        help="Act as if it were this time (YYYY-MM-DDTHH:MM UTC, or a date: its end); for replays and tests.",
        show_default="now",
    ),
]


def enroll(
    journey: Annotated[str, typer.Argument(help="The journey's key, e.g. onboarding (`cs journeys list`).")],
    customers: Annotated[
        list[str] | None, typer.Argument(help="Customers' external ids.", show_default=False)
    ] = None,
    segment: Annotated[
        str | None,
        typer.Option("--segment", "-s", help="Enroll the segment's members instead.", metavar="NAME"),
    ] = None,
    as_of: AsOfTimeOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Enroll customers in a journey by hand. Each starts at the journey's
    first step on the next `cs journeys tick` (cron runs it every five
    minutes). A customer already in the journey, or one that was in it
    before when the journey does not allow re-enrollment, is left out and
    reported. If the journey's max_concurrent_enrollments cannot take them
    all, nobody is enrolled (exit 2).

    Examples:

      cs enroll onboarding C-00017 C-00018

      cs enroll adoption --segment "Low adoption"
    """
    from cs_cli.errors import BadInput
    from cs_cli.services.journeys.enroll import enroll as enroll_customers

    if customers and segment:
        raise BadInput("name customers or --segment, not both")
    now = as_of or dt.datetime.now(dt.UTC)
    with _runtime.session() as (session, actor):
        result = enroll_customers(session, actor, journey, customers=customers, segment=segment, now=now)
    if fmt != OutputFormat.TABLE:
        emit_object(plain(result), fmt) if fmt == OutputFormat.JSON else emit_rows(
            [{"customer": c, "result": "enrolled"} for c in result.enrolled]
            + [{"customer": c, "result": "already active"} for c in result.already_active]
            + [{"customer": c, "result": "enrolled before"} for c in result.enrolled_before],
            ["customer", "result"],
            fmt,
        )
        return
    n = len(result.enrolled)
    message(
        f"enrolled {n} customer{'s' if n != 1 else ''} in {journey}"
        + (": " + ", ".join(result.enrolled[:10]) if n else "")
    )
    if n > 10:
        message(f"  ... and {n - 10} more")
    if result.already_active:
        message(f"already in it: {', '.join(result.already_active[:10])}")
    if result.enrolled_before:
        names = ", ".join(result.enrolled_before[:10])
        message(f"enrolled before (the journey does not allow re-enrollment): {names}")
    if result.churned:
        message(f"note: churned, enrolled anyway: {', '.join(result.churned[:10])}")
    if n:
        message("they start at the next tick: `cs journeys tick` (cron runs it every five minutes)")


@app.command()
def tick(
    as_of: AsOfTimeOpt = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit", "-n", min=1, help="Advance at most this many enrollments.", show_default="all due"
        ),
    ] = None,
    journey: Annotated[
        str | None, typer.Option("--journey", "-j", help="Only this journey's enrollments.", metavar="KEY")
    ] = None,
    batch: Annotated[
        int, typer.Option(min=1, max=10_000, help="Enrollments advanced and committed together.")
    ] = 500,
    deliver: Annotated[
        bool,
        typer.Option("--deliver/--no-deliver", help="Deliver the outbox afterwards (`cs outbox deliver`)."),
    ] = True,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Advance every journey enrollment that is due (admins; cron runs it
    every five minutes): enroll whom the triggers name (events, segment
    entries, schedules), wake enrollments whose task, event or touchpoint
    came, check goals and exit criteria, then run each enrollment's steps
    until it waits or ends. Each step runs once per visit, in the same
    transaction as its effect, so a crash or a second tick at the same time
    never repeats or loses one (on PostgreSQL several ticks share the work).
    Then delivers the outbox, unless --no-deliver. Prints one line.

    Examples:

      cs journeys tick

      cs journeys tick --as-of 2026-12-01T09:00 --no-deliver
    """
    from cs_cli.cli._output import progress_bar
    from cs_cli.db.engine import transaction
    from cs_cli.domain import Role
    from cs_cli.services.access import require_role
    from cs_cli.services.journeys.engine import tick as run_tick

    settings = _runtime.STATE.settings()
    engine = _runtime.engine()
    now = as_of or dt.datetime.now(dt.UTC)
    try:
        with transaction(engine) as session:
            actor = _runtime.resolve(session)
            require_role(actor, Role.ADMIN, doing="ticking journeys")
            due = _due_count(session, now)
        with progress_bar(due) as advance:
            result = run_tick(
                engine,
                actor,
                now=now,
                limit=limit,
                batch_size=batch,
                journey=journey,
                scorecard=Path(settings.scorecard) if settings.scorecard else None,
                progress=advance,
            )
        report = None
        if deliver:
            from cs_cli.cli.outbox import deliver_with_settings

            report = deliver_with_settings(engine, settings, as_of=as_of)
    finally:
        engine.dispose()
    if fmt != OutputFormat.TABLE:
        data = plain(result)
        if report is not None:
            data["delivered"] = {
                "sent": report.sent,
                "failed": report.failed,
                "held": report.held,
                "dead": report.dead,
            }
        emit_object(data, fmt)
        return
    line = (
        f"advanced {result.advanced} enrollments ({result.steps} steps): {result.completed} completed, "
        f"{result.exited} exited, {result.failed} failed; {result.enrolled} enrolled by triggers, "
        f"{result.woken} woken; {result.messages} messages queued"
    )
    if report is not None:
        line += f"; sent {report.sent}, failed {report.failed}, held {report.held}, dead {report.dead}"
    message(line)


def _due_count(session, now: dt.datetime) -> int:
    import sqlalchemy as sa

    from cs_cli.db.models import JourneyEnrollment
    from cs_cli.domain import EnrollmentStatus

    return (
        session.scalar(
            sa.select(sa.func.count()).where(
                JourneyEnrollment.status == EnrollmentStatus.ACTIVE, JourneyEnrollment.next_run_at <= now
            )
        )
        or 0
    )


ENROLLMENT_COLUMNS = [
    "id",
    "customer",
    "status",
    "step",
    "progress",
    "enrolled_at",
    "next_run_at",
    "exit_reason",
]
ALL_ENROLLMENT_COLUMNS = [
    "id",
    "customer",
    "customer_name",
    "version",
    "status",
    "step",
    "progress",
    "enrolled_at",
    "step_entered_at",
    "next_run_at",
    "completed_at",
    "success",
    "exit_reason",
    "split",
    "steps_done",
]


@app.command()
def enrollments(
    key: Annotated[str, typer.Argument(help="The journey's key, e.g. onboarding.")],
    status: Annotated[
        str | None, typer.Option(help="Only this status: active, completed, exited or failed.")
    ] = None,
    customer: Annotated[
        str | None, typer.Option(help="Only this customer (external id).", metavar="ID")
    ] = None,
    limit: LimitOpt = None,
    offset: OffsetOpt = 0,
    all_rows: AllOpt = False,
    as_of: AsOfTimeOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """List a journey's enrollments (among the customers you can see), newest
    first: where each stands and its progress against the journey's
    expected duration (on track, behind, stuck: see docs/journeys.md), how
    ended ones ended, and the A/B branch each drew.

    Examples:

      cs journeys enrollments onboarding

      cs journeys enrollments renewal --status active --format csv
    """
    from cs_cli.domain import EnrollmentStatus
    from cs_cli.errors import BadInput
    from cs_cli.services.journeys.enrollments import list_enrollments

    try:
        wanted = EnrollmentStatus(status) if status else None
    except ValueError:
        raise BadInput(f"--status: '{status}' is not one of active, completed, exited, failed") from None
    now = as_of or dt.datetime.now(dt.UTC)
    with _runtime.session() as (session, actor):
        rows, total = list_enrollments(
            session,
            actor,
            key,
            status=wanted,
            customer=customer,
            limit=rows_wanted(fmt, limit, all_rows),
            offset=offset,
            now=now,
        )
    columns = ENROLLMENT_COLUMNS if fmt == OutputFormat.TABLE else ALL_ENROLLMENT_COLUMNS
    emit_rows(dataclass_rows(rows), columns, fmt)
    if fmt == OutputFormat.TABLE and not total:
        message(
            f"no enrollments in {key}" + (" with that status" if status else "") + ": `cs enroll` adds some"
        )
    else:
        paging_note(fmt, offset=offset, shown=len(rows), total=total, noun="enrollments")


@app.command("exit")
def exit_(
    enrollment: Annotated[int, typer.Argument(help="The enrollment's id (`cs journeys enrollments`).")],
    reason: Annotated[str | None, typer.Option(help="Why; kept as the exit reason.")] = None,
) -> None:
    """End an enrollment by hand: it exits without success, does no more
    steps, and its tasks stay as they are.

    Example: cs journeys exit 412 --reason "customer asked to stop the emails"
    """
    from cs_cli.services.journeys.engine import exit_enrollment

    with _runtime.session() as (session, actor):
        key = exit_enrollment(session, actor, enrollment, reason=reason, now=dt.datetime.now(dt.UTC))
    message(f"enrollment {enrollment} in {key} exited")


@app.command()
def simulate(
    key: Annotated[str, typer.Argument(help="The journey's key, e.g. onboarding.")],
    customer: Annotated[str, typer.Argument(help="The customer's external id.")],
    as_of: AsOfTimeOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Dry run: print the way this customer would take through the journey
    from today, step by step with the day each runs, and render each email,
    touching nothing. Waits pass with nothing happening (no task done, no
    event, no touchpoint), so task and event branches show their timeout
    path; conditions and goals read today's data.

    Example: cs journeys simulate onboarding C-00017
    """
    from rich.markup import escape

    from cs_cli.cli._output import stdout_console
    from cs_cli.services.journeys.enrollments import simulate as run_simulation

    now = as_of or dt.datetime.now(dt.UTC)
    settings = _runtime.STATE.settings()
    # The scorecard the tick's health checks use, so the way shown is the way taken.
    scorecard = Path(settings.scorecard) if settings.scorecard else None
    with _runtime.session() as (session, actor):
        result = run_simulation(session, actor, key, customer, now=now, scorecard=scorecard)
        session.rollback()
    if fmt != OutputFormat.TABLE:
        emit_object(plain(result), fmt)
        return
    console = stdout_console(max_width=160)
    console.print(
        f"[bold]{escape(customer)}[/] in [bold]{escape(key)}[/], from {now:%Y-%m-%d} (nothing is kept)"
    )
    for s in result.steps:
        detail = s.detail or {}
        extra = ""
        if "subject" in detail:
            extra = f" to {escape(str(detail.get('to')))}: {escape(str(detail['subject']))}"
        elif "reason" in detail:
            extra = f" ({escape(str(detail['reason']))})"
        elif "branch" in detail:
            extra = f" (branch {escape(str(detail['branch']))})"
        what = f"[bold]{escape(s.step)}[/] [dim]{s.step_type}[/] -> {escape(s.outcome)}"
        console.print(f"  {s.at:%Y-%m-%d}  {what}{extra}")
        if "text" in detail:
            for text_line in str(detail["text"]).rstrip().splitlines():
                console.print(f"      [dim]|[/] {escape(text_line)}")
    console.print(f"ends: {escape(result.ends)}")
