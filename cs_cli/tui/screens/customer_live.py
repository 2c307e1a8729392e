"""Live updates of the Customer 360: while it is the screen on top, every
`board_poll` seconds a worker reads the customer's stamp (one statement,
`customer_stamp`); the 360 loads again only when it moved. And the way a
reload refills a table without losing the cursor's row."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from textual.message import Message
from textual.widgets import DataTable

from cs_cli.tui.screens.on_board import OnBoard


class StampRead(Message):
    """The live poll's stamp of the customer (None: it could not be read)."""

    def __init__(self, stamp: tuple | None) -> None:
        super().__init__()
        self.stamp = stamp


class LiveCustomer(OnBoard):
    """Mixed into the Customer 360 screen, which sets `stamp` on each load
    and reloads with `load()`."""

    # Provided by the Screen this is mixed into.
    customer: str
    view: Any
    workers: Any
    post_message: Any
    run_worker: Any
    set_interval: Any
    load: Any

    stamp: tuple | None = None
    polling = False

    def start_polling(self) -> None:
        """Look every `board_poll` seconds (the app's `poll`; 0: never, as in tests)."""
        poll = getattr(self.app, "poll", 0)
        if poll > 0:
            self.set_interval(poll, self.poll)

    def poll(self) -> None:
        """Look for changes made elsewhere while the 360 is on top, unless a
        look or a load is under way."""
        if self.polling or self.view is None or self.app.screen is not self:
            return
        if any(w.group == "c360-load" and not w.is_finished for w in self.workers):
            return
        self.polling = True
        self.run_worker(self._read_stamp, thread=True, group="c360-poll")

    def _read_stamp(self) -> None:
        from cs_cli.services.customer_stamp import customer_stamp

        try:
            stamp = self.app.db.call(customer_stamp, self.customer)
        except Exception:
            # The next look tries again; a reload says what is wrong.
            stamp = None
        self.post_message(StampRead(stamp))

    def on_stamp_read(self, message: StampRead) -> None:
        self.polling = False
        if message.stamp is not None and message.stamp != self.stamp:
            self.load()


@contextmanager
def cursor_kept(table: DataTable) -> Iterator[None]:
    """Refill a table with its cursor on the same row (by key) and its scroll kept."""
    key = None
    if table.row_count and table.is_valid_row_index(table.cursor_row):
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
    scroll = table.scroll_y
    yield
    if key is None or key not in table.rows:
        return
    table.move_cursor(row=table.get_row_index(key), scroll=False)

    def back() -> None:
        # Where it was, then as little as it takes to keep the cursor in view.
        table.scroll_to(y=scroll, animate=False)
        table.move_cursor(row=table.cursor_row)

    table.call_after_refresh(back)
