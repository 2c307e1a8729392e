"""The root `cs` command: global options, the command groups, and the one
error boundary that turns errors into a single line and an exit code."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from typer.core import TyperGroup

from cs_cli import __version__
from cs_cli.cli import _complete, _help, _runtime
from cs_cli.cli import alerts as alerts_cmd
from cs_cli.cli import analytics as analytics_cmd
from cs_cli.cli import audit as audit_cmd
from cs_cli.cli import automation as automation_cmd
from cs_cli.cli import board as board_cmd
from cs_cli.cli import config as config_cmd
from cs_cli.cli import customers as customers_cmd
from cs_cli.cli import data as data_cmd
from cs_cli.cli import db as db_cmd
from cs_cli.cli import demo as demo_cmd
from cs_cli.cli import events as events_cmd
from cs_cli.cli import health as health_cmd
from cs_cli.cli import jobs as jobs_cmd
from cs_cli.cli import journeys as journeys_cmd
from cs_cli.cli import outbox as outbox_cmd
from cs_cli.cli import playbooks as playbooks_cmd
from cs_cli.cli import predictions as predictions_cmd
from cs_cli.cli import report as report_cmd
from cs_cli.cli import segments as segments_cmd
from cs_cli.cli import tasks as tasks_cmd
from cs_cli.cli import touchpoints as touchpoints_cmd
from cs_cli.cli import users as users_cmd

HELP = """\
Customer-success operations for enterprise and VIP accounts.

Start with [bold]cs demo[/] to load a demo book of business into the embedded
SQLite database, then [bold]cs customers list[/]. Point cs at PostgreSQL with
CS_DATABASE_URL=postgresql+psycopg://user@host/db and run [bold]cs db upgrade[/].

Exit codes: 0 ok, 1 failure, 2 bad usage or input, 3 not permitted, 4 not found.
"""


class _Boundary(TyperGroup):
    """The one error boundary: a CsError becomes one line on stderr and its
    exit code; anything else is a bug, also said in one line. Tracebacks only
    with --debug, and never with locals (they can hold a database URL)."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """Usage errors too become one line (and a hint), not a framed box."""
        import shlex

        _runtime.COMMAND_LINE = shlex.join(["cs", *map(str, sys.argv[1:] if args is None else args)])
        _help.install()
        _help.tidy(self)
        _complete.attach(self)
        if self.help:
            self.help = _help.reflow(self.help)
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except (typer.Abort, EOFError):
            sys.stderr.write("error: aborted\n")
            sys.exit(1)
        except Exception as exc:
            # Typer's own errors (bad option, missing argument, bad value)
            # carry a message and an exit code; anything else is a bug.
            if not (hasattr(exc, "format_message") and hasattr(exc, "exit_code")):
                raise
            text = " ".join(exc.format_message().split()).replace("Value error, ", "")
            if text:  # empty when a group was called without a command: its help is shown
                ctx = getattr(exc, "ctx", None)
                command = ctx.command_path if ctx is not None else "cs"
                sys.stderr.write(f"error: {text}\nhint: see '{command} --help'\n")
            sys.exit(exc.exit_code)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx):
        from cs_cli.errors import CsError

        try:
            return super().invoke(ctx)
        except CsError as exc:
            if _runtime.STATE.debug:
                raise
            _fail(exc.message, exc.hint, exc.exit_code)
        except (typer.Exit, typer.Abort):
            raise
        except BrokenPipeError:
            # The reader went away (`cs ... | head`): stop quietly, as Unix tools do.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(1) from None
        except Exception as exc:
            if _runtime.STATE.debug or type(exc).__module__.startswith("typer"):
                raise
            # One line: database errors carry the statement and its
            # parameters (customer data) on the lines after the first.
            first = (str(exc).strip().splitlines() or [""])[0]
            if _is_bad_value(exc):
                _fail(f"the database refused a value: {first}", "look for odd characters in what you gave", 2)
            _fail(f"unexpected {type(exc).__name__}: {first}", "run again with --debug for a traceback", 1)


app = typer.Typer(
    name="cs",
    cls=_Boundary,
    help=HELP,
    rich_markup_mode="rich",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cs {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            envvar="CS_DATABASE_URL",
            help="Database URL (default: an SQLite file in your data directory).",
            show_default=False,
        ),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option(
            "--user", envvar="CS_USER", help="Act as this user (login or email).", show_default="login name"
        ),
    ] = None,
    config: Annotated[
        str | None,
        typer.Option("--config", envvar="CS_CONFIG", help="Config file (TOML).", show_default=False),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    if config:
        os.environ["CS_CONFIG"] = config
    # The flags go to settings, which also reads the environment; passing
    # env-derived values as flags would misreport their source.
    flags = {}
    for name, value in (("database_url", database_url), ("user", user)):
        source = ctx.get_parameter_source(name)
        if value is not None and source is not None and source.name == "COMMANDLINE":
            flags[name] = value
    _runtime.reset(flags, debug)
    _debug_log(debug)


def _debug_log(on: bool) -> None:
    """With --debug, what is kept out of messages (why a delivery failed) is
    logged on stderr; without, nothing is (a command run before in the same
    process, as in tests, leaves no handler behind)."""
    if not on and "logging" not in sys.modules:
        return
    import logging

    class CurrentStderr(logging.StreamHandler):
        def emit(self, record: logging.LogRecord) -> None:
            self.stream = sys.stderr  # whatever stderr is now, not at set-up
            super().emit(record)

    logger = logging.getLogger("cs_cli")
    for old in [h for h in logger.handlers if h.get_name() == "cs-debug"]:
        logger.removeHandler(old)
    logger.setLevel(logging.DEBUG if on else logging.NOTSET)
    if on:
        handler = CurrentStderr()
        handler.set_name("cs-debug")
        handler.setFormatter(logging.Formatter("debug: %(name)s: %(message)s"))
        logger.addHandler(handler)


app.add_typer(customers_cmd.app, name="customers")
app.add_typer(health_cmd.app, name="health")
for _name, _app in predictions_cmd.APPS.items():
    app.add_typer(_app, name=_name)
app.add_typer(segments_cmd.app, name="segments")
app.add_typer(playbooks_cmd.app, name="playbooks")
app.add_typer(journeys_cmd.app, name="journeys")
app.add_typer(tasks_cmd.app, name="tasks")
app.add_typer(touchpoints_cmd.app, name="touchpoints")
app.add_typer(alerts_cmd.app, name="alerts")
app.add_typer(analytics_cmd.app, name="analytics")
app.add_typer(report_cmd.app, name="report")
app.add_typer(automation_cmd.app, name="automation")
app.add_typer(outbox_cmd.app, name="outbox")
app.add_typer(events_cmd.app, name="events")
app.add_typer(users_cmd.app, name="users")
app.add_typer(audit_cmd.app, name="audit")
app.add_typer(jobs_cmd.app, name="jobs")
app.add_typer(db_cmd.app, name="db")
app.add_typer(config_cmd.app, name="config")
app.add_typer(board_cmd.app, name="board")
app.command("import")(data_cmd.import_)
app.command("export")(data_cmd.export)
app.command("demo")(demo_cmd.demo)
app.command("recalc")(health_cmd.recalc)
app.command("enroll")(journeys_cmd.enroll)
app.command("run")(jobs_cmd.run)
app.command("calendar")(tasks_cmd.calendar)


def main() -> None:
    """Entry point of the `cs` console script."""
    import gc

    # Start-up builds only what lives as long as the process (modules, the
    # command tree, SQLAlchemy and the models): collecting garbage while it is
    # built, and once more at exit, is a fifth of a quick command's time.
    # Collection comes back on when the command opens its database
    # (_runtime.engine), with start-up's objects frozen out of its sight.
    gc.disable()
    _runtime.collect_garbage_later()
    _only_what_runs(sys.argv[1:])
    try:
        app(prog_name="cs")
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        sys.exit(130)
    finally:
        gc.freeze()


# Root options that take a value (the word after them is not a command).
_VALUED = ("--database-url", "--user", "--config")


def _only_what_runs(argv: list[str]) -> None:
    """Keep only the command group (or command) this process runs.

    Typer builds the whole tree of commands, every option of every command,
    before it runs one: a tenth of a second, most of it for commands that will
    not run. The first word that is not a root option names what runs;
    anything else (no command, an unknown one, shell completion) keeps the
    whole tree, so help and errors list every command as before."""
    if any(name.endswith("_COMPLETE") and name.startswith("_") for name in os.environ):
        return
    words = iter(argv)
    first = None
    for word in words:
        if word in _VALUED:
            next(words, None)
        elif word.startswith("-"):
            continue
        else:
            first = word
            break
    if first is None:
        return
    groups = [g for g in app.registered_groups if g.name == first]
    commands = [c for c in app.registered_commands if c.name == first]
    if groups or commands:
        app.registered_groups = groups
        app.registered_commands = commands


def _is_bad_value(exc: Exception) -> bool:
    """A value the database cannot store (a NUL in text, a lone surrogate):
    bad input, not a bug."""
    if isinstance(exc, UnicodeEncodeError):
        return True
    if "sqlalchemy" not in sys.modules:
        return False
    from sqlalchemy.exc import DataError

    return isinstance(exc, DataError)


def _fail(text: str, hint: str | None, code: int):
    sys.stderr.write(f"error: {text}\n")
    if hint:
        sys.stderr.write(f"hint: {hint}\n")
    raise typer.Exit(code)
