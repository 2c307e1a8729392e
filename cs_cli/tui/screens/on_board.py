"""`self.app` typed as the board's app for the screens' mixins."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual import getters
    from textual.message_pump import MessagePump

    from cs_cli.tui.app import BoardApp

    _Pump = MessagePump
else:
    _Pump = object


class OnBoard(_Pump):
    """Mixed into every screen that reads the board app's own attributes
    (its database, scope, poll, open_customer...). Textual types `app` as
    any App; typing it here once, as Textual's own `getters.app` does,
    spares an ignore at each use. Only for type checkers: at run time this
    is a plain mixin and Textual's `app` answers (the board app's module
    imports the screens, so they cannot import it back)."""

    if TYPE_CHECKING:
        app = getters.app(BoardApp)
