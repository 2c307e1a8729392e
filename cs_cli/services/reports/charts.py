"""Charts as inline SVG: bars, stacked bars and a line, each a string to
put in an HTML page as it is (no scripts, no fonts or images from
elsewhere). Every label is escaped; every value also goes in a <title>, so
a reader hovering a bar, or a test, finds the number."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 640, 220
LEFT, BOTTOM, TOP = 48, 28, 12
COLOURS = {
    "healthy": "#2e7d32",
    "at_risk": "#f9a825",
    "critical": "#c62828",
    "other": "#9e9e9e",
    "onboarding": "#1565c0",
    "insufficient_data": "#757575",
    "not_scored": "#bdbdbd",
    "value": "#1565c0",
}


def _frame(body: list[str], title: str) -> str:
    return (
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def _axis(low: float, high: float, fmt) -> list[str]:
    """The value axis: a line at the bottom, the top and zero labelled."""
    plot = HEIGHT - BOTTOM - TOP
    out = [f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot}" stroke="#999"/>']
    for value in sorted({low, high, 0.0} if low < 0 < high else {low, high}):
        y = TOP + plot * (high - value) / (high - low or 1)
        out.append(
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">'
            f"{escape(fmt(value))}</text>"
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH}" y2="{y:.1f}" stroke="#eee"/>'
        )
    return out


def bars(items: Sequence[tuple[str, float | None]], *, title: str, fmt=lambda v: f"{v:,.0f}") -> str:
    """One bar per (label, value); None draws no bar."""
    values = [v for _, v in items if v is not None]
    high = max([0.0, *values]) or 1.0
    low = min([0.0, *values])
    return stacked(
        [(label, {"value": value or 0.0}) for label, value in items], title=title, fmt=fmt, low=low, high=high
    )


def stacked(
    items: Sequence[tuple[str, dict[str, float]]],
    *,
    title: str,
    fmt=lambda v: f"{v:,.0f}",
    low: float = 0.0,
    high: float | None = None,
) -> str:
    """One bar per label, its parts stacked in the order given (colours by part name)."""
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    top = high if high is not None else max([sum(parts.values()) for _, parts in items] + [0.0]) or 1.0
    span = top - low or 1.0
    step = plot_w / max(1, len(items))
    width = step * 0.7
    body = _axis(low, top, fmt)
    zero = TOP + plot_h * top / span
    for i, (label, parts) in enumerate(items):
        x = LEFT + 4 + i * step
        base = 0.0
        for part, value in parts.items():
            if not value:
                continue
            y0 = TOP + plot_h * (top - base) / span
            y1 = TOP + plot_h * (top - base - value) / span
            y, h = min(y0, y1), abs(y1 - y0)
            name = "" if part == "value" else f" {part.replace('_', ' ')}"
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{max(h, 0.5):.1f}" '
                f'fill="{COLOURS.get(part, "#1565c0")}"><title>{escape(label)}{escape(name)}: '
                f"{escape(fmt(value))}</title></rect>"
            )
            base += value
        body.append(
            f'<text x="{x + width / 2:.1f}" y="{HEIGHT - 10}" font-size="10" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    body.append(f'<line x1="{LEFT}" y1="{zero:.1f}" x2="{WIDTH}" y2="{zero:.1f}" stroke="#999"/>')
    return _frame(body, title)


def line(points: Sequence[tuple[str, float | None]], *, title: str, low: float, high: float, fmt=str) -> str:
    """A line through the values (a gap where one is None), a dot at each."""
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    step = plot_w / max(1, len(points))
    body = _axis(low, high, fmt)
    path: list[str] = []
    for i, (label, value) in enumerate(points):
        x = LEFT + 4 + i * step + step * 0.35
        body.append(
            f'<text x="{x:.1f}" y="{HEIGHT - 10}" font-size="10" text-anchor="middle">{escape(label)}</text>'
        )
        if value is None:
            path.append("")
            continue
        y = TOP + plot_h * (high - value) / (high - low or 1)
        path.append(f"{x:.1f},{y:.1f}")
        body.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{COLOURS["value"]}">'
            f"<title>{escape(label)}: {escape(fmt(value))}</title></circle>"
        )
    for run in " ".join(path).split("  "):
        if run.strip().count(",") > 1:
            body.append(
                f'<polyline points="{run.strip()}" fill="none" stroke="{COLOURS["value"]}" stroke-width="2"/>'
            )
    return _frame(body, title)
