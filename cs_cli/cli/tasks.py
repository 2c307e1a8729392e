"""`cs tasks`."""

from __future__ import annotations

import typer

app = typer.Typer(help="CS tasks: the work on your plate, from the command line.", no_args_is_help=True)
