"""`cs run` and `cs jobs`: the scheduled jobs cron runs, and how they went."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cs_cli.cli import _runtime
from cs_cli.cli._options import AllOpt, FormatOpt, LimitOpt
from cs_cli.cli._output import (
    OutputFormat,
    cut,
    dataclass_rows,
    emit_rows,
    is_terminal,
    message,
    paging_note,
    peek,
    rows_wanted,
)
from cs_cli.cli.outbox import parse_moment

app = typer.Typer(help="Scheduled jobs: their state, and the history of their runs.", no_args_is_help=True)


class LogFormat(StrEnum):
    HUMAN = "human"
    JSON = "json"


def run(
    jobs: Annotated[
        list[str],
        typer.Argument(
            help="`due` (every job whose schedule has come), or job names (see `cs jobs status`).",
            metavar="JOB...",
            show_default=False,
        ),
    ],
    as_of: Annotated[
        dt.datetime | None,
        typer.Option(
            "--as-of",
            parser=parse_moment,
            metavar="TIME",
            help="Run as if it were this time (YYYY-MM-DDTHH:MM UTC, or a date: its end); for replays.",
            show_default="now",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Run even if this slot already ran (recorded as a manual run).")
    ] = False,
    log_format: Annotated[
        LogFormat,
        typer.Option(
            "--log-format", envvar="CS_LOG_FORMAT", help="human lines, or JSON lines for log collectors."
        ),
    ] = LogFormat.HUMAN,
    log_file: Annotated[
        Path | None,
        typer.Option(
            "--log-file", envvar="CS_LOG_FILE", help="Also append every log line here.", dir_okay=False
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log every step on stderr, even when not on a terminal.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Log only warnings and errors on stderr.")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="With `retention` alone: show what it would delete, delete nothing."),
    ] = False,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Run scheduled jobs: `cs run due` from cron every minute, or one job by name.

    Each schedule slot of a job (a day, an hour, five minutes) runs once, even
    when several machines fire it; a job already running elsewhere is skipped
    (exit 0); a job that fails is recorded with its error, the next job still
    runs, and the exit code is 1. At a terminal every step is logged on stderr;
    under cron only warnings and errors are, so cron mails only failures.

    Examples:

      cs run due

      cs run health-refresh

      cs run due --log-format json --log-file /var/log/cs/jobs.log

      cs run retention --dry-run
    """
    import signal
    import sys

    from cs_cli.db.engine import transaction
    from cs_cli.domain import Role
    from cs_cli.errors import BadInput
    from cs_cli.jobs import registry, runner
    from cs_cli.jobs.log import JobLog
    from cs_cli.services.access import require_role

    if "due" in jobs and len(jobs) > 1:
        raise BadInput("`due` runs every job that is due; name jobs or say due, not both")
    if "due" in jobs and force:
        raise BadInput("--force runs named jobs again; it does not go with `due`")
    for name in jobs:
        if name != "due":
            registry.get(name)
    if dry_run:
        if jobs != ["retention"]:
            raise BadInput("--dry-run goes with `cs run retention` alone")
        _retention_preview(as_of, fmt)
        return
    settings = _runtime.STATE.settings()
    registry.schedules(settings)  # a bad job_times is an error before anything runs
    level = "warning" if quiet else "info" if verbose or is_terminal() else "warning"
    handle = _open_log(log_file)
    log = JobLog(fmt=log_format.value, level=level, file=handle)
    # systemd stops a unit with SIGTERM: record the run as stopped, let its lease go.
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    engine = None
    try:
        engine = _runtime.engine()
        with transaction(engine) as session:
            actor = _runtime.resolve(session)
            require_role(actor, Role.ADMIN, doing="running jobs")
        moment = as_of or dt.datetime.now(dt.UTC)
        if jobs == ["due"]:
            outcomes = runner.run_due(engine, actor=actor, settings=settings, moment=moment, log=log)
        else:
            outcomes = runner.run_named(
                engine, jobs, actor=actor, settings=settings, moment=moment, log=log, force=force
            )
    finally:
        signal.signal(signal.SIGTERM, previous)
        if engine is not None:
            engine.dispose()
        if handle is not None:
            handle.close()
    if any(o.result == "failed" for o in outcomes):
        raise typer.Exit(1)


def _retention_preview(as_of: dt.datetime | None, fmt: OutputFormat) -> None:
    """What `cs run retention` would delete now (or at --as-of), kind by kind."""
    from cs_cli.services.retention import Cutoffs, preview

    moment = as_of or dt.datetime.now(dt.UTC)
    with _runtime.session() as (session, actor):
        rows = preview(session, actor, Cutoffs.from_settings(moment, _runtime.STATE.settings()))
    data = [{"kind": k, "older_than": cutoff, "rows": n} for k, cutoff, n in rows]
    if fmt == OutputFormat.TABLE:
        data = [{**d, "older_than": d["older_than"] or "kept (off)"} for d in data]
    emit_rows(data, ["kind", "older_than", "rows"], fmt)
    message(f"cs run retention would delete {sum(n for _, _, n in rows):,} rows; nothing was deleted")


def _open_log(path: Path | None):
    if path is None:
        return None
    from cs_cli.errors import BadInput

    try:
        path.expanduser().parent.mkdir(parents=True, exist_ok=True)
        return path.expanduser().open("a", encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot write the log file {path}: {exc.strerror or exc}") from None


STATUS_COLUMNS = [
    "job",
    "schedule",
    "state",
    "last_started_at",
    "last_seconds",
    "last_result",
    "next_due_at",
    "error",
]
STATUS_HEADERS = {
    "last_started_at": "last run",
    "last_seconds": "took (s)",
    "last_result": "result",
    "next_due_at": "next due",
}


@app.command()
def status(fmt: FormatOpt = OutputFormat.TABLE) -> None:
    """Each job's last run, how long it took, its result and when it is next
    due. Exits 1 when a job is failing, overdue or has never run (for
    monitoring: run it from your monitoring system, or from cron with MAILTO).

    Examples:

      cs jobs status

      cs jobs status --format json
    """
    from cs_cli.jobs.status import status as job_status

    settings = _runtime.STATE.settings()
    now = dt.datetime.now(dt.UTC)
    with _runtime.session() as (session, _actor):
        engine = session.get_bind()
        states = job_status(engine, settings, now=now)
    rows = []
    for state in states:
        row = next(dataclass_rows([state]))
        if fmt == OutputFormat.TABLE:
            row["last_seconds"] = None if state.last_seconds is None else round(state.last_seconds, 1)
            row["next_due_at"] = "now" if state.next_due_at <= now else state.next_due_at
            if state.running_on:
                row["state"] = f"running on {state.running_on}"
            if state.error and len(state.error) > 80:
                row["error"] = state.error[:79] + "…"
        rows.append(row)
    emit_rows(
        rows, STATUS_COLUMNS if fmt != OutputFormat.JSON else list(rows[0]), fmt, headers=STATUS_HEADERS
    )
    alarms = [s for s in states if s.is_alarm]
    if alarms:
        named = ", ".join(f"{s.job} {s.state}" for s in alarms)
        message(f"{'a job needs' if len(alarms) == 1 else f'{len(alarms)} jobs need'} attention: {named}")
        raise typer.Exit(1)


HISTORY_COLUMNS = [
    "id",
    "job",
    "slot",
    "status",
    "attempts",
    "started_at",
    "seconds",
    "host",
    "pid",
    "counts",
    "error",
]


@app.command()
def history(
    job: Annotated[str | None, typer.Argument(help="Only this job.", show_default="every job")] = None,
    limit: LimitOpt = None,
    all_rows: AllOpt = False,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """The latest runs of the jobs (or of one), newest first: slot, result,
    attempts, duration, where it ran, its counts and its error.

    Examples:

      cs jobs history

      cs jobs history health-refresh --limit 5 --format json
    """
    from cs_cli.jobs import ledger, registry

    if job is not None:
        registry.get(job)
    wanted = rows_wanted(fmt, limit, all_rows, page=20)
    with _runtime.session() as (session, _actor):
        runs, more = cut(ledger.history(session.get_bind(), job, limit=peek(wanted)), wanted)
    rows = list(dataclass_rows(runs))
    if fmt != OutputFormat.JSON:
        for row in rows:
            row["seconds"] = None if row["seconds"] is None else round(row["seconds"], 1)
            counts = row["counts"] or {}
            row["counts"] = ", ".join(f"{k} {v}" for k, v in counts.items())
    emit_rows(rows, HISTORY_COLUMNS, fmt)
    paging_note(fmt, offset=0, shown=len(rows), total=len(rows), exact=not more, noun="runs", pageable=False)
