"""What the `cs tasks` commands share: the options that select tasks (the
filter of `cs tasks list`, which every change takes too) and the rows that
show them."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any

import typer

from cs_cli.cli._output import OutputFormat, cell, dataclass_rows, emit_rows
from cs_cli.enums import Priority, TaskStatus, TaskType


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
        help="Task IDs; leave out to act on every task the filter options match.",
        show_default=False,
        metavar="ID",
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


def task_filter(
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


def emit_tasks(rows, fmt: OutputFormat, columns: list[str], chosen: list[str] | None = None) -> None:
    if fmt == OutputFormat.TABLE:
        emit_rows(_table_rows(rows), columns, fmt, headers=HEADERS, chosen=chosen, pickable=True)
    else:
        emit_rows(dataclass_rows(rows), CSV_COLUMNS, fmt, chosen=chosen, pickable=True)
