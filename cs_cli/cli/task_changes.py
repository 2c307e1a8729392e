"""The changes of `cs tasks`: start, complete, block, unblock, cancel,
assign, reschedule and snooze, each by task ID or over the filter options
of `cs tasks list` (a filter shows its count and asks first)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

import typer

from cs_cli.cli import _runtime
from cs_cli.cli._options import AsOfOpt, FormatOpt, YesOpt, confirm_or_abort, now, today
from cs_cli.cli._output import OutputFormat, message
from cs_cli.cli.task_options import (
    LIST_COLUMNS,
    AssigneeOpt,
    CustomerOpt,
    DueOpt,
    IdsArg,
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
from cs_cli.domain.tasks import PAST_TENSE
from cs_cli.enums import TaskOutcome


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


def _count(n: int) -> str:
    return f"{n:,} task{'s' if n != 1 else ''}"


def _skipped(skipped: dict[str, int], verb: str) -> str:
    if not skipped:
        return ""
    total = sum(skipped.values())
    kinds = ", ".join(f"{n} {status}" for status, n in skipped.items())
    return f"; skipped {total} that cannot be {PAST_TENSE[verb]} ({kinds})"


def change(
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
                    past = PAST_TENSE[verb]
                    message(f"none of the matching tasks can be {past}{_skipped(found.skipped, verb)}")
                else:
                    message("no tasks match the filter")
                if fmt != OutputFormat.TABLE:
                    emit_tasks([], fmt, LIST_COLUMNS)
                return
            skipped = ""
            if found.skipped:
                kinds = ", ".join(f"{n} {status}" for status, n in found.skipped.items())
                skipped = f" ({sum(found.skipped.values()):,} skipped: {kinds})"
            confirm_or_abort(f"this would {verb} {_count(len(found.ids))}{skipped}", yes)
        result = call(session, actor, target)
        changed = rows_for(session, actor, result.changed, today=day) if fmt != OutputFormat.TABLE else []
    if fmt != OutputFormat.TABLE:
        emit_tasks(changed, fmt, LIST_COLUMNS)
    if len(result.changed) == 1 and target.ids:
        what = f"task {result.changed[0]}"
    else:
        what = _count(len(result.changed))
    logged = ""
    if result.touchpoints:
        logged = f"; logged {result.touchpoints} touchpoint{'s' if result.touchpoints != 1 else ''}"
    message(f"{PAST_TENSE[verb]} {what}{detail(result)}{logged}{_skipped(result.skipped, verb)}")


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

        flt = task_filter(
            mine, assignee, customer, status, priority, task_type, due, playbook, include_snoozed
        )
        action = getattr(lifecycle, verb)

        def call(session, actor, target):
            return action(session, actor, target, today=today(as_of), now=now(as_of))

        change(verb, _target(ids, flt), call, yes=yes, as_of=as_of, fmt=fmt)

    command.__doc__ = (
        f"{summary}\n\nName tasks by ID, or select them with the filter options of `cs tasks list`"
        f" (asks first; --yes for scripts).\n\nExample: {example}"
    )
    return command


start = _state_command(
    "start",
    "Start work on tasks: pending (or blocked) becomes in_progress.",
    "cs tasks start 1042",
)


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
    flt = task_filter(mine, assignee, customer, status, priority, task_type, due, playbook, include_snoozed)

    lexicon = _runtime.STATE.settings().text_lexicon

    def call(session, actor, target):
        from cs_cli.services.text.sentiment import configured_analyser

        return complete_tasks(
            session,
            actor,
            target,
            outcome=outcome,
            notes=notes,
            minutes=minutes,
            today=today(as_of),
            now=now(as_of),
            # The touchpoints completed calls become are read with your lexicon.
            analyser=configured_analyser(lexicon) if lexicon else None,
        )

    change(
        "complete",
        _target(ids, flt),
        call,
        yes=yes,
        as_of=as_of,
        fmt=fmt,
        detail=lambda result: f" ({outcome.value})",
    )


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

    flt = task_filter(mine, assignee, customer, status, priority, task_type, due, playbook, include_snoozed)

    def call(session, actor, target):
        return block_tasks(session, actor, target, reason=reason or "", today=today(as_of), now=now(as_of))

    change(
        "block",
        _target(ids, flt),
        call,
        yes=yes,
        as_of=as_of,
        fmt=fmt,
        detail=lambda r: f": {reason.strip()}",
    )


unblock = _state_command(
    "unblock",
    "Unblock tasks: back to in_progress if they had been started, else pending.",
    "cs tasks unblock --customer C-00107 --status blocked --yes",
)


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

    flt = task_filter(mine, assignee, customer, status, priority, task_type, due, playbook, include_snoozed)

    def call(session, actor, target):
        return cancel_tasks(session, actor, target, reason=reason, today=today(as_of), now=now(as_of))

    change("cancel", _target(ids, flt), call, yes=yes, as_of=as_of, fmt=fmt)


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
    flt = task_filter(mine, assignee, customer, status, priority, task_type, due, playbook, include_snoozed)

    def call(session, actor, target):
        return assign_tasks(session, actor, target, to=to, today=today(as_of), now=now(as_of))

    change("assign", _target(ids, flt), call, yes=yes, as_of=as_of, fmt=fmt, detail=lambda r: f" to {to}")


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
    flt = task_filter(mine, assignee, customer, status, priority, task_type, due, playbook, include_snoozed)

    def call(session, actor, target):
        return reschedule_tasks(session, actor, target, due=new_due, today=day, now=now(as_of))

    change(
        "reschedule",
        _target(ids, flt),
        call,
        yes=yes,
        as_of=as_of,
        fmt=fmt,
        detail=lambda r: f" to {new_due}",
    )


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
    flt = task_filter(mine, assignee, customer, status, priority, task_type, due, playbook, include_snoozed)
    if clear and not ids:
        # Clearing is for tasks that are snoozed, hidden from the filter by default.
        flt = dataclasses.replace(flt, include_snoozed=True)

    def call(session, actor, target):
        return snooze_tasks(session, actor, target, until=until_day, today=day, now=now(as_of))

    detail = (lambda r: f" until {until_day}") if until_day else (lambda r: " (snooze cleared)")
    change("snooze", _target(ids, flt), call, yes=yes, as_of=as_of, fmt=fmt, detail=detail)


def register(app: typer.Typer) -> None:
    """Add the change commands to `cs tasks`, in the order help lists them."""
    app.command("start")(start)
    app.command("complete")(complete)
    app.command("block")(block)
    app.command("unblock")(unblock)
    app.command("cancel")(cancel)
    app.command("assign")(assign)
    app.command("reschedule")(reschedule)
    app.command("snooze")(snooze)
