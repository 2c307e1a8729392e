"""What the screens that show one scope of the book share (the dashboard,
alerts, renewals, team): the scope switch, hiding it from those who have
only one scope, and looking again in the scope."""

from __future__ import annotations

from cs_cli.services.tasks.board import scopes_for
from cs_cli.tui.screens.on_board import OnBoard


class ScopeSwitch(OnBoard):
    """A mixin for a Screen of the board app. The screen's `fetch(generation,
    scope)` reads on a worker and posts what it read with its generation."""

    # A look under way (not Widget.loading, which would cover the screen
    # with a spinner); the number of the latest look (an answer to an older
    # one, made before a scope change, is dropped).
    busy = False
    generation = 0

    def reload(self) -> None:
        """Look again in the app's scope, unless a look is under way."""
        if self.busy:
            return
        self.busy = True
        self.generation += 1
        self.fetch(self.generation, self.app.scope)

    def fetch(self, generation: int, scope: str) -> None:
        raise NotImplementedError

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # A CSM has one scope: no use showing the switch.
        return not (action == "scope" and len(scopes_for(self.app.db.actor.role)) == 1)

    def next_scope(self) -> str:
        """The scope after the app's current one, in the order the role has them."""
        scopes = scopes_for(self.app.db.actor.role)
        now = self.app.scope
        return scopes[(scopes.index(now) + 1) % len(scopes)] if now in scopes else scopes[0]
