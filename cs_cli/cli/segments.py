"""`cs segments`."""

from __future__ import annotations

import typer

app = typer.Typer(help="Segments: rule-defined and hand-picked groups of customers.", no_args_is_help=True)
