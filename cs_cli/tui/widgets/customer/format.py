"""Words, numbers and styles the customer-facing screens (Customer 360,
risk alerts, dashboard) share. Styles name theme variables only, so light
and dark terminals both read well; DataTable cells (Rich text) get the
variables resolved against the running theme."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from rich.text import Text
from textual.app import App
from textual.content import Content

from cs_cli.domain import AlertSeverity, HealthStatus

STATUS_STYLE = {
    HealthStatus.HEALTHY: "$success",
    HealthStatus.AT_RISK: "$warning",
    HealthStatus.CRITICAL: "$error bold",
    HealthStatus.CHURNED: "$text-muted",
    # Not judged by the score: shown, never in a warning colour.
    HealthStatus.ONBOARDING: "$accent",
    HealthStatus.INSUFFICIENT_DATA: "$text-muted",
}
SEVERITY_STYLE = {
    AlertSeverity.CRITICAL: "$error bold",
    AlertSeverity.WARNING: "$warning",
    AlertSeverity.INFO: "$text-muted",
}
SEVERITY_MARK = {AlertSeverity.CRITICAL: "▲", AlertSeverity.WARNING: "●", AlertSeverity.INFO: "·"}


def status_word(status: HealthStatus | str | None) -> str:
    return (
        str(status.value if isinstance(status, HealthStatus) else status).replace("_", " ") if status else "-"
    )


def status_content(status: HealthStatus | None, score: int | None = None) -> Content:
    """'72 at risk' in the status's colour; 'not scored' when there is no score."""
    if score is None and status is None:
        return Content.styled("not scored", "$text-muted")
    text = " ".join(part for part in (str(score) if score is not None else "", status_word(status)) if part)
    return Content.styled(text, STATUS_STYLE.get(status, "") if status else "")


def gauge(score: int, status: HealthStatus | None, width: int = 24) -> Content:
    """A bar of `width` cells filled to the score, in the status's colour."""
    filled = round(max(0, min(100, score)) / 100 * width)
    style = STATUS_STYLE.get(status, "$primary") if status else "$primary"
    return Content.assemble(("█" * filled, style), ("░" * (width - filled), "$text-muted"))


def money(amount: Decimal | float | None) -> str:
    """$1.2M, $340K, $950; '-' for none."""
    if amount is None:
        return "-"
    value = float(amount)
    for size, unit in ((1_000_000, "M"), (1_000, "K")):
        if abs(value) >= size:
            return f"${value / size:.1f}{unit}".replace(".0" + unit, unit)
    return f"${value:,.0f}"


def ago(when: dt.datetime, now: dt.datetime) -> str:
    """How long before `now`: 5m, 3h, 2d ago; the date beyond two weeks."""
    seconds = (now - when).total_seconds()
    if seconds < 0:
        return when.strftime("%Y-%m-%d")
    if seconds < 3600:
        return f"{max(1, int(seconds // 60))}m ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h ago"
    if seconds < 14 * 86400:
        return f"{int(seconds // 86400)}d ago"
    return when.strftime("%Y-%m-%d")


def percent(share: float | None) -> str:
    return "n/a" if share is None else f"{share * 100:.1f}%"


def styled_text(app: App, text: str, style: str) -> Text:
    """Rich text for a DataTable cell, theme variables ('$error bold') resolved."""
    if not style:
        return Text(text)
    return Text(text, style=_resolved(app, style))


# Theme variables resolved once per theme and style: working them out takes
# longer than filling a table row.
_RESOLVED: dict[tuple[str, str], str] = {}


def _resolved(app: App, style: str) -> str:
    key = (app.theme, style)
    found = _RESOLVED.get(key)
    if found is None:
        variables = app.get_css_variables()
        words = [variables.get(w[1:], "") if w.startswith("$") else w for w in style.split()]
        found = _RESOLVED[key] = " ".join(w for w in words if w)
    return found


def failure(exc: BaseException) -> str:
    """One line for a failure shown to the user: a CsError's message, a plain
    word for a database that stopped answering, never a traceback."""
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    from cs_cli.errors import CsError

    if isinstance(exc, CsError):
        return exc.message + (f" ({exc.hint})" if exc.hint else "")
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return "the database cannot be reached"
    if isinstance(exc, SQLAlchemyError):
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        return "database error: " + (first[0] if first else type(exc).__name__)
    return f"{type(exc).__name__}: {exc}".splitlines()[0]
