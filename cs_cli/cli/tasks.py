"""`cs tasks`: list, create and work CS tasks; every change by ID or over a filter."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cs_cli.cli import (
    _runtime,
    task_changes,
)
from cs_cli.cli._options import (
    AllOpt,
    AsOfOpt,
    ColumnsOpt,
    FormatOpt,
    LimitOpt,
    OffsetOpt,
    now,
    pick_columns,
    today,
)
from cs_cli.cli._output import (
    OutputFormat,
    cell,
    emit_object,
    message,
    paging_note,
    plain,
    rows_wanted,
    text_cell,
    write_file,
)
from cs_cli.cli.task_options import (
    CSV_COLUMNS,
    LIST_COLUMNS,
    AssigneeOpt,
    CustomerOpt,
    DueOpt,
    MineOpt,
    PlaybookOpt,
    PriorityOpt,
    SnoozedOpt,
    StatusOpt,
    TypeOpt,
    emit_tasks,
    parse_day,
    task_filter,
)
from cs_cli.enums import Priority, TaskType

app = typer.Typer(help="CS tasks: the work on your plate, from the command line.", no_args_is_help=True)


def _listing(
    flt, sort: str, limit: int | None, offset: int, all_rows: bool, as_of, fmt, columns, picked=None
) -> None:
    from cs_cli.services.tasks.views import list_tasks

    chosen = pick_columns(picked, CSV_COLUMNS)
    with _runtime.session() as (session, actor):
        page = list_tasks(
            session,
            actor,
            flt,
            today=today(as_of),
            sort=sort,
            offset=offset,
            limit=rows_wanted(fmt, limit, all_rows),
        )
    emit_tasks(page.rows, fmt, columns, chosen)
    overdue = sum(1 for r in page.rows if r.overdue) if fmt == OutputFormat.TABLE else 0
    paging_note(
        fmt,
        offset=page.offset,
        shown=len(page.rows),
        total=page.total,
        exact=page.total_exact,
        noun="tasks",
        extra=f" ({overdue} overdue on this page)" if overdue else "",
    )


SortOpt = Annotated[
    str, typer.Option(help="due, priority, customer or created; prefix - to reverse (e.g. -created).")
]


@app.command("list")
def list_(
    mine: MineOpt = False,
    assignee: AssigneeOpt = None,
    customer: CustomerOpt = None,
    status: StatusOpt = None,
    priority: PriorityOpt = None,
    task_type: TypeOpt = None,
    due: DueOpt = None,
    playbook: PlaybookOpt = None,
    include_snoozed: SnoozedOpt = False,
    sort: SortOpt = "due",
    limit: LimitOpt = None,
    offset: OffsetOpt = 0,
    all_rows: AllOpt = False,
    columns: ColumnsOpt = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """List the tasks you can see, soonest due first (open ones unless --status).

    A CSM sees the tasks assigned to them and those of their customers, a
    manager their team's, an admin all. Snoozed tasks stay out until their day.

    Examples:

      cs tasks list --customer C-00107

      cs tasks list --due overdue --priority high --priority critical

      cs tasks list --status closed --playbook risk_response --format csv
    """
    flt = task_filter(mine, assignee, customer, status, priority, task_type, due, playbook, include_snoozed)
    _listing(flt, sort, limit, offset, all_rows, as_of, fmt, LIST_COLUMNS, columns)


@app.command()
def my(
    status: StatusOpt = None,
    due: DueOpt = None,
    include_snoozed: SnoozedOpt = False,
    limit: LimitOpt = None,
    offset: OffsetOpt = 0,
    all_rows: AllOpt = False,
    columns: ColumnsOpt = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Your tasks, soonest due first, overdue ones marked (= list --mine).

    Example: cs tasks my --due week
    """
    flt = task_filter(mine=True, status=status, due=due, include_snoozed=include_snoozed)
    shown = [c for c in LIST_COLUMNS if c != "assignee"]
    _listing(flt, "due", limit, offset, all_rows, as_of, fmt, shown, columns)


@app.command()
def show(
    task_id: Annotated[int, typer.Argument(help="The task's ID.", metavar="ID")],
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Show one task: customer, assignee, dates, outcome, playbook, touchpoints, history.

    Example: cs tasks show 1042 --format json
    """
    from cs_cli.services.tasks.views import task_detail

    with _runtime.session() as (session, actor):
        detail = task_detail(session, actor, task_id, today=today(as_of), history=True)
    _emit_detail(detail, fmt)


def _flat(detail) -> dict[str, Any]:
    flat = plain(detail.row)
    extra = plain(detail)
    extra.pop("row")
    return {**flat, **extra}


def _emit_detail(detail, fmt: OutputFormat) -> None:
    if fmt != OutputFormat.TABLE:
        emit_object(_flat(detail), fmt)
        return
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    from cs_cli.cli._output import stdout_console

    r = detail.row
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()
    due = cell(r.due_date) + (" (overdue)" if r.overdue else "")
    outcome = cell(detail.outcome) + (f": {detail.outcome_notes}" if detail.outcome_notes else "")
    for label, value in (
        ("customer", f"{r.customer_name} ({r.customer})"),
        ("status", cell(r.status) + (f": {detail.blocked_reason}" if detail.blocked_reason else "")),
        ("type", r.task_type),
        ("priority", r.priority),
        ("due", due),
        ("snoozed until", r.snoozed_until),
        ("assignee", r.assignee or (f"role {detail.assigned_to_role}" if detail.assigned_to_role else None)),
        (
            "playbook",
            f"{detail.playbook_name} (run {detail.playbook_run_id})" if detail.playbook_name else None,
        ),
        ("step", detail.playbook_step),
        ("journey enrollment", detail.journey_enrollment_id),
        ("created", r.created_at),
        ("started", detail.started_at),
        ("closed", detail.completed_at),
        ("outcome", outcome if detail.outcome or detail.outcome_notes else None),
        ("time spent", f"{detail.time_spent_minutes} min" if detail.time_spent_minutes is not None else None),
        ("touchpoints", ", ".join(str(t) for t in detail.touchpoint_ids) or None),
        ("description", detail.description),
    ):
        if value is not None and cell(value):
            grid.add_row(label, text_cell(value))
    if detail.history:
        # Said as the board's task detail says it, oldest first.
        lines = Text("\n").join(
            Text.assemble((f"{h.at:%Y-%m-%d %H:%M}  ", "dim"), ((h.actor or "cs") + "  ", "bold"), h.words)
            for h in detail.history
        )
        grid.add_row("history", lines)
    title = Text.assemble((f"task {r.id}", "bold"), f": {r.title}")
    stdout_console(max_width=110).print(Panel(grid, title=title, title_align="left"))


@app.command()
def create(
    customer: Annotated[str, typer.Argument(help="External id of the customer.")],
    title: Annotated[str, typer.Option(help="What is to be done (at most 200 characters).")],
    task_type: Annotated[TaskType, typer.Option("--type", "-t", help="The kind of task.")] = TaskType.CUSTOM,
    priority: Annotated[Priority, typer.Option("--priority", "-p", help="How urgent.")] = Priority.MEDIUM,
    due: Annotated[
        str | None, typer.Option(help="Due date: YYYY-MM-DD, +3d, +2w, today or tomorrow.", metavar="DATE")
    ] = None,
    assignee: Annotated[
        str | None,
        typer.Option(
            help="Who does it (login or email); default: the customer's CSM, else you.", metavar="USER"
        ),
    ] = None,
    description: Annotated[str | None, typer.Option(help="Details, agenda or context.")] = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Create a task for a customer (pending; emits task.created).

    Example:

      cs tasks create C-00107 --title "Renewal call" --type call --due +3d
    """
    from cs_cli.services.tasks.lifecycle import create_task

    day = today(as_of)
    due_date = parse_day(due, day, "--due") if due else None
    with _runtime.session() as (session, actor):
        detail = create_task(
            session,
            actor,
            customer,
            title=title,
            task_type=task_type,
            priority=priority,
            due_date=due_date,
            assignee=assignee,
            description=description,
            today=day,
            now=now(as_of),
        )
    if fmt != OutputFormat.TABLE:
        emit_object(_flat(detail), fmt)
    r = detail.row
    due_note = f", due {r.due_date}" if r.due_date else ""
    message(
        f"created task {r.id} for {r.customer}: {r.title} (assigned to {r.assignee or 'nobody'}{due_note})"
    )


@app.command()
def update(
    ids: Annotated[list[int], typer.Argument(help="Task IDs.", show_default=False)],
    title: Annotated[str | None, typer.Option(help="New title.")] = None,
    description: Annotated[str | None, typer.Option(help="New description ('' clears it).")] = None,
    priority: Annotated[Priority | None, typer.Option("--priority", "-p", help="New priority.")] = None,
    task_type: Annotated[TaskType | None, typer.Option("--type", "-t", help="New type.")] = None,
    due: Annotated[
        str | None,
        typer.Option(help="New due date: YYYY-MM-DD, +3d, +2w, today or tomorrow.", metavar="DATE"),
    ] = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Change the title, description, priority, type or due date of open tasks.

    Example: cs tasks update 1042 --priority high --due 2026-12-01
    """
    from cs_cli.services.tasks.bulk import Target
    from cs_cli.services.tasks.lifecycle import update as update_tasks

    day = today(as_of)
    due_date = parse_day(due, day, "--due") if due else None

    def call(session, actor, target):
        return update_tasks(
            session,
            actor,
            target,
            title=title,
            description=description,
            priority=priority,
            task_type=task_type,
            due=due_date,
            today=day,
            now=now(as_of),
        )

    task_changes.change("update", Target(ids=tuple(ids)), call, yes=True, as_of=as_of, fmt=fmt)


# The changes (start, complete, ...) come after create and update in help.
task_changes.register(app)


@app.command()
def remind(as_of: AsOfOpt = None) -> None:
    """Email each person one digest of their open tasks due today or overdue
    (admins; cron runs it daily). Once per person per day: running it again
    the same day sends nothing new. People whose notify preference is none
    (`cs users set-notify none`) get no reminder.

    Example: cs tasks remind --as-of 2026-03-02
    """
    from cs_cli.services.tasks.reminders import remind as send

    with _runtime.session() as (session, actor):
        result = send(session, actor, as_of=today(as_of), now=now(as_of))
    line = f"reminders for {result.as_of}: {result.users:,} email{'s' if result.users != 1 else ''} queued"
    line += f" ({result.tasks:,} task{'s' if result.tasks != 1 else ''})"
    if result.already_sent:
        line += f"; {result.already_sent:,} already sent today"
    if result.opted_out:
        line += f"; {result.opted_out:,} opted out"
    message(line)


@app.command("export")
def export_calendar(
    ical: Annotated[
        str,
        typer.Option("--ical", help="The iCalendar file to write (- for stdout).", metavar="FILE"),
    ],
    scope: Annotated[str, typer.Option("--scope", help="mine, team or all (what you may see).")] = "mine",
    renewals: Annotated[
        bool, typer.Option("--renewals/--no-renewals", help="Add the renewal dates of the scope's customers.")
    ] = True,
) -> None:
    """Write your open tasks (by due date) and your customers' renewal dates
    as an iCalendar file that any calendar imports or subscribes to. Each
    task and renewal keeps its UID, so importing a newer file updates the
    events instead of adding them again; done and cancelled tasks leave it.
    `cs calendar DIR` writes one file per user (cron, daily).

    Example: cs tasks export --ical ~/cs-tasks.ics
    """
    from cs_cli.services.tasks.calendar import calendar_entries, to_ical

    with _runtime.session() as (session, actor):
        entries = calendar_entries(session, actor, scope=scope, renewals=renewals)
        name = f"cs: {actor.name}" + (f" ({scope})" if scope != "mine" else "")
    data = to_ical(entries, name=name, now=now(None))
    write_file(ical, data)
    tasks = sum(1 for e in entries if e.uid.startswith("task-"))
    message(
        f"wrote {tasks:,} task{'s' if tasks != 1 else ''} and {len(entries) - tasks:,} renewal"
        f"{'s' if len(entries) - tasks != 1 else ''} to {'stdout' if ical == '-' else ical}"
    )


def calendar(
    folder: Annotated[str, typer.Argument(help="Folder to write the files into.", metavar="DIR")],
    renewals: Annotated[
        bool, typer.Option("--renewals/--no-renewals", help="Add the renewal dates of each one's customers.")
    ] = True,
) -> None:
    """Write one iCalendar feed per active user, DIR/LOGIN.ics: their open
    tasks and their customers' renewal dates, as `cs tasks export --ical`
    writes them (admins; cron, daily). Serve DIR with any web server and
    each person subscribes to their own file; a file is replaced whole, so
    a calendar never reads half of one.

    Example: cs calendar /srv/cs-calendars
    """
    from pathlib import Path

    from cs_cli.errors import BadInput, NotPermitted
    from cs_cli.services.access import resolve_actor
    from cs_cli.services.tasks.calendar import calendar_entries, to_ical
    from cs_cli.services.users import active_logins

    target = Path(folder).expanduser()
    if not target.is_dir():
        raise BadInput(f"{folder}: no such directory")
    moment = now(None)
    with _runtime.session() as (session, actor):
        if actor.role != "admin":
            raise NotPermitted("cs calendar writes every user's tasks: admins only")
        written = 0
        for login in active_logins(session):
            person = resolve_actor(session, login)
            entries = calendar_entries(session, person, scope="mine", renewals=renewals)
            write_file(str(target / f"{login}.ics"), to_ical(entries, name=f"cs: {login}", now=moment))
            written += 1
    message(f"wrote {written:,} calendar{'s' if written != 1 else ''} to {folder}")
