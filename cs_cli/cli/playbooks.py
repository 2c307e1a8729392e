"""`cs playbooks`."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Playbooks: reviewed YAML procedures that turn signals into tasks.", no_args_is_help=True
)
