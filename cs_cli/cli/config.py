"""`cs config`: the effective settings and where each came from."""

from __future__ import annotations

import typer

from cs_cli.cli import _runtime
from cs_cli.cli._options import FormatOpt
from cs_cli.cli._output import OutputFormat, emit_rows

app = typer.Typer(help="Show the effective configuration.", no_args_is_help=True)


@app.command()
def show(fmt: FormatOpt = OutputFormat.TABLE) -> None:
    """Print every setting, its value (secrets masked) and where it came from.

    Precedence: command-line flag, then environment (CS_*), then the config
    file (CS_CONFIG, else config.toml in your config directory), then default.
    """
    import datetime as dt

    from cs_cli.channels.email import USUAL_PORTS
    from cs_cli.settings import SPECS, config_file_path, format_duration, mask_url

    settings = _runtime.STATE.settings()
    rows = []
    for spec in SPECS:
        value = getattr(settings, spec.name)
        source = settings.sources[spec.name]
        if spec.secret:
            value = mask_url(value) if spec.name.endswith("_url") else "***"
        elif isinstance(value, dt.timedelta) or (value is None and spec.name.startswith("retention_")):
            # In the form the settings take: 7d, not "7 days, 0:00:00".
            value = format_duration(value)
        elif spec.name == "smtp_port" and not value:
            value = USUAL_PORTS[settings.smtp_security]
            source = f"{source} (the usual port for smtp_security {settings.smtp_security})"
        rows.append({"setting": spec.name, "value": value, "source": source, "env": spec.env})
    path, _ = config_file_path(__import__("os").environ)
    rows.append(
        {
            "setting": "config_file",
            "value": str(path),
            "source": "read" if settings.config_file else "not present",
            "env": "CS_CONFIG",
        }
    )
    emit_rows(rows, ["setting", "value", "source", "env"], fmt)
