"""`cs outbox`: deliver the messages journeys put in the outbox, list them,
show one, retry one."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from cs_cli.cli import _runtime
from cs_cli.cli._options import AllOpt, FormatOpt, LimitOpt, OffsetOpt
from cs_cli.cli._output import (
    OutputFormat,
    dataclass_rows,
    emit_object,
    emit_rows,
    message,
    paging_note,
    plain,
    rows_wanted,
    text_cell,
)
from cs_cli.enums import OutboxChannel, OutboxStatus

app = typer.Typer(
    help="The outbox: every email, webhook and in-app message, delivered with retries.",
    no_args_is_help=True,
)


def parse_moment(text: str) -> dt.datetime:
    """An ISO date-time (UTC unless it says otherwise), or a date (its last second)."""
    from cs_cli.cli._options import in_range

    try:
        if len(text.strip()) == 10:
            day = in_range(dt.date.fromisoformat(text.strip()), text)
            return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=dt.UTC)
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(f"'{text}' is not a time (use YYYY-MM-DDTHH:MM, or YYYY-MM-DD)") from None
    moment = in_range(moment, text)
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


MessageIdArg = Annotated[int, typer.Argument(help="Id of the outbox message (see `cs outbox list`).")]


@app.command()
def deliver(
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit", "-n", min=1, help="Send at most this many messages.", show_default="every one due"
        ),
    ] = None,
    as_of: Annotated[
        dt.datetime | None,
        typer.Option(
            "--as-of",
            parser=parse_moment,
            metavar="TIME",
            help="Deliver what is due at this time (YYYY-MM-DDTHH:MM UTC, or a date: its end).",
            show_default="now",
        ),
    ] = None,
    batch: Annotated[
        int,
        typer.Option(
            min=1, max=10_000, help="Messages claimed, sent and committed together (one transaction)."
        ),
    ] = 100,
) -> None:
    """Send every message that is due (email, webhooks, in-app messages).

    Email goes over SMTP, webhooks and in-app messages over HTTP. Quiet
    hours and the email cap hold messages back until they may go; a failure
    is retried later with growing delays, and a message is dead after the
    last attempt (or at once when no retry can help, e.g. a 404). Several
    deliverers may run at once on PostgreSQL. Webhooks and in-app messages go
    only to public addresses unless outbound_allow (CS_OUTBOUND_ALLOW) admits
    others; a failure says only "could not deliver to HOST:PORT" (--debug
    logs why).
    Prints one line: sent, failed, held, dead. Run it from cron every minute.

    Examples:

      cs outbox deliver

      cs outbox deliver --limit 500

      CS_SMTP_HOST=mail.example.com CS_SMTP_SECURITY=starttls CS_SMTP_USER=cs cs outbox deliver
    """
    from cs_cli.db.engine import transaction
    from cs_cli.domain import Role
    from cs_cli.services.access import require_role

    settings = _runtime.STATE.settings()
    engine = _runtime.engine()
    try:
        with transaction(engine) as session:
            actor = _runtime.resolve(session)
            require_role(actor, Role.ADMIN, doing="delivering the outbox")
        report = deliver_with_settings(engine, settings, as_of=as_of, limit=limit, batch=batch)
    finally:
        engine.dispose()
    message(f"sent {report.sent}, failed {report.failed}, held {report.held}, dead {report.dead}")
    for reason, count in list(report.reasons.items())[:5]:
        message(f"  {count} x {reason}")


def deliver_with_settings(
    engine, settings, *, as_of: dt.datetime | None, limit: int | None = None, batch: int = 100
):
    """Deliver what is due through the channels the settings configure;
    `as_of` fixes the clock (replays and tests), else it runs in real time."""
    from cs_cli.services.outbox.config import deliver_configured

    return deliver_configured(
        engine,
        settings,
        now=as_of or dt.datetime.now(dt.UTC),
        clock=None if as_of else (lambda: dt.datetime.now(dt.UTC)),
        limit=limit,
        batch=batch,
    )


LIST_COLUMNS = ["id", "channel", "status", "recipient", "subject", "customer", "attempts", "next", "note"]
ALL_COLUMNS = [
    "id",
    "channel",
    "status",
    "recipient",
    "subject",
    "customer",
    "attempts",
    "next_attempt_at",
    "sent_at",
    "last_error",
    "held_reason",
    "idempotency_key",
    "created_at",
]


@app.command("list")
def list_(
    status: Annotated[OutboxStatus | None, typer.Option(help="Only messages with this status.")] = None,
    channel: Annotated[OutboxChannel | None, typer.Option(help="Only this channel.")] = None,
    customer: Annotated[
        str | None, typer.Option(help="Only messages about this customer (external id).", metavar="ID")
    ] = None,
    limit: LimitOpt = None,
    offset: OffsetOpt = 0,
    all_rows: AllOpt = False,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """List outbox messages, newest first.

    The table's note is why a held message waits or the last error; json and
    csv carry every field.

    Examples:

      cs outbox list --status failed

      cs outbox list --channel webhook --customer C-00107 --format json
    """
    from cs_cli.services.outbox.views import list_messages

    with _runtime.session() as (session, actor):
        page = list_messages(
            session,
            actor,
            status=status,
            channel=channel,
            customer=customer,
            offset=offset,
            limit=rows_wanted(fmt, limit, all_rows),
        )
    if fmt != OutputFormat.TABLE:
        emit_rows(dataclass_rows(page.rows), ALL_COLUMNS, fmt)
        paging_note(fmt, offset=page.offset, shown=len(page.rows), total=page.total, noun="messages")
        return
    rows = (
        {
            **row,
            "next": row["next_attempt_at"] if row["status"] in _WAITING else None,
            "note": row["held_reason"] if row["status"] == OutboxStatus.HELD else row["last_error"],
        }
        for row in dataclass_rows(page.rows)
    )
    emit_rows(rows, LIST_COLUMNS, fmt, headers={"next": "next attempt"})
    paging_note(fmt, offset=page.offset, shown=len(page.rows), total=page.total, noun="messages")


_WAITING = (OutboxStatus.PENDING, OutboxStatus.FAILED, OutboxStatus.HELD)


@app.command()
def show(message_id: MessageIdArg, fmt: FormatOpt = OutputFormat.TABLE) -> None:
    """Show one message: where it goes, its status, and what it carries.

    The status comes with the attempts made, the next one, and the last
    error; the payload is the email's parts or the webhook's body.

    Example: cs outbox show 42
    """
    from cs_cli.services.outbox.views import message_detail

    with _runtime.session() as (session, actor):
        detail = message_detail(session, actor, message_id)
    if fmt != OutputFormat.TABLE:
        emit_object(plain(detail), fmt)
        return
    import json

    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    from cs_cli.cli._output import stdout_console

    head = Table.grid(padding=(0, 2))
    head.add_column(style="dim")
    head.add_column()
    customer = f"{detail.customer_name} ({detail.customer})" if detail.customer else None
    for label, value in (
        ("status", detail.status),
        ("channel", detail.channel),
        ("recipient", detail.recipient),
        ("subject", detail.subject),
        ("customer", customer),
        ("contact", detail.contact),
        ("attempts", detail.attempts),
        ("next attempt", detail.next_attempt_at if detail.status in _WAITING else None),
        ("held", detail.held_reason),
        ("last error", detail.last_error),
        ("sent", detail.sent_at),
        ("created", detail.created_at),
        ("key", detail.idempotency_key),
    ):
        if value is not None and value != "":
            head.add_row(label, text_cell(value))
    body = Text(json.dumps(detail.payload, indent=2, ensure_ascii=False))
    title = f"[bold]outbox message {detail.id}[/]"
    stdout_console(max_width=130).print(
        Group(Panel(head, title=title, title_align="left"), Panel(body, title="payload", title_align="left"))
    )


@app.command()
def retry(message_id: MessageIdArg) -> None:
    """Make a failed, dead or held message due again now.

    It gets a fresh set of attempts; the next `cs outbox deliver` sends it.
    A sent message is not sent again.

    Example: cs outbox retry 42 && cs outbox deliver
    """
    from cs_cli.services.outbox.views import message_detail, retry_message

    now = dt.datetime.now(dt.UTC)
    with _runtime.session() as (session, actor):
        before = message_detail(session, actor, message_id)
        row = retry_message(session, actor, message_id, now=now)
    message(
        f"outbox message {row.id} ({row.channel.value} to {row.recipient}) is due again"
        f" (was {before.status.value} after {before.attempts} attempt{'' if before.attempts == 1 else 's'})"
    )
