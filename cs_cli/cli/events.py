"""`cs events`: the domain event log that journeys, playbooks and automation
act on; other systems add their own events here."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from cs_cli.cli import _runtime
from cs_cli.cli._options import AllOpt, FormatOpt, LimitOpt, parse_date
from cs_cli.cli._output import (
    OutputFormat,
    cut,
    dataclass_rows,
    emit_rows,
    message,
    paging_note,
    peek,
    rows_wanted,
)

app = typer.Typer(
    help="""The domain event log: what happened to customers (segment.entered,
task.completed, health.status_dropped, health.below_threshold, ...). Playbooks, journeys and
automation act on it; `cs events emit` adds events from other systems.""",
    no_args_is_help=True,
)


@app.command()
def emit(
    event_type: Annotated[
        str, typer.Argument(help="Event type: lower-case words joined by dots.", metavar="TYPE")
    ],
    customer: Annotated[
        str, typer.Option("--customer", "-c", help="The customer it happened to.", metavar="ID")
    ],
    data: Annotated[
        str | None, typer.Option(help="Details as a JSON object.", metavar="JSON", show_default=False)
    ] = None,
    new_type: Annotated[
        bool,
        typer.Option("--new-type", help="Record a type nothing knows yet (a type of your own)."),
    ] = False,
) -> None:
    """Record an event from another system about a customer (admins). Event
    triggers of playbooks, journeys and automation act on it.

    The type must be one cs knows (in the log already, or named by an
    automation rule, a journey or a playbook trigger), so that a typo is
    caught; --new-type records a type of your own the first time.

    Examples:

      cs events emit champion.left -c C-00107 --data '{"name": "Dana Fox"}'

      cs events emit invoice.paid_late -c C-00012 --data '{"days": 45}' --new-type
    """
    from cs_cli.services.automation.config import configured_rules
    from cs_cli.services.events import emit as emit_event
    from cs_cli.services.events import known_types
    from cs_cli.specs.documents import load_json_text

    document = load_json_text(data, "--data") if data is not None else None
    with _runtime.session() as (session, actor):
        known = None
        if not new_type:
            rules = configured_rules(_runtime.STATE.settings().automation_rules).spec.rules
            known = known_types(session, {t for rule in rules if rule.enabled for t in rule.events})
        row = emit_event(
            session,
            actor,
            event_type,
            customer=customer,
            data=document,
            now=dt.datetime.now(dt.UTC),
            known=known,
        )
    message(f"recorded {row.event_type} for {row.external_id} (event {row.id})")


@app.command("list")
def list_(
    event_type: Annotated[
        str | None, typer.Option("--type", help="Only this type; 'segment.*' for a family.", metavar="TYPE")
    ] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", "-c", help="Only this customer.", metavar="ID")
    ] = None,
    since: Annotated[
        dt.date | None, typer.Option(parser=parse_date, metavar="DATE", help="Only on or after this day.")
    ] = None,
    limit: LimitOpt = None,
    all_rows: AllOpt = False,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """List the latest events of the customers you can see, newest first.

    Example: cs events list --type 'segment.*' --since 2026-11-01
    """
    from cs_cli.services.events import list_events

    moment = None if since is None else dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)
    wanted = rows_wanted(fmt, limit, all_rows)
    with _runtime.session() as (session, actor):
        fetched = list_events(
            session, actor, event_type=event_type, customer=customer, since=moment, limit=peek(wanted)
        )
    rows, more = cut(fetched, wanted)
    emit_rows(
        dataclass_rows(rows),
        ["id", "occurred_at", "event_type", "external_id", "data", "actor_name"],
        fmt,
        headers={"external_id": "customer", "actor_name": "by", "event_type": "type"},
    )
    paging_note(
        fmt, offset=0, shown=len(rows), total=len(rows), exact=not more, noun="events", pageable=False
    )
