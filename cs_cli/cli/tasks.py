"""`cs tasks`: list, create and work CS tasks; every change by ID or over a filter."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any

import typer

from cs_cli.cli import _runtime
from cs_cli.cli._options import (
    AllOpt,
    AsOfOpt,
    ColumnsOpt,
    FormatOpt,
    LimitOpt,
    OffsetOpt,
    YesOpt,
    confirm_or_abort,
    now,
    pick_columns,
    today,
)
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
    text_cell,
)
from cs_cli.enums import Priority, TaskOutcome, TaskStatus, TaskType

app = typer.Typer(help="CS tasks: the work on your plate, from the command line.", no_args_is_help=True)


class DueWindow(StrEnum):
    TODAY = "today"
    WEEK = "week"
    OVERDUE = "overdue"


# The table's columns, most important first: at 80 columns the last ones give way.
LIST_COLUMNS = ["id", "due_date", "title", "customer", "priority", "status", "task_type", "assignee"]
CSV_COLUMNS = [
    "id",
    "customer",
    "customer_name",
    "title",
    "task_type",
    "priority",
    "status",
    "due_date",
    "overdue",
    "snoozed_until",
    "assignee",
    "playbook",
    "created_at",
]
HEADERS = {"due_date": "due", "task_type": "type"}
STATUS_WORDS = {
    "open": (TaskStatus.PENDING, TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED),
    "closed": (TaskStatus.COMPLETED, TaskStatus.CANCELLED),
    "all": tuple(TaskStatus),
}

# The filter, declared once: `cs tasks list` and every bulk form take it.
MineOpt = Annotated[bool, typer.Option("--mine", help="Only tasks assigned to you.")]
AssigneeOpt = Annotated[
    str | None, typer.Option(help="Only tasks assigned to this user (login or email).", metavar="USER")
]
CustomerOpt = Annotated[
    str | None,
    typer.Option("--customer", "-c", help="Only this customer's tasks (external id).", metavar="ID"),
]
StatusOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--status",
        "-s",
        help="Only this status (repeat for more): pending, in_progress, blocked, completed, cancelled, "
        "or open, closed, all. Default: open.",
        metavar="STATUS",
    ),
]
PriorityOpt = Annotated[
    list[Priority] | None, typer.Option("--priority", "-p", help="Only this priority (repeat for more).")
]
TypeOpt = Annotated[
    list[TaskType] | None, typer.Option("--type", "-t", help="Only this type (repeat for more).")
]
DueOpt = Annotated[
    DueWindow | None,
    typer.Option(
        help="Due today, this week (today and the next six days), or overdue (open, due before today)."
    ),
]
PlaybookOpt = Annotated[
    str | None, typer.Option(help="Only tasks of this playbook (key or name).", metavar="PLAYBOOK")
]
SnoozedOpt = Annotated[
    bool, typer.Option("--include-snoozed", help="Also tasks snoozed to a later day (hidden by default).")
]
IdsArg = Annotated[
    list[int] | None,
    typer.Argument(
        help="Task IDs; leave out to act on every task the filter options match.", show_default=False
    ),
]


def _statuses(words: list[str] | None) -> tuple[TaskStatus, ...]:
    from cs_cli.errors import BadInput

    out: list[TaskStatus] = []
    for word in words or []:
        key = word.strip().lower()
        if key in STATUS_WORDS:
            out.extend(STATUS_WORDS[key])
            continue
        try:
            out.append(TaskStatus(key))
        except ValueError:
            choices = ", ".join([*TaskStatus, *STATUS_WORDS])
            raise BadInput(f"unknown status '{word}' (choose from: {choices})") from None
    return tuple(dict.fromkeys(out))


def _filter(
    mine: bool = False,
    assignee: str | None = None,
    customer: str | None = None,
    status: list[str] | None = None,
    priority: list[Priority] | None = None,
    task_type: list[TaskType] | None = None,
    due: DueWindow | None = None,
    playbook: str | None = None,
    include_snoozed: bool = False,
):
    from cs_cli.services.tasks.selection import TaskFilter

    return TaskFilter(
        mine=mine,
        assignee=assignee,
        customer=customer,
        statuses=_statuses(status),
        priorities=tuple(priority or ()),
        types=tuple(task_type or ()),
        due=due.value if due else None,
        playbook=playbook,
        include_snoozed=include_snoozed,
    )


def parse_day(text: str, base: dt.date, option: str) -> dt.date:
    """A date as YYYY-MM-DD, +3d, +2w, today or tomorrow (from `base`)."""
    from cs_cli.services.tasks.dates import parse_day as parse

    return parse(text, base, option)


def _table_rows(rows) -> list[dict[str, Any]]:
    out = []
    for row in dataclass_rows(rows):
        if row["overdue"]:
            row["due_date"] = f"{cell(row['due_date'])} (overdue)"
        out.append(row)
    return out


def _emit_tasks(rows, fmt: OutputFormat, columns: list[str], chosen: list[str] | None = None) -> None:
    if fmt == OutputFormat.TABLE:
        emit_rows(_table_rows(rows), columns, fmt, headers=HEADERS, chosen=chosen)
    else:
        emit_rows(dataclass_rows(rows), CSV_COLUMNS, fmt, chosen=chosen)


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
    _emit_tasks(page.rows, fmt, columns, chosen)
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
    flt = _filter(mine, assignee, customer, status, priority, task_type, due, playbook, include_snoozed)
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
    flt = _filter(mine=True, status=status, due=due, include_snoozed=include_snoozed)
    shown = [c for c in LIST_COLUMNS if c != "assignee"]
    _listing(flt, "due", limit, offset, all_rows, as_of, fmt, shown, columns)


@app.command()
def show(
    task_id: Annotated[int, typer.Argument(help="The task's ID.", metavar="ID")],
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Show one task: customer, assignee, dates, outcome, playbook, touchpoints.

    Example: cs tasks show 1042 --format json
    """
    from cs_cli.services.tasks.views import task_detail

    with _runtime.session() as (session, actor):
        detail = task_detail(session, actor, task_id, today=today(as_of))
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

    _change("update", Target(ids=tuple(ids)), call, yes=True, as_of=as_of, fmt=fmt)


def _target(ids: list[int] | None, flt):
    from cs_cli.errors import BadInput
    from cs_cli.services.tasks.bulk import Target

    if ids:
        if not flt.is_empty() or flt.include_snoozed:
            raise BadInput("name task IDs or give filter options, not both")
        return Target(ids=tuple(ids))
    if flt.is_empty():
        raise BadInput(
            "name task IDs, or filter options for a bulk change (e.g. --customer C-001 or --mine)",
            hint="to act on every open task you can see, say --status open",
        )
    return Target(filter=flt)


PAST = {
    "start": "started",
    "complete": "completed",
    "block": "blocked",
    "unblock": "unblocked",
    "cancel": "cancelled",
    "assign": "assigned",
    "reschedule": "rescheduled",
    "snooze": "snoozed",
    "update": "updated",
}


def _count(n: int) -> str:
    return f"{n:,} task{'s' if n != 1 else ''}"


def _skipped(skipped: dict[str, int], verb: str) -> str:
    if not skipped:
        return ""
    total = sum(skipped.values())
    kinds = ", ".join(f"{n} {status}" for status, n in skipped.items())
    return f"; skipped {total} that cannot be {PAST[verb]} ({kinds})"


def _change(
    verb: str,
    target,
    call: Callable,
    *,
    yes: bool,
    as_of: dt.date | None,
    fmt: OutputFormat,
    detail: Callable[[Any], str] = lambda result: "",
) -> None:
    """Run one change: for a filter, show the count and ask first."""
    from cs_cli.services.tasks.lifecycle import preview
    from cs_cli.services.tasks.views import rows_for

    day = today(as_of)
    with _runtime.session() as (session, actor):
        if target.filter is not None:
            found = preview(session, actor, target, verb, today=day)
            if not found.ids:
                if found.skipped:
                    message(f"none of the matching tasks can be {PAST[verb]}{_skipped(found.skipped, verb)}")
                else:
                    message("no tasks match the filter")
                if fmt != OutputFormat.TABLE:
                    _emit_tasks([], fmt, LIST_COLUMNS)
                return
            skipped = ""
            if found.skipped:
                kinds = ", ".join(f"{n} {status}" for status, n in found.skipped.items())
                skipped = f" ({sum(found.skipped.values()):,} skipped: {kinds})"
            confirm_or_abort(f"this would {verb} {_count(len(found.ids))}{skipped}", yes)
        result = call(session, actor, target)
        changed = rows_for(session, actor, result.changed, today=day) if fmt != OutputFormat.TABLE else []
    if fmt != OutputFormat.TABLE:
        _emit_tasks(changed, fmt, LIST_COLUMNS)
    if len(result.changed) == 1 and target.ids:
        what = f"task {result.changed[0]}"
    else:
        what = _count(len(result.changed))
    logged = ""
    if result.touchpoints:
        logged = f"; logged {result.touchpoints} touchpoint{'s' if result.touchpoints != 1 else ''}"
    message(f"{PAST[verb]} {what}{detail(result)}{logged}{_skipped(result.skipped, verb)}")


def _state_command(verb: str, summary: str, example: str):
    """Declare `cs tasks VERB`: IDs or the filter, --yes, --as-of, --format."""

    def command(
        ids: IdsArg = None,
        mine: MineOpt = False,
        assignee: AssigneeOpt = None,
        customer: CustomerOpt = None,
        status: StatusOpt = None,
        priority: PriorityOpt = None,
        task_type: TypeOpt = None,
        due: DueOpt = None,
        playbook: PlaybookOpt = None,
        include_snoozed: SnoozedOpt = False,
        yes: YesOpt = False,
        as_of: AsOfOpt = None,
        fmt: FormatOpt = OutputFormat.TABLE,
    ) -> None:
        from cs_cli.services.tasks import lifecycle

        flt = _filter(mine, assignee, customer, status, priority, task_type, due, playbook, include_snoozed)
        action = getattr(lifecycle, verb)

        def call(session, actor, target):
            return action(session, actor, target, today=today(as_of), now=now(as_of))

        _change(verb, _target(ids, flt), call, yes=yes, as_of=as_of, fmt=fmt)

    command.__doc__ = (
        f"{summary}\n\nName tasks by ID, or select them with the filter options of `cs tasks list`"
        f" (asks first; --yes for scripts).\n\nExample: {example}"
    )
    return command


app.command("start")(
    _state_command(
        "start",
        "Start work on tasks: pending (or blocked) becomes in_progress.",
        "cs tasks start 1042",
    )
)


@app.command()
def complete(
    ids: IdsArg = None,
    outcome: Annotated[
        TaskOutcome | None, typer.Option(help="How it went (required).", show_default=False)
    ] = None,
    notes: Annotated[str | None, typer.Option(help="What happened; kept as the outcome notes.")] = None,
    minutes: Annotated[int | None, typer.Option(help="Time spent, in minutes.", min=0)] = None,
    mine: MineOpt = False,
    assignee: AssigneeOpt = None,
    customer: CustomerOpt = None,
    status: StatusOpt = None,
    priority: PriorityOpt = None,
    task_type: TypeOpt = None,
    due: DueOpt = None,
    playbook: PlaybookOpt = None,
    include_snoozed: SnoozedOpt = False,
    yes: YesOpt = False,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Complete tasks with an outcome (emits task.completed).

    A call, meeting or email task also logs a touchpoint of the call, meeting
    or email sent, with the notes and minutes.

    Name tasks by ID, or select them with the filter options of `cs tasks list`
    (asks first; --yes for scripts).

    Example:

      cs tasks complete 1042 --outcome successful --notes "QBR set" --minutes 30
    """
    from cs_cli.errors import BadInput
    from cs_cli.services.tasks.lifecycle import complete as complete_tasks

    if outcome is None:
        choices = ", ".join(o.value for o in TaskOutcome)
        raise BadInput(f"completing a task needs --outcome ({choices})")
    flt = _filter(mine, assignee, customer, status, priority, task_type, due, playbook, include_snoozed)

    def call(session, actor, target):
        return complete_tasks(
            session,
            actor,
            target,
            outcome=outcome,
            notes=notes,
            minutes=minutes,
            today=today(as_of),
            now=now(as_of),
        )

    _change(
        "complete",
        _target(ids, flt),
        call,
        yes=yes,
        as_of=as_of,
        fmt=fmt,
        detail=lambda result: f" ({outcome.value})",
    )


@app.command()
def block(
    ids: IdsArg = None,
    reason: Annotated[str | None, typer.Option(help="What it waits for (required).")] = None,
    mine: MineOpt = False,
    assignee: AssigneeOpt = None,
    customer: CustomerOpt = None,
    status: StatusOpt = None,
    priority: PriorityOpt = None,
    task_type: TypeOpt = None,
    due: DueOpt = None,
    playbook: PlaybookOpt = None,
    include_snoozed: SnoozedOpt = False,
    yes: YesOpt = False,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Mark pending or in-progress tasks as blocked, with the reason.

    Name tasks by ID, or select them with the filter options of `cs tasks list`
    (asks first; --yes for scripts).

    Example: cs tasks block 1042 --reason "waiting for legal"
    """
    from cs_cli.services.tasks.lifecycle import block as block_tasks

    flt = _filter(mine, assignee, customer, status, priority, task_type, due, playbook, include_snoozed)

    def call(session, actor, target):
        return block_tasks(session, actor, target, reason=reason or "", today=today(as_of), now=now(as_of))

    _change(
        "block",
        _target(ids, flt),
        call,
        yes=yes,
        as_of=as_of,
        fmt=fmt,
        detail=lambda r: f": {reason.strip()}",
    )


app.command("unblock")(
    _state_command(
        "unblock",
        "Unblock tasks: back to in_progress if they had been started, else pending.",
        "cs tasks unblock --customer C-00107 --status blocked --yes",
    )
)


@app.command()
def cancel(
    ids: IdsArg = None,
    reason: Annotated[
        str | None, typer.Option(help="Why it will not be done (kept as the outcome notes).")
    ] = None,
    mine: MineOpt = False,
    assignee: AssigneeOpt = None,
    customer: CustomerOpt = None,
    status: StatusOpt = None,
    priority: PriorityOpt = None,
    task_type: TypeOpt = None,
    due: DueOpt = None,
    playbook: PlaybookOpt = None,
    include_snoozed: SnoozedOpt = False,
    yes: YesOpt = False,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Cancel open tasks (final; emits task.cancelled).

    Name tasks by ID, or select them with the filter options of `cs tasks list`
    (asks first; --yes for scripts).

    Example: cs tasks cancel --customer C-00107 --playbook risk_response --yes
    """
    from cs_cli.services.tasks.lifecycle import cancel as cancel_tasks

    flt = _filter(mine, assignee, customer, status, priority, task_type, due, playbook, include_snoozed)

    def call(session, actor, target):
        return cancel_tasks(session, actor, target, reason=reason, today=today(as_of), now=now(as_of))

    _change("cancel", _target(ids, flt), call, yes=yes, as_of=as_of, fmt=fmt)


@app.command()
def assign(
    ids: IdsArg = None,
    to: Annotated[
        str | None, typer.Option("--to", help="The new assignee (login or email; required).", metavar="USER")
    ] = None,
    mine: MineOpt = False,
    assignee: AssigneeOpt = None,
    customer: CustomerOpt = None,
    status: StatusOpt = None,
    priority: PriorityOpt = None,
    task_type: TypeOpt = None,
    due: DueOpt = None,
    playbook: PlaybookOpt = None,
    include_snoozed: SnoozedOpt = False,
    yes: YesOpt = False,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Give open tasks to an active user (emits task.assigned).

    CSMs and managers assign to themselves, their team or the customer's CSM;
    admins to anyone.

    Name tasks by ID, or select them with the filter options of `cs tasks list`
    (asks first; --yes for scripts).

    Examples:

      cs tasks assign 1042 --to bo@example.com

      cs tasks assign --assignee ana@example.com --to bo@example.com --yes
    """
    from cs_cli.errors import BadInput
    from cs_cli.services.tasks.lifecycle import assign as assign_tasks

    if not to:
        raise BadInput("say who gets the tasks: --to USER (login or email)")
    flt = _filter(mine, assignee, customer, status, priority, task_type, due, playbook, include_snoozed)

    def call(session, actor, target):
        return assign_tasks(session, actor, target, to=to, today=today(as_of), now=now(as_of))

    _change("assign", _target(ids, flt), call, yes=yes, as_of=as_of, fmt=fmt, detail=lambda r: f" to {to}")


@app.command()
def reschedule(
    ids: IdsArg = None,
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="The new due date (required): YYYY-MM-DD, +3d, +2w, today or tomorrow.",
            metavar="DATE",
        ),
    ] = None,
    mine: MineOpt = False,
    assignee: AssigneeOpt = None,
    customer: CustomerOpt = None,
    status: StatusOpt = None,
    priority: PriorityOpt = None,
    task_type: TypeOpt = None,
    due: DueOpt = None,
    playbook: PlaybookOpt = None,
    include_snoozed: SnoozedOpt = False,
    yes: YesOpt = False,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Move the due date of open tasks (emits task.rescheduled).

    Name tasks by ID, or select them with the filter options of `cs tasks list`
    (asks first; --yes for scripts).

    Examples:

      cs tasks reschedule 1042 --to 2026-12-01

      cs tasks reschedule --mine --due overdue --to +2d --yes
    """
    from cs_cli.errors import BadInput
    from cs_cli.services.tasks.lifecycle import reschedule as reschedule_tasks

    if not to:
        raise BadInput("say when: --to DATE (YYYY-MM-DD, +3d, +2w, today or tomorrow)")
    day = today(as_of)
    new_due = parse_day(to, day, "--to")
    flt = _filter(mine, assignee, customer, status, priority, task_type, due, playbook, include_snoozed)

    def call(session, actor, target):
        return reschedule_tasks(session, actor, target, due=new_due, today=day, now=now(as_of))

    _change(
        "reschedule",
        _target(ids, flt),
        call,
        yes=yes,
        as_of=as_of,
        fmt=fmt,
        detail=lambda r: f" to {new_due}",
    )


@app.command()
def snooze(
    ids: IdsArg = None,
    until: Annotated[
        str | None,
        typer.Option(
            help="Hide until this day (YYYY-MM-DD, +3d, +2w or tomorrow); they reappear on it.",
            metavar="DATE",
        ),
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Show snoozed tasks again now.")] = False,
    mine: MineOpt = False,
    assignee: AssigneeOpt = None,
    customer: CustomerOpt = None,
    status: StatusOpt = None,
    priority: PriorityOpt = None,
    task_type: TypeOpt = None,
    due: DueOpt = None,
    playbook: PlaybookOpt = None,
    include_snoozed: SnoozedOpt = False,
    yes: YesOpt = False,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Hide open tasks from the lists until a day (emits task.snoozed).

    Name tasks by ID, or select them with the filter options of `cs tasks list`
    (asks first; --yes for scripts).

    Examples:

      cs tasks snooze 1042 --until +1w

      cs tasks snooze 1042 --clear
    """
    from cs_cli.errors import BadInput
    from cs_cli.services.tasks.lifecycle import snooze as snooze_tasks

    if clear == bool(until):
        raise BadInput("give --until DATE, or --clear to show snoozed tasks again")
    day = today(as_of)
    until_day = parse_day(until, day, "--until") if until else None
    flt = _filter(mine, assignee, customer, status, priority, task_type, due, playbook, include_snoozed)
    if clear and not ids:
        # Clearing is for tasks that are snoozed, hidden from the filter by default.
        flt = dataclasses.replace(flt, include_snoozed=True)

    def call(session, actor, target):
        return snooze_tasks(session, actor, target, until=until_day, today=day, now=now(as_of))

    detail = (lambda r: f" until {until_day}") if until_day else (lambda r: " (snooze cleared)")
    _change("snooze", _target(ids, flt), call, yes=yes, as_of=as_of, fmt=fmt, detail=detail)


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
