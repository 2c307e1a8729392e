"""The root `cs` command: global options, the command groups, and the one
error boundary that turns errors into a single line and an exit code."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Collection
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from cs_cli import __version__
from cs_cli.cli import _complete, _help, _runtime

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


_app = typer.Typer(
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


@_app.callback()
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


def _part(module: str, attribute: str = "app", key: str | None = None) -> Callable[[], Any]:
    """What loads one group or command: its module is imported only then."""

    def load() -> Any:
        found = getattr(importlib.import_module(f"cs_cli.cli.{module}"), attribute)
        return found[key] if key is not None else found

    return load


# The command groups and the commands of the root, in the order help lists
# them. A command line imports only the module of the one it runs.
GROUPS: dict[str, Callable[[], Any]] = {
    "customers": _part("customers"),
    "health": _part("health"),
    **{name: _part("predictions", "APPS", name) for name in ("churn", "expansion", "nps")},
    "segments": _part("segments"),
    "playbooks": _part("playbooks"),
    "journeys": _part("journeys"),
    "tasks": _part("tasks"),
    "touchpoints": _part("touchpoints"),
    "alerts": _part("alerts"),
    "analytics": _part("analytics"),
    "report": _part("report"),
    "automation": _part("automation"),
    "outbox": _part("outbox"),
    "events": _part("events"),
    "users": _part("users"),
    "audit": _part("audit"),
    "jobs": _part("jobs"),
    "db": _part("db"),
    "config": _part("config"),
    "board": _part("board"),
}
COMMANDS: dict[str, Callable[[], Any]] = {
    "import": _part("data", "import_"),
    "export": _part("data", "export"),
    "demo": _part("demo", "demo"),
    "recalc": _part("recalc", "recalc"),
    "enroll": _part("journeys", "enroll"),
    "run": _part("jobs", "run"),
    "calendar": _part("tasks", "calendar"),
}


def _register(names: Collection[str] | None = None) -> typer.Typer:
    """Add the groups and commands named (all of them with None) to the
    root, once each."""
    groups = {g.name for g in _app.registered_groups}
    commands = {c.name for c in _app.registered_commands}
    for name, load in GROUPS.items():
        if (names is None or name in names) and name not in groups:
            _app.add_typer(load(), name=name)
    for name, load in COMMANDS.items():
        if (names is None or name in names) and name not in commands:
            _app.command(name)(load())
    # The listed order, whatever order they were added in.
    _app.registered_groups.sort(key=lambda g: list(GROUPS).index(g.name))
    _app.registered_commands.sort(key=lambda c: list(COMMANDS).index(c.name))
    return _app


def __getattr__(name: str) -> Any:
    # `app`: the whole tree, for whoever imports it (tests, documentation).
    if name == "app":
        globals()["app"] = _register()
        return globals()["app"]
    raise AttributeError(name)


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
    root_app = _only_what_runs(sys.argv[1:])
    try:
        root_app(prog_name="cs")
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        sys.exit(130)
    finally:
        gc.freeze()


# Root options that take a value (the word after them is not a command).
_VALUED = ("--database-url", "--user", "--config")


def _only_what_runs(argv: list[str]) -> typer.Typer:
    """The root with only the command group (or command) this process runs.

    Typer builds the whole tree of commands, every option of every command,
    before it runs one: a tenth of a second, most of it for commands that will
    not run, and importing every command's module costs as much again. The
    first word that is not a root option names what runs; anything else (no
    command, an unknown one, shell completion) gets the whole tree, so help
    and errors list every command as before."""
    globals()["app"] = _app
    if any(name.endswith("_COMPLETE") and name.startswith("_") for name in os.environ):
        return _register()
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
    if first is None or (first not in GROUPS and first not in COMMANDS):
        return _register()
    _register([first])
    _app.registered_groups = [g for g in _app.registered_groups if g.name == first]
    _app.registered_commands = [c for c in _app.registered_commands if c.name == first]
    return _app


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
