"""Small charts drawn with text: a line chart in braille dots (two by four
dots a cell) with dotted threshold lines, and a bar chart in eighth blocks.

Our own rather than textual-plotext: that package has had no release since
2024 and pins plotext below 6, and its colours are plotext's, not the theme's.
These use theme variables only, so light and dark terminals read them, and
they stay readable without colour (NO_COLOR): the line is its dots, the
thresholds are labelled on the axis. Too small to draw, a chart shows its
`summary` in words instead."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

from textual.content import Content
from textual.widget import Widget

# The braille dot of (row, column) in a cell: rows top to bottom, columns left to right.
_DOT = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
_BRAILLE = 0x2800
_EIGHTHS = " ▁▂▃▄▅▆▇█"
MUTED = "$text-muted"
# Below this many cells across (or rows down) a chart says its summary instead.
MIN_WIDTH, MIN_HEIGHT = 16, 2


class LineChart(Widget):
    """Values at positions along x, joined by a line of braille dots, on a
    fixed y range with dotted lines at the thresholds. Each cell of the line
    takes the style of the lowest value drawn in it (`style_of`)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.xs: list[float] = []
        self.values: list[float] = []
        self.x_range: tuple[float, float] = (0.0, 1.0)
        self.y_range: tuple[float, float] = (0.0, 100.0)
        self.thresholds: tuple[float, ...] = ()
        self.style_of: Callable[[float], str] = lambda _v: ""
        self.x_labels: tuple[str, str] = ("", "")
        self.summary = ""

    def plot(
        self,
        points: Sequence[tuple[float, float]],
        *,
        x_range: tuple[float, float],
        y_range: tuple[float, float] = (0.0, 100.0),
        thresholds: Sequence[float] = (),
        style_of: Callable[[float], str] | None = None,
        x_labels: tuple[str, str] = ("", ""),
        summary: str = "",
    ) -> None:
        """Show `points` (x, value), oldest first."""
        self.xs = [float(x) for x, _ in points]
        self.values = [float(v) for _, v in points]
        self.x_range, self.y_range = x_range, y_range
        self.thresholds = tuple(thresholds)
        self.style_of = style_of or (lambda _v: "")
        self.x_labels = x_labels
        self.summary = summary
        self.refresh()

    def render(self) -> Content:
        width, height = self.content_size
        if width < MIN_WIDTH or height < MIN_HEIGHT or not self.values:
            return Content.styled(self.summary, MUTED)
        low, high = self.y_range
        labels = {high: f"{high:g}", low: f"{low:g}", **{t: f"{t:g}" for t in self.thresholds}}
        gutter = max(len(text) for text in labels.values()) + 1
        rows = height - 1 if height >= 4 and any(self.x_labels) else height
        cols = width - gutter
        dots_x, dots_y = cols * 2, rows * 4

        def dot_y(value: float) -> int:
            share = (high - max(low, min(high, value))) / ((high - low) or 1)
            return round(share * (dots_y - 1))

        def dot_x(x: float) -> int:
            x0, x1 = self.x_range
            share = (x - x0) / ((x1 - x0) or 1)
            return round(max(0.0, min(1.0, share)) * (dots_x - 1))

        data = [[0] * cols for _ in range(rows)]
        band = [[0] * cols for _ in range(rows)]
        # The lowest value drawn in each cell, for its style.
        worst: list[list[float | None]] = [[None] * cols for _ in range(rows)]

        def put(grid: list[list[int]], x: int, y: int) -> None:
            grid[y // 4][x // 2] |= _DOT[y % 4][x % 2]

        for t in self.thresholds:
            y = dot_y(t)
            for x in range(0, dots_x, 3):
                put(band, x, y)
        points = [(dot_x(x), dot_y(v), v) for x, v in zip(self.xs, self.values, strict=True)]
        for (x0, y0, v0), (x1, y1, v1) in itertools.pairwise(points):
            steps = max(abs(x1 - x0), abs(y1 - y0), 1)
            for k in range(steps + 1):
                x, y = round(x0 + (x1 - x0) * k / steps), round(y0 + (y1 - y0) * k / steps)
                self._mark(data, worst, x, y, v0 + (v1 - v0) * k / steps)
        if len(points) == 1:
            x, y, v = points[0]
            self._mark(data, worst, x, y, v)

        label_rows = {min(rows - 1, dot_y(v) // 4): text for v, text in labels.items()}
        lines: list[Content] = []
        for r in range(rows):
            label = label_rows.get(r)
            parts: list[tuple[str, str] | str] = [
                (f"{label:>{gutter - 1}}┤" if label else " " * (gutter - 1) + "│", MUTED)
            ]
            for c in range(cols):
                mask = data[r][c] | band[r][c]
                if not mask:
                    parts.append(" ")
                elif data[r][c]:
                    parts.append((chr(_BRAILLE | mask), self.style_of(worst[r][c] or 0.0)))
                else:
                    parts.append((chr(_BRAILLE | mask), MUTED))
            lines.append(Content.assemble(*parts))
        if rows < height:
            left, right = self.x_labels
            gap = max(1, cols - len(left) - len(right))
            lines.append(Content.styled(" " * gutter + left + " " * gap + right, MUTED))
        return Content("\n").join(lines)

    @staticmethod
    def _mark(data: list[list[int]], worst: list[list[float | None]], x: int, y: int, value: float) -> None:
        row, col = y // 4, x // 2
        data[row][col] |= _DOT[y % 4][x % 2]
        seen = worst[row][col]
        worst[row][col] = value if seen is None else min(seen, value)


class BarChart(Widget):
    """One bar per value, as tall as its share of the largest, in eighth
    blocks; the largest value labels the axis."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.values: list[int] = []
        self.x_labels: tuple[str, str] = ("", "")
        self.style = "$primary"
        self.summary = ""

    def plot(
        self,
        values: Sequence[int],
        *,
        x_labels: tuple[str, str] = ("", ""),
        style: str = "$primary",
        summary: str = "",
    ) -> None:
        self.values = list(values)
        self.x_labels = x_labels
        self.style = style
        self.summary = summary
        self.refresh()

    def render(self) -> Content:
        width, height = self.content_size
        if width < MIN_WIDTH or height < MIN_HEIGHT or not self.values:
            return Content.styled(self.summary, MUTED)
        top = max(self.values) or 1
        gutter = len(f"{top:,}") + 1
        if width - gutter < 2 * len(self.values):
            return Content.styled(self.summary, MUTED)
        rows = height - 1 if height >= 4 and any(self.x_labels) else height
        slot = max(2, (width - gutter) // len(self.values))
        bar = slot - 1
        # Eighths of a cell each bar fills.
        eighths = [round(v / top * rows * 8) if v else 0 for v in self.values]
        lines: list[Content] = []
        for r in range(rows):
            below = (rows - 1 - r) * 8
            label = f"{top:,}" if r == 0 else ("0" if r == rows - 1 else "")
            parts: list[tuple[str, str] | str] = [
                (f"{label:>{gutter - 1}}┤" if label else " " * (gutter - 1) + "│", MUTED)
            ]
            for e, v in zip(eighths, self.values, strict=True):
                fill = max(0, min(8, e - below))
                if r == rows - 1 and v and not fill:
                    fill = 1  # a week with any use shows
                parts.append((_EIGHTHS[fill] * bar, self.style))
                parts.append(" ")
            lines.append(Content.assemble(*parts))
        if rows < height:
            left, right = self.x_labels
            span = slot * len(self.values)
            gap = max(1, span - len(left) - len(right) - 1)
            lines.append(Content.styled(" " * gutter + left + " " * gap + right, MUTED))
        return Content("\n").join(lines)
