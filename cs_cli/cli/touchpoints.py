"""`cs touchpoints`."""

from __future__ import annotations

import typer

app = typer.Typer(help="Touchpoints: every call, meeting and email with a customer.", no_args_is_help=True)
