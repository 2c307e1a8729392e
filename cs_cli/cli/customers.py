"""`cs customers`: list and inspect the book of business."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer

from cs_cli.cli import _runtime
from cs_cli.cli._options import (
    AllOpt,
    AsOfOpt,
    ColumnsOpt,
    FormatOpt,
    LimitOpt,
    OffsetOpt,
    pick_columns,
    today,
)
from cs_cli.cli._output import (
    OutputFormat,
    cell,
    dataclass_rows,
    emit_object,
    emit_rows,
    paging_note,
    plain,
    rows_wanted,
    text_cell,
)
from cs_cli.enums import CustomerStatus

app = typer.Typer(help="List and inspect customers.", no_args_is_help=True)

COLUMNS = [
    "external_id",
    "name",
    "arr",
    "plan",
    "seats",
    "status",
    "renewal_date",
    "csm_email",
    "health_score",
    "health_status",
]
# The table's columns, most important first: at 80 columns the last ones give way.
TABLE_COLUMNS = [
    "external_id",
    "name",
    "health_score",
    "health_status",
    "arr",
    "renewal_date",
    "status",
    "plan",
    "seats",
    "csm_email",
]


def _money(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise typer.BadParameter(f"'{text}' is not an amount") from None


@app.command("list")
def list_(
    csm: Annotated[str | None, typer.Option(help="Only this CSM's customers (email or login).")] = None,
    status: Annotated[CustomerStatus | None, typer.Option(help="Only active or churned customers.")] = None,
    renewal_within: Annotated[
        int | None, typer.Option(help="Only customers renewing within this many days.", metavar="DAYS")
    ] = None,
    min_arr: Annotated[Decimal | None, typer.Option(help="Only ARR at least this.", parser=_money)] = None,
    max_arr: Annotated[Decimal | None, typer.Option(help="Only ARR at most this.", parser=_money)] = None,
    search: Annotated[
        str | None, typer.Option("--search", "-s", help="Name or external id contains.")
    ] = None,
    sort: Annotated[
        str, typer.Option(help="name, external_id, arr, renewal, health or seats; prefix - to reverse.")
    ] = "name",
    limit: LimitOpt = None,
    offset: OffsetOpt = 0,
    all_rows: AllOpt = False,
    columns: ColumnsOpt = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """List the customers you can see: a CSM their own, a manager their team's, an admin all.

    Examples:

      cs customers list --renewal-within 90 --sort -arr

      cs customers list --csm ana@example.com --format csv --all > ana.csv
    """
    from cs_cli.services.customers import CustomerFilter, list_customers

    pick_columns(columns, COLUMNS)  # a bad name fails before the query
    flt = CustomerFilter(
        csm=csm,
        status=status,
        renewal_within_days=renewal_within,
        min_arr=min_arr,
        max_arr=max_arr,
        search=search,
    )
    with _runtime.session() as (session, actor):
        page = list_customers(
            session,
            actor,
            flt,
            as_of=today(as_of),
            sort=sort,
            offset=offset,
            limit=rows_wanted(fmt, limit, all_rows),
        )
    chosen = pick_columns(columns, COLUMNS)
    shown = TABLE_COLUMNS if fmt == OutputFormat.TABLE else COLUMNS
    emit_rows(
        dataclass_rows(page.rows),
        shown,
        fmt,
        headers={"health_score": "health"},
        chosen=chosen,
        pickable=True,
    )
    paging_note(fmt, offset=page.offset, shown=len(page.rows), total=page.total, noun="customers")


@app.command()
def show(
    customer: Annotated[str, typer.Argument(help="External id (or numeric id) of the customer.")],
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Show one customer: account, health, contacts and activity."""
    from cs_cli.services.customers import customer_detail

    with _runtime.session() as (session, actor):
        detail = customer_detail(session, actor, customer)
    if fmt != OutputFormat.TABLE:
        emit_object(plain(detail), fmt) if fmt == OutputFormat.JSON else emit_object(_flat(detail), fmt)
        return
    _render(detail)


def _flat(detail) -> dict:
    flat = {**plain(detail.customer)}
    for key in (
        "industry",
        "region",
        "contract_start",
        "churned_at",
        "last_event_at",
        "open_tasks",
        "latest_nps",
    ):
        flat[key] = getattr(detail, key)
    flat.update({f"count_{k}": v for k, v in detail.counts.items()})
    flat.update({f"attributes.{k}": v for k, v in detail.attributes.items()})
    return flat


def _render(detail) -> None:
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    from cs_cli.cli._output import stdout_console

    c = detail.customer
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="dim")
    facts.add_column()
    for label, value in (
        ("external id", c.external_id),
        ("status", c.status),
        ("ARR", c.arr),
        ("plan", c.plan),
        ("seats", c.seats),
        ("industry", detail.industry),
        ("region", detail.region),
        ("contract start", detail.contract_start),
        ("renewal date", c.renewal_date),
        ("churned at", detail.churned_at),
        ("CSM", c.csm_email),
        (
            "health",
            f"{c.health_score} ({cell(c.health_status)})" if c.health_score is not None else "not scored",
        ),
        ("last activity", detail.last_event_at),
        ("latest NPS", detail.latest_nps),
        ("open tasks", detail.open_tasks),
    ):
        facts.add_row(label, text_cell(value or "-"))

    activity = Table.grid(padding=(0, 2))
    activity.add_column(style="dim")
    activity.add_column(justify="right")
    for key, value in detail.counts.items():
        activity.add_row(key.replace("_", " "), f"{value:,}")

    contacts = Table(show_edge=False, header_style="bold", pad_edge=False)
    for column in ("name", "email", "title", "role", "flags"):
        contacts.add_column(column)
    for contact in detail.contacts:
        flags = [
            flag
            for flag, on in (
                ("champion", contact.is_champion),
                ("exec sponsor", contact.is_exec_sponsor),
                (f"left {cell(contact.left_at)[:10]}", contact.left_at is not None),
            )
            if on
        ]
        contacts.add_row(
            *(text_cell(v) for v in (contact.name, contact.email, contact.title, contact.role)),
            ", ".join(flags),
        )

    parts = [Panel(facts, title=Text(c.name, style="bold"), title_align="left")]
    parts.append(Panel(activity, title="activity", title_align="left"))
    if detail.attributes:
        attrs = Table.grid(padding=(0, 2))
        attrs.add_column(style="dim")
        attrs.add_column()
        for key, value in sorted(detail.attributes.items()):
            attrs.add_row(text_cell(key), text_cell(value))
        parts.append(Panel(attrs, title="attributes", title_align="left"))
    parts.append(Panel(contacts if detail.contacts else "no contacts", title="contacts", title_align="left"))
    stdout_console(max_width=100).print(Group(*parts))
