"""What `cs playbooks` and `cs journeys` share: reading a folder of YAML
specs with every error printed, and printing the plan of a load."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from cs_cli.cli._output import OutputFormat, dataclass_rows, emit_rows, message

KINDS = ("added", "changed", "deactivated", "unchanged")
_MARKS = {"added": "+", "changed": "~", "deactivated": "-"}


def read_specs(folder: Path, load_folder: Callable[[Path], tuple[list, list]], noun: str) -> list:
    """The spec files at `folder`, each error printed as file:line:col on
    stderr; BadInput (exit 2) if there is any, or no file at all."""
    from cs_cli.errors import BadInput

    files, errors = load_folder(folder)
    for error in errors:
        sys.stderr.write(f"{error.message}\n")
    if errors:
        count = len({getattr(e, "path", None) for e in errors})
        raise BadInput(f"{count} {noun} file{'s' if count != 1 else ''} in {folder} with errors")
    if not files:
        raise BadInput(f"{folder}: no {noun} files (*.yaml) there")
    return files


def print_plan(
    changes: Sequence[Any],
    fmt: OutputFormat,
    columns: list[str],
    *,
    noun: str,
    files: int,
    folder: Path,
    dry_run: bool,
    label: Callable[[Any], str] = lambda change: change.name,
) -> None:
    """The changes of a load: +/~/- lines with a diff each (or rows for
    scripts), then a one-line summary on stderr."""
    if fmt != OutputFormat.TABLE:
        emit_rows(dataclass_rows(changes), columns, fmt)
    else:
        for change in changes:
            if change.kind == "unchanged":
                continue
            sys.stdout.write(f"{_MARKS[change.kind]} {change.kind} {change.key} ({label(change)})\n")
            sys.stdout.write(change.diff)
    counts = {kind: sum(1 for c in changes if c.kind == kind) for kind in KINDS}
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n) or "nothing"
    verb = "would load" if dry_run else "loaded"
    message(f"{verb} {files} {noun}{'s' if files != 1 else ''} from {folder}: {summary}")
