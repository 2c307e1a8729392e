"""A table of rows (the alerts feed, the renewals, the team): home and end
go to the first and the last row, as in every list of the board. Textual's
DataTable gives them to the first and last column, which a row cursor has
no use for. Named as ctrl+home and ctrl+end, so ? lists them together."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import DataTable


class RowTable(DataTable):
    BINDINGS = [
        Binding("home", "scroll_top", "Top", id="rows.first", show=False),
        Binding("end", "scroll_bottom", "Bottom", id="rows.last", show=False),
    ]
