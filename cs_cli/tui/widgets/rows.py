"""A table of rows (the alerts feed, the renewals, the team): home and end
go to the first and the last row, as in every list of the board. Textual's
DataTable gives them to the first and last column, which a row cursor has
no use for. Named as ctrl+home and ctrl+end, so ? lists them together.
FitTable: one column takes the width the others leave."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey


class RowTable(DataTable):
    BINDINGS = [
        Binding("home", "scroll_top", "Top", id="rows.first", show=False),
        Binding("end", "scroll_bottom", "Bottom", id="rows.last", show=False),
    ]


class FitTable(RowTable):
    """A table one of whose columns (`stretch`, by key) takes the width the
    others leave: a subject or a title reads as far as the panel allows at
    any terminal size, rather than cut at a fixed width. The other columns
    keep the widths they were added with."""

    def __init__(self, *args, stretch: str, least: int = 12, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.stretch = stretch
        self.least = least

    def on_resize(self) -> None:
        self.fit()

    def fit(self) -> None:
        column = self.columns.get(ColumnKey(self.stretch))
        if column is None or not self.size.width:
            return
        others = sum(c.get_render_width(self) for key, c in self.columns.items() if key != column.key)
        # Room for a vertical scrollbar whether or not one shows: a table
        # that grows one must not start scrolling sideways.
        room = self.size.width - self.styles.scrollbar_size_vertical - others - 2 * self.cell_padding
        width = max(self.least, room)
        if width != column.width:
            column.width = width
            # Textual has no public call to resize a column: the widths are
            # read when the table lays its rows out again.
            self._require_update_dimensions = True
            self._clear_caches()
            self.refresh()
